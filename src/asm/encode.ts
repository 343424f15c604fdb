// Machine instructions: the operand fields pass 1 collects, the range checks
// applied once the immediate is known, and packing the fields into a word
// according to the instruction's format in the shared table (src/cpu/isa.ts).

import { Fmt, INSNS, insnIndex, type InsnDef } from '../cpu/isa.ts';
import { AsmError, type SrcPos } from './errors.ts';
import type { Expr } from './expr.ts';
import { fitsSigned } from './relocs.ts';

/** One 32-bit instruction, with operands still symbolic where pass 1 could not know them. */
export interface MachineInsn {
  /** Index into INSNS. */
  readonly idx: number;
  readonly rd: number;
  readonly rs1: number;
  readonly rs2: number;
  /** Immediate, shift amount, 5-bit CSR immediate, or branch/jump target address. */
  readonly imm: Expr | null;
  /** CSR number (Fmt.CSR / Fmt.CSRI). */
  readonly csr: Expr | null;
  /** AMO ordering bits: aq = 2, rl = 1 (placed at bits 26:25). */
  readonly aqrl: number;
  /** FENCE predecessor and successor sets (bit 3 i, 2 o, 1 r, 0 w) and fm. */
  readonly pred: number;
  readonly succ: number;
  readonly fm: number;
}

export type InsnFields = Partial<Omit<MachineInsn, 'idx'>>;

/** Build an instruction by mnemonic; unset fields are zero. */
export function makeInsn(name: string, f: InsnFields = {}): MachineInsn {
  const idx = insnIndex(name);
  if (idx < 0) throw new Error(`internal: '${name}' is not in the instruction table`);
  return {
    idx,
    rd: f.rd ?? 0,
    rs1: f.rs1 ?? 0,
    rs2: f.rs2 ?? 0,
    imm: f.imm ?? null,
    csr: f.csr ?? null,
    aqrl: f.aqrl ?? 0,
    pred: f.pred ?? 0,
    succ: f.succ ?? 0,
    fm: f.fm ?? 0,
  };
}

function rangeError(pos: SrcPos, what: string, value: number): never {
  throw new AsmError(pos, `immediate out of range: expected ${what}, found ${value}`);
}

/**
 * Check an immediate against its field and return what goes into the field.
 * For branches and jumps `value` is the target address and the result is the
 * offset from `pc`.
 */
export function checkImmediate(def: InsnDef, value: number, pc: number, pos: SrcPos): number {
  switch (def.fmt) {
    case Fmt.I:
    case Fmt.LOAD:
    case Fmt.STORE:
      if (!fitsSigned(value, 12)) rangeError(pos, 'a signed 12-bit value in -2048..2047', value);
      return value;
    case Fmt.SHIFT:
      if (value < 0 || value > 31) rangeError(pos, 'a shift amount in 0..31', value);
      return value;
    case Fmt.CSRI:
      if (value < 0 || value > 31) rangeError(pos, 'an unsigned 5-bit value in 0..31', value);
      return value;
    case Fmt.U:
      if (value < 0 || value > 0xfffff) rangeError(pos, 'an unsigned 20-bit value in 0..0xfffff', value);
      return value;
    case Fmt.B:
      return branchOffset(value, pc, 13, pos);
    case Fmt.J:
      return branchOffset(value, pc, 21, pos);
    default:
      return value;
  }
}

function hex(x: number): string {
  return '0x' + (x >>> 0).toString(16);
}

/**
 * Offset from pc to target for a branch (13-bit) or jal (21-bit). Without
 * compressed instructions every instruction is 4-byte aligned, so a target
 * that is not would only ever raise an instruction-address-misaligned trap:
 * almost certainly a bug in the program, so it is reported here.
 */
function branchOffset(target: number, pc: number, bits: number, pos: SrcPos): number {
  const off = (target - pc) | 0;
  const kind = bits === 13 ? 'branch' : 'jump';
  if ((off & 3) !== 0) {
    throw new AsmError(
      pos,
      `misaligned ${kind} target: expected a 4-byte aligned address (webkvm has no compressed instructions), found ${hex(target)}`,
    );
  }
  if (!fitsSigned(off, bits)) {
    const lim = 2 ** (bits - 1);
    throw new AsmError(
      pos,
      `${kind} target out of range: expected an offset in ${-lim}..${lim - 2}, found ${off} (from ${hex(pc)} to ${hex(target)})`,
    );
  }
  return off;
}

// ---------------------------------------------------------------------------
// Bit packing (values already range-checked).

const rd = (r: number): number => r << 7;
const rs1 = (r: number): number => r << 15;
const rs2 = (r: number): number => r << 20;

function typeI(imm: number): number {
  return (imm & 0xfff) << 20;
}

function typeS(imm: number): number {
  return (((imm >> 5) & 0x7f) << 25) | ((imm & 0x1f) << 7);
}

function typeB(off: number): number {
  return (
    (((off >> 12) & 1) << 31) |
    (((off >> 5) & 0x3f) << 25) |
    (((off >> 1) & 0xf) << 8) |
    (((off >> 11) & 1) << 7)
  );
}

function typeJ(off: number): number {
  return (
    (((off >> 20) & 1) << 31) |
    (((off >> 1) & 0x3ff) << 21) |
    (((off >> 11) & 1) << 20) |
    (off & 0xff000)
  );
}

/** Pack an instruction. `imm` is the checked field value (offset for B/J), `csr` the CSR number. */
export function encode(m: MachineInsn, imm: number, csr: number): number {
  const def = INSNS[m.idx];
  let w = def.match;
  switch (def.fmt) {
    case Fmt.R:
      w |= rd(m.rd) | rs1(m.rs1) | rs2(m.rs2);
      break;
    case Fmt.I:
    case Fmt.LOAD:
      w |= rd(m.rd) | rs1(m.rs1) | typeI(imm);
      break;
    case Fmt.SHIFT:
      w |= rd(m.rd) | rs1(m.rs1) | (imm << 20);
      break;
    case Fmt.S:
    case Fmt.STORE:
      w |= rs1(m.rs1) | rs2(m.rs2) | typeS(imm);
      break;
    case Fmt.B:
      w |= rs1(m.rs1) | rs2(m.rs2) | typeB(imm);
      break;
    case Fmt.U:
      w |= rd(m.rd) | (imm << 12);
      break;
    case Fmt.J:
      w |= rd(m.rd) | typeJ(imm);
      break;
    case Fmt.CSR:
      w |= rd(m.rd) | rs1(m.rs1) | (csr << 20);
      break;
    case Fmt.CSRI:
      w |= rd(m.rd) | rs1(imm) | (csr << 20);
      break;
    case Fmt.AMO:
      w |= rd(m.rd) | rs1(m.rs1) | rs2(m.rs2) | (m.aqrl << 25);
      break;
    case Fmt.LR:
      w |= rd(m.rd) | rs1(m.rs1) | (m.aqrl << 25);
      break;
    case Fmt.FENCE:
      w |= (m.fm << 28) | (m.pred << 24) | (m.succ << 20);
      break;
    case Fmt.SFENCE:
      w |= rs1(m.rs1) | rs2(m.rs2);
      break;
    case Fmt.NONE:
      break;
  }
  return w >>> 0;
}
