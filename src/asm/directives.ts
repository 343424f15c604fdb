// Assembler directives (pass 1): sections, data, alignment, symbols.
// Semantics follow GNU as for RISC-V; in particular `.align n` means 2^n
// bytes on RISC-V (like .p2align), not n bytes.

import { AsmError } from './errors.ts';
import type { Cursor } from './cursor.ts';
import { parseExpr, type Expr } from './expr.ts';
import type { Token } from './lexer.ts';
import type { Pass1 } from './pass1.ts';
import { parseFlagString, type SectionFlags } from './sections.ts';

type Directive = (c: Cursor, st: Pass1, tok: Token) => void;

/** Largest alignment accepted: 2^24 = 16 MiB (Sv32 megapages need 4 MiB). */
const MAX_ALIGN_LOG2 = 24;

function expr(c: Cursor, st: Pass1): Expr {
  return parseExpr(c, st.ref);
}

/** Parse comma-separated items until the end of the statement. */
function list(c: Cursor, item: () => void): void {
  if (c.atEnd()) return;
  do item();
  while (c.eatOp(','));
  c.expectEnd();
}

function symbolName(c: Cursor): Token {
  const t = c.peek();
  if (t.kind !== 'ident') c.fail('a symbol name');
  return c.next();
}

// --- sections ----------------------------------------------------------------------

function simpleSection(name: string): Directive {
  return (c, st, tok) => {
    // `.text 1` subsections are not supported; only the plain form is.
    c.expectEnd();
    st.switchSection(name, undefined, tok.pos);
  };
}

/** .section NAME [, "flags" [, @type]] */
const section: Directive = (c, st, tok) => {
  const name = sectionName(c);
  let flags: SectionFlags | undefined;
  if (c.eatOp(',')) flags = sectionFlags(c, name);
  c.expectEnd();
  st.switchSection(name, flags, tok.pos);
};

/** A quoted name, or an unquoted one that may contain '-' (".note.GNU-stack"): adjacent tokens joined. */
function sectionName(c: Cursor): string {
  const first = c.next();
  if (first.kind === 'str') return first.text;
  if (first.kind !== 'ident') c.fail('a section name', first);
  let name = first.text;
  let last = first;
  for (;;) {
    const t = c.peek();
    const adjacent = t.pos.line === last.pos.line && t.pos.col === last.pos.col + last.len;
    if (!adjacent || t.kind === 'eos' || (t.kind === 'op' && t.text === ',')) return name;
    name += t.text;
    last = c.next();
  }
}

function sectionFlags(c: Cursor, name: string): SectionFlags {
  const f = c.peek();
  if (f.kind !== 'str') c.fail('a flags string such as "ax" or "aw"');
  c.next();
  let nobits = name === '.bss' || name.startsWith('.bss.') || name.startsWith('.sbss');
  if (c.eatOp(',')) {
    if (!c.eatOp('@') && !c.eatOp('%')) c.fail("'@progbits' or '@nobits'");
    const type = c.next();
    if (type.text !== 'progbits' && type.text !== 'nobits') c.fail("'progbits' or 'nobits'", type);
    nobits = type.text === 'nobits';
    while (c.eatOp(',')) c.next(); // entity size / group name: not used here
  }
  const parsed = parseFlagString(f.text, nobits);
  if (typeof parsed === 'string') throw new AsmError(f.pos, `expected section flags from "awx", found '${parsed}'`);
  return parsed;
}

// --- data ----------------------------------------------------------------------------

function data(width: 1 | 2 | 4 | 8): Directive {
  return (c, st) =>
    list(c, () => {
      const pos = c.peek().pos;
      st.emitData(width, expr(c, st), pos);
    });
}

function strings(zeroTerminated: boolean): Directive {
  return (c, st) =>
    list(c, () => {
      const t = c.peek();
      if (t.kind !== 'str') c.fail('a string');
      c.next();
      const bytes = Uint8Array.from(t.text, (ch) => ch.charCodeAt(0) & 0xff);
      st.emitBytes(zeroTerminated ? Uint8Array.from([...bytes, 0]) : bytes, t.pos);
    });
}

/** .space / .skip / .zero size [, fill] */
const space: Directive = (c, st, tok) => {
  const size = st.constantOrFail(expr(c, st), tok.text);
  let fill = 0;
  if (c.eatOp(',')) fill = st.constantOrFail(expr(c, st), `${tok.text}'s fill byte`) & 0xff;
  c.expectEnd();
  if (size < 0) throw new AsmError(tok.pos, `expected a non-negative size for ${tok.text}, found ${size}`);
  st.emitBytes(new Uint8Array(size).fill(fill), tok.pos);
};

