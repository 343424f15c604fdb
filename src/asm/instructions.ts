// Parsing an instruction statement into machine instructions (pass 1).
// Pseudo-instructions are tried first (pseudo.ts); everything else is parsed
// generically from the operand format in the shared encoding table.

import { Fmt, INSNS, insnIndex } from '../cpu/isa.ts';
import { AsmError } from './errors.ts';
import type { Cursor } from './cursor.ts';
import { makeInsn, type MachineInsn } from './encode.ts';
import type { Token } from './lexer.ts';
import { comma, parseAmoAddress, parseCsr, parseFenceSet, parseImm, parseMem, parseReg, type ParseCtx } from './operands.ts';
import { PSEUDOS, loadSymbol, storeSymbol } from './pseudo.ts';

/** Parse one instruction (mnemonic already read) into the words it assembles to. */
export function parseInstruction(mnemonic: Token, c: Cursor, ctx: ParseCtx): MachineInsn[] {
  const name = mnemonic.text.toLowerCase();
  const pseudo = PSEUDOS.get(name);
  if (pseudo !== undefined) {
    const start = c.index;
    const out = pseudo(c, ctx);
    if (out !== null) {
      c.expectEnd();
      return out;
    }
    c.index = start; // not the pseudo's form: parse it as the real instruction
  }
  const out = parseReal(name, mnemonic, c, ctx);
  c.expectEnd();
  return out;
}

/** Split `amoadd.w.aqrl` into the table name and its aq/rl bits. */
function splitOrdering(name: string): { base: string; aqrl: number } {
  const m = /^(.+\.w)\.(aq|rl|aqrl)$/.exec(name);
  if (m === null) return { base: name, aqrl: 0 };
  return { base: m[1], aqrl: m[2] === 'aq' ? 2 : m[2] === 'rl' ? 1 : 3 };
}

function parseReal(name: string, mnemonic: Token, c: Cursor, ctx: ParseCtx): MachineInsn[] {
  const { base, aqrl } = splitOrdering(name);
  const idx = insnIndex(base);
  const def = idx < 0 ? undefined : INSNS[idx];
  if (def === undefined || (aqrl !== 0 && def.fmt !== Fmt.AMO && def.fmt !== Fmt.LR)) {
    throw new AsmError(
      mnemonic.pos,
      `expected an RV32IMA, Zicsr, Zifencei or privileged instruction, found unknown mnemonic '${mnemonic.text}'`,
    );
  }
  switch (def.fmt) {
    case Fmt.R:
      return [rType(base, c)];
    case Fmt.I:
    case Fmt.SHIFT:
      return [iType(base, c, ctx)];
    case Fmt.U: {
      const rd = parseReg(c);
      comma(c);
      return [makeInsn(base, { rd, imm: parseImm(c, ctx) })];
    }
    case Fmt.B:
      return [bType(base, c, ctx)];
    case Fmt.J: {
      const rd = parseReg(c);
      comma(c);
      return [makeInsn(base, { rd, imm: parseImm(c, ctx) })];
    }
    case Fmt.LOAD:
      return load(base, c, ctx);
    case Fmt.STORE:
    case Fmt.S:
      return store(base, c, ctx);
    case Fmt.CSR:
    case Fmt.CSRI:
      return [csr(base, def.fmt, c, ctx)];
    case Fmt.AMO:
      return [amo(base, aqrl, c, ctx)];
    case Fmt.LR: {
      const rd = parseReg(c);
      comma(c);
      return [makeInsn(base, { rd, rs1: parseAmoAddress(c, ctx), aqrl })];
    }
    case Fmt.FENCE:
      return [fence(c)];
    case Fmt.SFENCE:
      return [sfence(c)];
    case Fmt.NONE:
      return [makeInsn(base)];
  }
}

function rType(name: string, c: Cursor): MachineInsn {
  const rd = parseReg(c);
  comma(c);
  const rs1 = parseReg(c);
  comma(c);
  return makeInsn(name, { rd, rs1, rs2: parseReg(c) });
}

function iType(name: string, c: Cursor, ctx: ParseCtx): MachineInsn {
  const rd = parseReg(c);
  comma(c);
  const rs1 = parseReg(c);
  comma(c);
  return makeInsn(name, { rd, rs1, imm: parseImm(c, ctx) });
}

function bType(name: string, c: Cursor, ctx: ParseCtx): MachineInsn {
  const rs1 = parseReg(c);
  comma(c);
  const rs2 = parseReg(c);
  comma(c);
  return makeInsn(name, { rs1, rs2, imm: parseImm(c, ctx) });
}

/** `lw rd, imm(rs1)`, or `lw rd, symbol` = auipc rd + lw rd, lo(rd). */
function load(name: string, c: Cursor, ctx: ParseCtx): MachineInsn[] {
  const rd = parseReg(c);
  comma(c);
  const { imm, base } = parseMem(c, ctx);
  if (base >= 0) return [makeInsn(name, { rd, rs1: base, imm })];
  return loadSymbol(name, rd, imm, ctx);
}

/** `sw rs2, imm(rs1)`, or `sw rs2, symbol, rt` = auipc rt + sw rs2, lo(rt). */
function store(name: string, c: Cursor, ctx: ParseCtx): MachineInsn[] {
  const rs2 = parseReg(c);
  comma(c);
  const { imm, base } = parseMem(c, ctx);
  if (base >= 0) return [makeInsn(name, { rs1: base, rs2, imm })];
  if (!c.isOp(',')) c.fail(`'(register)' or ', temp register' (${name} to a symbol needs a scratch register)`);
  comma(c);
  return storeSymbol(name, rs2, imm, parseReg(c), ctx);
}

function csr(name: string, fmt: Fmt, c: Cursor, ctx: ParseCtx): MachineInsn {
  const rd = parseReg(c);
  comma(c);
  const csrExpr = parseCsr(c, ctx);
  comma(c);
  if (fmt === Fmt.CSRI) return makeInsn(name, { rd, csr: csrExpr, imm: parseImm(c, ctx) });
  return makeInsn(name, { rd, csr: csrExpr, rs1: parseReg(c) });
}

function amo(name: string, aqrl: number, c: Cursor, ctx: ParseCtx): MachineInsn {
  const rd = parseReg(c);
  comma(c);
  const rs2 = parseReg(c);
  comma(c);
  return makeInsn(name, { rd, rs2, rs1: parseAmoAddress(c, ctx), aqrl });
}

/** `fence` alone means `fence iorw, iorw`. */
function fence(c: Cursor): MachineInsn {
  if (c.atEnd()) return makeInsn('fence', { pred: 15, succ: 15 });
  const pred = parseFenceSet(c);
  comma(c);
  return makeInsn('fence', { pred, succ: parseFenceSet(c) });
}

/** sfence.vma [rs1 [, rs2]]: omitted registers are x0 (all addresses / all ASIDs). */
function sfence(c: Cursor): MachineInsn {
  if (c.atEnd()) return makeInsn('sfence.vma');
  const rs1 = parseReg(c);
  if (!c.eatOp(',')) return makeInsn('sfence.vma', { rs1 });
  return makeInsn('sfence.vma', { rs1, rs2: parseReg(c) });
}
