// Pseudo-instructions: the expansions from the "RISC-V Assembly Programmer's
// Manual" / the unprivileged spec's pseudo-instruction tables that GNU as
// accepts. A handler returns null when the operands are in the form of the
// real instruction of the same name (`jal rd, target`, `fence rw, rw`), which
// is then parsed normally.

import type { Cursor } from './cursor.ts';
import { makeInsn, type InsnFields, type MachineInsn } from './encode.ts';
import type { Expr } from './expr.ts';
import { hi20, lo12, fitsSigned } from './relocs.ts';
import { comma, parseCsr, parseImm, parseMem, parseReg, regNumber, type ParseCtx } from './operands.ts';

type Handler = (c: Cursor, ctx: ParseCtx) => MachineInsn[] | null;

const ZERO = 0;
const RA = 1;
const T1 = 6;

/** A constant operand; it inherits the position of the source operand it came from. */
function num(v: number, at: Expr | { pos: Expr['pos'] } = NOWHERE): Expr {
  return { k: 'num', v: BigInt(v), pos: at.pos };
}

/** Constants the expansion invents (mv's 0, not's -1) never fail a range check. */
const NOWHERE = { pos: { file: '', line: 0, col: 0 } };

function pcrel(part: 'hi' | 'lo', target: Expr, ctx: ParseCtx): Expr {
  return { k: 'pcrel', part, target, at: ctx.here(), pos: target.pos };
}

/** Number of top-level comma-separated operands left in the statement. */
function operandCount(c: Cursor): number {
  if (c.atEnd()) return 0;
  let n = 1;
  let depth = 0;
  for (let k = 0; c.peek(k).kind !== 'eos'; k++) {
    const t = c.peek(k);
    if (t.kind !== 'op') continue;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (t.text === ',' && depth === 0) n++;
  }
  return n;
}

function isRegAt(c: Cursor, ahead: number): boolean {
  const t = c.peek(ahead);
  return t.kind === 'ident' && regNumber(t.text) >= 0;
}

// --- constants and addresses ----------------------------------------------

/**
 * li rd, value: one addi when the value fits 12 bits, else lui (+ addi when
 * the low part is not zero). A value not known in pass 1 (a label, a later
 * .equ) always takes lui + addi, as gas does.
 */
const li: Handler = (c, ctx) => {
  const rd = parseReg(c);
  comma(c);
  const e = parseImm(c, ctx);
  const v = ctx.constantNow(e);
  if (v === null) {
    return [
      makeInsn('lui', { rd, imm: { k: 'fn', fn: 'hi', a: e, pos: e.pos } }),
      makeInsn('addi', { rd, rs1: rd, imm: { k: 'fn', fn: 'lo', a: e, pos: e.pos } }),
    ];
  }
  if (fitsSigned(v, 12)) return [makeInsn('addi', { rd, rs1: ZERO, imm: num(v, e) })];
  const lui = makeInsn('lui', { rd, imm: num(hi20(v), e) });
  const lo = lo12(v);
  return lo === 0 ? [lui] : [lui, makeInsn('addi', { rd, rs1: rd, imm: num(lo, e) })];
};

/** la / lla rd, symbol: pc-relative auipc + addi (no GOT: there is no dynamic linking here). */
const la: Handler = (c, ctx) => {
  const rd = parseReg(c);
  comma(c);
  const target = parseImm(c, ctx);
  return [
    makeInsn('auipc', { rd, imm: pcrel('hi', target, ctx) }),
    makeInsn('addi', { rd, rs1: rd, imm: pcrel('lo', target, ctx) }),
  ];
};

/** `lw rd, symbol`: auipc rd, then the load through rd. */
export function loadSymbol(name: string, rd: number, target: Expr, ctx: ParseCtx): MachineInsn[] {
  return [
    makeInsn('auipc', { rd, imm: pcrel('hi', target, ctx) }),
    makeInsn(name, { rd, rs1: rd, imm: pcrel('lo', target, ctx) }),
  ];
}

/** `sw rs2, symbol, rt`: auipc into the scratch register rt, then the store through it. */
export function storeSymbol(name: string, rs2: number, target: Expr, rt: number, ctx: ParseCtx): MachineInsn[] {
  return [
    makeInsn('auipc', { rd: rt, imm: pcrel('hi', target, ctx) }),
    makeInsn(name, { rs1: rt, rs2, imm: pcrel('lo', target, ctx) }),
  ];
}

// --- register-register aliases ---------------------------------------------

/** `op rd, rs` -> `real rd, <operands built from rd and rs>`. */
function unary(real: string, build: (rd: number, rs: number) => InsnFields): Handler {
  return (c) => {
    const rd = parseReg(c);
    comma(c);
    return [makeInsn(real, build(rd, parseReg(c)))];
  };
}