/** .fill repeat [, size [, value]]: size bytes of value (little-endian), repeat times. */
const fill: Directive = (c, st, tok) => {
  const repeat = st.constantOrFail(expr(c, st), '.fill repeat count');
  let size = 1;
  let value = 0;
  if (c.eatOp(',')) size = st.constantOrFail(expr(c, st), '.fill size');
  if (c.eatOp(',')) value = st.constantOrFail(expr(c, st), '.fill value');
  c.expectEnd();
  if (repeat < 0) throw new AsmError(tok.pos, `expected a non-negative repeat count for .fill, found ${repeat}`);
  if (size < 0 || size > 8) throw new AsmError(tok.pos, `expected a .fill size in 0..8, found ${size}`);
  const unit = new Uint8Array(size);
  for (let k = 0; k < Math.min(size, 4); k++) unit[k] = (value >>> (8 * k)) & 0xff; // bytes above 4 are zero, as gas
  const out = new Uint8Array(repeat * size);
  for (let k = 0; k < repeat; k++) out.set(unit, k * size);
  st.emitBytes(out, tok.pos);
};

// --- alignment and location ----------------------------------------------------------

/** .align / .p2align n [, fill [, max]] (log2), or .balign n [, fill [, max]] (bytes). */
function align(log2: boolean): Directive {
  return (c, st, tok) => {
    const n = st.constantOrFail(expr(c, st), tok.text);
    let fillByte: number | null = null;
    let max: number | null = null;
    if (c.eatOp(',')) {
      if (!c.isOp(',')) fillByte = st.constantOrFail(expr(c, st), `${tok.text}'s fill byte`) & 0xff;
      if (c.eatOp(',')) max = st.constantOrFail(expr(c, st), `${tok.text}'s maximum`);
    }
    c.expectEnd();
    const bytes = log2 ? alignLog2(n, tok) : alignBytes(n, tok);
    st.alignTo(bytes, fillByte, max, tok.pos);
  };
}

function alignLog2(n: number, tok: Token): number {
  if (n < 0 || n > MAX_ALIGN_LOG2) {
    throw new AsmError(tok.pos, `expected ${tok.text} to be given a power of two exponent in 0..${MAX_ALIGN_LOG2}, found ${n}`);
  }
  return 2 ** n;
}

function alignBytes(n: number, tok: Token): number {
  if (n === 0) return 1;
  if (n < 0 || n > 2 ** MAX_ALIGN_LOG2 || (n & (n - 1)) !== 0) {
    throw new AsmError(tok.pos, `expected ${tok.text} to be given a power of two up to ${2 ** MAX_ALIGN_LOG2}, found ${n}`);
  }
  return n;
}

/** .org expr [, fill] */
const org: Directive = (c, st) => {
  const e = expr(c, st);
  let fillByte = 0;
  if (c.eatOp(',')) fillByte = st.constantOrFail(expr(c, st), ".org's fill byte") & 0xff;
  c.expectEnd();
  st.org(e, fillByte);
};

// --- symbols ---------------------------------------------------------------------------

/** .equ / .set / .equiv name, expr */
function assignment(once: boolean): Directive {
  return (c, st) => {
    const name = symbolName(c);
    c.expectOp(',');
    const e = expr(c, st);
    c.expectEnd();
    st.assign(name.text, e, name.pos, once);
  };
}

function binding(global: boolean): Directive {
  return (c, st) =>
    list(c, () => {
      const t = symbolName(c);
      st.symbols.setGlobal(t.text, global, t.pos);
    });
}

const ignore: Directive = (c) => c.skipRest();

const DIRECTIVES: ReadonlyMap<string, Directive> = new Map<string, Directive>([
  ['.text', simpleSection('.text')],
  ['.data', simpleSection('.data')],
  ['.bss', simpleSection('.bss')],
  ['.rodata', simpleSection('.rodata')],
  ['.section', section],
  ['.byte', data(1)],
  ['.half', data(2)],
  ['.short', data(2)],
  ['.2byte', data(2)],
  ['.word', data(4)],
  ['.long', data(4)],
  ['.int', data(4)],
  ['.4byte', data(4)],
  ['.dword', data(8)],
  ['.quad', data(8)],
  ['.8byte', data(8)],
  ['.ascii', strings(false)],
  ['.asciz', strings(true)],
  ['.string', strings(true)],
  ['.space', space],
  ['.skip', space],
  ['.zero', space],
  ['.fill', fill],
  ['.align', align(true)],
  ['.p2align', align(true)],
  ['.balign', align(false)],
  ['.org', org],
  ['.equ', assignment(false)],
  ['.set', assignment(false)],
  ['.equiv', assignment(true)],
  ['.globl', binding(true)],
  ['.global', binding(true)],
  ['.local', binding(false)],
  ['.end', (c, st) => (c.expectEnd(), st.stop())],
  // Accepted and ignored: symbol metadata, options that only matter to a
  // linker or to compressed code, and what compilers add to their output.
  ['.type', ignore],
  ['.size', ignore],
  ['.option', ignore],
  ['.file', ignore],
  ['.ident', ignore],
  ['.attribute', ignore],
  ['.addrsig', ignore],
  ['.addrsig_sym', ignore],
]);

export function runDirective(tok: Token, c: Cursor, st: Pass1): void {
  const name = tok.text.toLowerCase();
  const d = DIRECTIVES.get(name);
  if (d !== undefined) return d(c, st, tok);
  if (name.startsWith('.cfi_')) return ignore(c, st, tok); // call-frame info from compilers
  throw new AsmError(tok.pos, `expected a known directive, found unknown directive '${tok.text}'`);
}
