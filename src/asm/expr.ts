// Expressions: parsing into a tree, and evaluation.
//
// Arithmetic is done in 64-bit two's complement (BigInt), as gas does on a
// 64-bit host, so `0x80000000 >> 4` is 0x08000000 and `-16 >> 2` is -4; a
// result is narrowed to 32 bits only where it is used, and is an error there
// if it does not fit (gas would silently truncate).
//
// Before layout a label is only known as (section, offset), so pass 1
// evaluates with relocatable values: label +/- constant stays relocatable,
// the difference of two labels in one section is a constant, and anything
// else is "not known yet" (null). After layout (`final`) every value is an
// absolute address.
//
// Operator precedence is gas's, which is not C's: unary first, then
// * / % << >>, then | & ^, then + - and the comparisons, then && ||.
// As in gas, a true comparison is -1 and a true && or || is 1.

import { AsmError, type SrcPos } from './errors.ts';
import type { Cursor } from './cursor.ts';
import type { Token } from './lexer.ts';
import { hi20, lo12, type PcrelHiTable } from './relocs.ts';
import type { Section } from './sections.ts';

export type RelocFn = 'hi' | 'lo' | 'pcrel_hi' | 'pcrel_lo';
const RELOC_FNS: readonly RelocFn[] = ['hi', 'lo', 'pcrel_hi', 'pcrel_lo'];

export type Expr =
  | { readonly k: 'num'; readonly v: bigint; readonly pos: SrcPos }
  /** A symbol; `display` is how the source spelled it (numeric labels: "1f"). */
  | { readonly k: 'sym'; readonly name: string; readonly display: string; readonly pos: SrcPos }
  /** A place in a section: `.` or a snapshot of a relocatable symbol value. */
  | { readonly k: 'loc'; readonly sec: Section; readonly off: number; readonly pos: SrcPos }
  | { readonly k: 'un'; readonly op: string; readonly a: Expr; readonly pos: SrcPos }
  | { readonly k: 'bin'; readonly op: string; readonly a: Expr; readonly b: Expr; readonly pos: SrcPos }
  /** %hi(a), %lo(a), %pcrel_hi(a), %pcrel_lo(label) written in the source. */
  | { readonly k: 'fn'; readonly fn: RelocFn; readonly a: Expr; readonly pos: SrcPos }
  /** Internal (la, call, lw sym...): hi or lo part of `target - at`. */
  | { readonly k: 'pcrel'; readonly part: 'hi' | 'lo'; readonly target: Expr; readonly at: Expr; readonly pos: SrcPos };

export interface Value {
  /** Offset in `sec`, or the absolute value when `sec` is null. */
  readonly v: bigint;
  readonly sec: Section | null;
}

/** Builds the node for a name, `.` or numeric label reference as it stands in pass 1. */
export type RefResolver = (tok: Token) => Expr;

// ---------------------------------------------------------------------------
// Parsing

const COMPARISONS = ['==', '!=', '<>', '<', '>', '<=', '>='];

const LEVELS: readonly (readonly string[])[] = [
  ['&&', '||'],
  ['+', '-', ...COMPARISONS],
  ['|', '&', '^'],
  ['*', '/', '%', '<<', '>>'],
];

export function parseExpr(c: Cursor, ref: RefResolver): Expr {
  return parseLevel(c, ref, 0);
}

function parseLevel(c: Cursor, ref: RefResolver, level: number): Expr {
  if (level === LEVELS.length) return parseUnary(c, ref);
  let left = parseLevel(c, ref, level + 1);
  for (;;) {
    const t = c.peek();
    if (t.kind !== 'op' || !LEVELS[level].includes(t.text)) return left;
    c.next();
    const right = parseLevel(c, ref, level + 1);
    left = { k: 'bin', op: t.text, a: left, b: right, pos: t.pos };
  }
}

function parseUnary(c: Cursor, ref: RefResolver): Expr {
  const t = c.peek();
  if (t.kind === 'op' && (t.text === '-' || t.text === '+' || t.text === '~' || t.text === '!')) {
    c.next();
    return { k: 'un', op: t.text, a: parseUnary(c, ref), pos: t.pos };
  }
  return parsePrimary(c, ref);
}

function parsePrimary(c: Cursor, ref: RefResolver): Expr {
  const t = c.peek();
  switch (t.kind) {
    case 'num':
      c.next();
      return { k: 'num', v: t.big ?? BigInt(t.value), pos: t.pos };
    case 'ident':
    case 'localref':
      c.next();
      return ref(t);
    case 'macroarg':
      throw new AsmError(t.pos, `macro argument '\\${t.text}' used outside a macro body`);
    case 'op':
      if (t.text === '(') {
        c.next();
        const inner = parseExpr(c, ref);
        c.expectOp(')');
        return inner;
      }
      if (t.text === '%') return parseRelocFn(c, ref);
  }
  return c.fail('an expression');
}

function parseRelocFn(c: Cursor, ref: RefResolver): Expr {
  const pct = c.next();
  const name = c.peek();
  const fn = RELOC_FNS.find((f) => f === name.text);
  if (name.kind !== 'ident' || fn === undefined) {
    throw new AsmError(name.pos, `expected %hi, %lo, %pcrel_hi or %pcrel_lo, found '%${name.text}'`);
  }
  c.next();
  c.expectOp('(');
  const a = parseExpr(c, ref);
  c.expectOp(')');
  return { k: 'fn', fn, a, pos: pct.pos };
}

// ---------------------------------------------------------------------------
// Evaluation

