// Operand parsers shared by real and pseudo-instructions: registers,
// immediates, `imm(reg)` memory operands, CSRs and fence sets.

import { CSR_NUMBERS, REG_NAMES } from '../cpu/isa.ts';
import { AsmError } from './errors.ts';
import type { Cursor } from './cursor.ts';
import { parseExpr, type Expr, type RefResolver } from './expr.ts';

/** What instruction parsers need from the assembler while in pass 1. */
export interface ParseCtx {
  readonly ref: RefResolver;
  /** The location of the statement being parsed (the first instruction it emits). */
  here(): Expr;
  /** The value of `e` if it is already a known absolute constant, else null. */
  constantNow(e: Expr): number | null;
}

const REGS: ReadonlyMap<string, number> = buildRegMap();

function buildRegMap(): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < 32; i++) {
    m.set(`x${i}`, i);
    m.set(REG_NAMES[i], i);
  }
  m.set('fp', 8);
  return m;
}

/** Register number for a name (x0..x31, ABI names, fp), or -1. */
export function regNumber(name: string): number {
  return REGS.get(name) ?? -1;
}

export function parseReg(c: Cursor): number {
  const t = c.peek();
  const r = t.kind === 'ident' ? regNumber(t.text) : -1;
  if (r < 0) c.fail('a register');
  c.next();
  return r;
}

export function comma(c: Cursor): void {
  c.expectOp(',');
}

/** An immediate expression; a register here is a common slip, so it gets its own message. */
export function parseImm(c: Cursor, ctx: ParseCtx): Expr {
  const t = c.peek();
  if (t.kind === 'ident' && regNumber(t.text) >= 0 && (c.isOp(',', 1) || c.peek(1).kind === 'eos')) {
    c.fail('an immediate or symbol');
  }
  return parseExpr(c, ctx.ref);
}

/** `(reg)` exactly, at the cursor? (Otherwise a parenthesis starts an expression.) */
function atBareBase(c: Cursor): boolean {
  return c.isOp('(') && c.peek(1).kind === 'ident' && regNumber(c.peek(1).text) >= 0 && c.isOp(')', 2);
}

function parseBase(c: Cursor): number {
  c.expectOp('(');
  const r = parseReg(c);
  c.expectOp(')');
  return r;
}

/** `imm(reg)`, `(reg)`, or a bare expression (base = -1: the `lw rd, symbol` form). */
export function parseMem(c: Cursor, ctx: ParseCtx): { imm: Expr; base: number } {
  if (atBareBase(c)) return { imm: zero(c), base: parseBase(c) };
  const imm = parseImm(c, ctx);
  if (!c.isOp('(')) return { imm, base: -1 };
  return { imm, base: parseBase(c) };
}

/** `(reg)` for AMOs; gas also accepts an explicit `0(reg)`. */
export function parseAmoAddress(c: Cursor, ctx: ParseCtx): number {
  if (atBareBase(c)) return parseBase(c);
  const t = c.peek();
  const imm = parseExpr(c, ctx.ref);
  if (ctx.constantNow(imm) !== 0) throw new AsmError(t.pos, `expected '(register)' with no offset for an atomic, found '${t.text}'`);
  return parseBase(c);
}

function zero(c: Cursor): Expr {
  return { k: 'num', v: 0n, pos: c.peek().pos };
}

/** A CSR: a standard name, or any expression giving its number. */
export function parseCsr(c: Cursor, ctx: ParseCtx): Expr {
  const t = c.peek();
  const num = t.kind === 'ident' ? CSR_NUMBERS.get(t.text) : undefined;
  if (num !== undefined && (c.isOp(',', 1) || c.peek(1).kind === 'eos')) {
    c.next();
    return { k: 'num', v: BigInt(num), pos: t.pos };
  }
  if (t.kind === 'ident' && regNumber(t.text) >= 0) c.fail('a CSR name or number');
  return parseExpr(c, ctx.ref);
}

/** A fence set: letters from "iorw" (each at most once) or 0. Returns bits i=8 o=4 r=2 w=1. */
export function parseFenceSet(c: Cursor): number {
  const t = c.peek();
  if (t.kind === 'num' && t.value === 0) {
    c.next();
    return 0;
  }
  if (t.kind !== 'ident' || !/^[iorw]+$/.test(t.text) || new Set(t.text).size !== t.text.length) {
    c.fail("a fence set made of the letters i, o, r, w (e.g. 'rw')");
  }
  c.next();
  let bits = 0;
  for (const ch of t.text) bits |= 8 >> 'iorw'.indexOf(ch);
  return bits;
}