/** `op rd, rs, rt` -> `real rd, rt, rs` (sgt, sgtu). */
function swapped(real: string): Handler {
  return (c) => {
    const rd = parseReg(c);
    comma(c);
    const rs = parseReg(c);
    comma(c);
    return [makeInsn(real, { rd, rs1: parseReg(c), rs2: rs })];
  };
}

// --- branches and jumps ------------------------------------------------------

/** Branch against zero: `op rs, target`; `zeroFirst` puts x0 as rs1 (blez, bgtz). */
function branchZero(real: string, zeroFirst: boolean): Handler {
  return (c, ctx) => {
    const rs = parseReg(c);
    comma(c);
    const imm = parseImm(c, ctx);
    return [makeInsn(real, zeroFirst ? { rs1: ZERO, rs2: rs, imm } : { rs1: rs, rs2: ZERO, imm })];
  };
}

/** bgt/ble/bgtu/bleu: the real branch with its register operands swapped. */
function branchSwapped(real: string): Handler {
  return (c, ctx) => {
    const rs = parseReg(c);
    comma(c);
    const rt = parseReg(c);
    comma(c);
    return [makeInsn(real, { rs1: rt, rs2: rs, imm: parseImm(c, ctx) })];
  };
}

const jal: Handler = (c, ctx) => (operandCount(c) === 1 ? [makeInsn('jal', { rd: RA, imm: parseImm(c, ctx) })] : null);

/** jalr rs | jalr rd, rs | jalr rd, rs, imm | jalr rd, imm(rs) | jalr imm(rs). */
const jalr: Handler = (c, ctx) => {
  const n = operandCount(c);
  if (n === 1 && isRegAt(c, 0)) return [makeInsn('jalr', { rd: RA, rs1: parseReg(c), imm: num(0) })];
  if (n === 1) {
    const m = parseMemRequired(c, ctx);
    return [makeInsn('jalr', { rd: RA, rs1: m.base, imm: m.imm })];
  }
  const rd = parseReg(c);
  comma(c);
  if (n === 3) {
    const rs1 = parseReg(c);
    comma(c);
    return [makeInsn('jalr', { rd, rs1, imm: parseImm(c, ctx) })];
  }
  if (isRegAt(c, 0) && c.peek(1).kind === 'eos') return [makeInsn('jalr', { rd, rs1: parseReg(c), imm: num(0) })];
  const m = parseMemRequired(c, ctx);
  return [makeInsn('jalr', { rd, rs1: m.base, imm: m.imm })];
};

/** jr rs | jr rs, imm | jr imm(rs): jalr with no link. */
const jr: Handler = (c, ctx) => {
  if (!isRegAt(c, 0)) {
    const m = parseMemRequired(c, ctx);
    return [makeInsn('jalr', { rd: ZERO, rs1: m.base, imm: m.imm })];
  }
  const rs1 = parseReg(c);
  if (!c.eatOp(',')) return [makeInsn('jalr', { rd: ZERO, rs1 })];
  return [makeInsn('jalr', { rd: ZERO, rs1, imm: parseImm(c, ctx) })];
};

function parseMemRequired(c: Cursor, ctx: ParseCtx): { imm: Expr; base: number } {
  const m = parseMem(c, ctx);
  if (m.base < 0) c.fail("'(register)'");
  return m;
}

/**
 * call [rd,] symbol: auipc rd + jalr rd, rd, so any target within +-2 GiB is
 * reachable. (The asm manual's expansion; some gas versions put the auipc in
 * t1 when rd is given, which changes nothing but clobbering t1.)
 */
const call: Handler = (c, ctx) => {
  let rd = RA;
  if (operandCount(c) === 2) {
    rd = parseReg(c);
    comma(c);
  }
  const target = parseImm(c, ctx);
  return [
    makeInsn('auipc', { rd, imm: pcrel('hi', target, ctx) }),
    makeInsn('jalr', { rd, rs1: rd, imm: pcrel('lo', target, ctx) }),
  ];
};

/** tail symbol: like call but through t1 and without a link (x0). */
const tail: Handler = (c, ctx) => farJump(parseImm(c, ctx), T1, ctx);

/** jump symbol, rt: tail with the scratch register named. */
const jump: Handler = (c, ctx) => {
  const target = parseImm(c, ctx);
  comma(c);
  return farJump(target, parseReg(c), ctx);
};