export interface EvalEnv {
  /** After layout: every value is an absolute address, unknown symbols are errors. */
  readonly final: boolean;
  /** A symbol's value, or null if not known yet (only when !final). */
  symbol(name: string, display: string, pos: SrcPos): Value | null;
  /** Address of the instruction being encoded, for %pcrel_hi (final only). */
  readonly pc: number;
  /** auipc address -> its pc-relative offset, for %pcrel_lo (final only). */
  readonly pcrelHi: PcrelHiTable;
}

const wrap64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const abs = (v: bigint): Value => ({ v: wrap64(v), sec: null });

export function evaluate(e: Expr, env: EvalEnv): Value | null {
  switch (e.k) {
    case 'num':
      return abs(e.v);
    case 'sym':
      return env.symbol(e.name, e.display, e.pos);
    case 'loc':
      return env.final ? abs(BigInt(e.sec.addr + e.off)) : { v: BigInt(e.off), sec: e.sec };
    case 'un':
      return evalUnary(e.op, evaluate(e.a, env));
    case 'bin':
      return evalBinary(e, evaluate(e.a, env), evaluate(e.b, env));
    case 'fn':
      return evalRelocFn(e, env);
    case 'pcrel':
      return evalPcrel(e, env);
  }
}

function evalUnary(op: string, a: Value | null): Value | null {
  if (a === null || a.sec !== null) return null;
  if (op === '-') return abs(-a.v);
  if (op === '~') return abs(~a.v);
  if (op === '!') return abs(a.v === 0n ? 1n : 0n);
  return a;
}

function evalBinary(e: Expr & { k: 'bin' }, a: Value | null, b: Value | null): Value | null {
  if (a === null || b === null) return null;
  if (e.op === '+') {
    if (a.sec !== null && b.sec !== null) return null;
    return { v: wrap64(a.v + b.v), sec: a.sec ?? b.sec };
  }
  if (e.op === '-') {
    if (b.sec !== null && a.sec !== b.sec) return null; // abs - rel, or across sections
    return { v: wrap64(a.v - b.v), sec: b.sec === null ? a.sec : null };
  }
  if (COMPARISONS.includes(e.op)) return a.sec === b.sec ? abs(compare(e.op, a.v, b.v) ? -1n : 0n) : null;
  if (a.sec !== null || b.sec !== null) return null;
  return abs(arith(e.op, a.v, b.v, e.pos));
}

function compare(op: string, a: bigint, b: bigint): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    case '>=':
      return a >= b;
    default: // != and <>
      return a !== b;
  }
}

function arith(op: string, a: bigint, b: bigint, pos: SrcPos): bigint {
  switch (op) {
    case '*':
      return a * b;
    case '/':
    case '%':
      if (b === 0n) throw new AsmError(pos, `division by zero in expression`);
      return op === '/' ? a / b : a % b; // truncating, as C and gas
    case '<<':
      return b < 0n || b > 63n ? 0n : a << b;
    case '>>':
      return b < 0n || b > 63n ? (a < 0n ? -1n : 0n) : a >> b;
    case '&':
      return a & b;
    case '|':
      return a | b;
    case '^':
      return a ^ b;
    case '&&':
      return a !== 0n && b !== 0n ? 1n : 0n;
    case '||':
      return a !== 0n || b !== 0n ? 1n : 0n;
  }
  throw new AsmError(pos, `unknown operator '${op}'`);
}

function evalRelocFn(e: Expr & { k: 'fn' }, env: EvalEnv): Value | null {
  const a = evaluate(e.a, env);
  if (a === null || a.sec !== null) return null;
  const x = toInt32(a.v, e.a.pos);
  switch (e.fn) {
    case 'hi':
      return abs(BigInt(hi20(x)));
    case 'lo':
      return abs(BigInt(lo12(x)));
    case 'pcrel_hi':
      return env.final ? abs(BigInt(hi20((x - env.pc) | 0))) : null;
    case 'pcrel_lo':
      return env.final ? abs(BigInt(lo12(pcrelLoOffset(x, env, e.pos)))) : null;
  }
}

function pcrelLoOffset(labelAddr: number, env: EvalEnv, pos: SrcPos): number {
  const off = env.pcrelHi.get(labelAddr >>> 0);
  if (off === undefined) {
    throw new AsmError(
      pos,
      `expected %pcrel_lo's operand to be the label of an 'auipc rd, %pcrel_hi(symbol)', found address 0x${(labelAddr >>> 0).toString(16)} with no such auipc`,
    );
  }
  return off;
}

function evalPcrel(e: Expr & { k: 'pcrel' }, env: EvalEnv): Value | null {
  if (!env.final) return null;
  const target = evaluate(e.target, env);
  const at = evaluate(e.at, env);
  if (target === null || at === null) return null;
  const delta = (toInt32(target.v, e.target.pos) - toInt32(at.v, e.at.pos)) | 0;
  return abs(BigInt(e.part === 'hi' ? hi20(delta) : lo12(delta)));
}

/**
 * Narrow to a 32-bit quantity: anything in [-2^31, 2^32) is accepted (a
 * negative number or an unsigned one, as gas does on RV32); returned as int32.
 */
export function toInt32(v: bigint, pos: SrcPos): number {
  if (v < -0x80000000n || v > 0xffffffffn) {
    const shown = v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
    throw new AsmError(pos, `expected a 32-bit value, found ${shown}`);
  }
  return Number(BigInt.asIntN(32, v));
}

/** The first symbol an expression refers to (for messages). */
export function firstSymbol(e: Expr): (Expr & { k: 'sym' }) | undefined {
  switch (e.k) {
    case 'sym':
      return e;
    case 'un':
    case 'fn':
      return firstSymbol(e.a);
    case 'bin':
      return firstSymbol(e.a) ?? firstSymbol(e.b);
    case 'pcrel':
      return firstSymbol(e.target);
    default:
      return undefined;
  }
}