function farJump(target: Expr, scratch: number, ctx: ParseCtx): MachineInsn[] {
  return [
    makeInsn('auipc', { rd: scratch, imm: pcrel('hi', target, ctx) }),
    makeInsn('jalr', { rd: ZERO, rs1: scratch, imm: pcrel('lo', target, ctx) }),
  ];
}

// --- CSRs ---------------------------------------------------------------------

/** csrw/csrs/csrc csr, rs (or an immediate, which selects the *i form, as gas allows). */
function csrWrite(real: string): Handler {
  return (c, ctx) => {
    const csr = parseCsr(c, ctx);
    comma(c);
    if (isRegAt(c, 0)) return [makeInsn(real, { rd: ZERO, csr, rs1: parseReg(c) })];
    return [makeInsn(real + 'i', { rd: ZERO, csr, imm: parseImm(c, ctx) })];
  };
}

function csrWriteImm(real: string): Handler {
  return (c, ctx) => {
    const csr = parseCsr(c, ctx);
    comma(c);
    return [makeInsn(real, { rd: ZERO, csr, imm: parseImm(c, ctx) })];
  };
}

const csrr: Handler = (c, ctx) => {
  const rd = parseReg(c);
  comma(c);
  return [makeInsn('csrrs', { rd, csr: parseCsr(c, ctx), rs1: ZERO })];
};

/** rdcycle & co: csrrs rd, <counter>, x0. */
function readCounter(csrNumber: number): Handler {
  return (c) => {
    const rd = parseReg(c);
    return [makeInsn('csrrs', { rd, csr: num(csrNumber), rs1: ZERO })];
  };
}

function fixed(real: string, fields: InsnFields = {}): Handler {
  return () => [makeInsn(real, fields)];
}

export const PSEUDOS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['nop', fixed('addi')],
  ['li', li],
  ['la', la],
  ['lla', la],
  ['mv', unary('addi', (rd, rs) => ({ rd, rs1: rs, imm: num(0) }))],
  ['not', unary('xori', (rd, rs) => ({ rd, rs1: rs, imm: num(-1) }))],
  ['neg', unary('sub', (rd, rs) => ({ rd, rs1: ZERO, rs2: rs }))],
  ['seqz', unary('sltiu', (rd, rs) => ({ rd, rs1: rs, imm: num(1) }))],
  ['snez', unary('sltu', (rd, rs) => ({ rd, rs1: ZERO, rs2: rs }))],
  ['sltz', unary('slt', (rd, rs) => ({ rd, rs1: rs, rs2: ZERO }))],
  ['sgtz', unary('slt', (rd, rs) => ({ rd, rs1: ZERO, rs2: rs }))],
  ['zext.b', unary('andi', (rd, rs) => ({ rd, rs1: rs, imm: num(255) }))],
  ['sgt', swapped('slt')],
  ['sgtu', swapped('sltu')],
  ['beqz', branchZero('beq', false)],
  ['bnez', branchZero('bne', false)],
  ['blez', branchZero('bge', true)],
  ['bgez', branchZero('bge', false)],
  ['bltz', branchZero('blt', false)],
  ['bgtz', branchZero('blt', true)],
  ['bgt', branchSwapped('blt')],
  ['ble', branchSwapped('bge')],
  ['bgtu', branchSwapped('bltu')],
  ['bleu', branchSwapped('bgeu')],
  ['j', (c, ctx) => [makeInsn('jal', { rd: ZERO, imm: parseImm(c, ctx) })]],
  ['jal', jal],
  ['jr', jr],
  ['jalr', jalr],
  ['ret', fixed('jalr', { rd: ZERO, rs1: RA })],
  ['call', call],
  ['tail', tail],
  ['jump', jump],
  ['csrr', csrr],
  ['csrw', csrWrite('csrrw')],
  ['csrs', csrWrite('csrrs')],
  ['csrc', csrWrite('csrrc')],
  ['csrwi', csrWriteImm('csrrwi')],
  ['csrsi', csrWriteImm('csrrsi')],
  ['csrci', csrWriteImm('csrrci')],
  ['rdcycle', readCounter(0xc00)],
  ['rdtime', readCounter(0xc01)],
  ['rdinstret', readCounter(0xc02)],
  ['rdcycleh', readCounter(0xc80)],
  ['rdtimeh', readCounter(0xc81)],
  ['rdinstreth', readCounter(0xc82)],
  // gas's `unimp`: csrrw x0, cycle, x0 -- cycle is read-only, so it always traps.
  // fence.tso: fm = 1000, pred = succ = rw (RV32I; ordinary fence semantics on webkvm).
  ['fence.tso', fixed('fence', { fm: 8, pred: 3, succ: 3 })],
  ['unimp', fixed('csrrw', { csr: num(0xc00) })],
]);
