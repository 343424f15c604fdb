// Lexer: source text -> statements, each a list of tokens ending in an `eos`
// token. Newlines and `;` end statements; `#` and `//` start comments that run
// to the end of the line; `/* ... */` may span lines. Every token knows its
// file:line:column so later errors can point at it.

import { AsmError, type SrcPos } from './errors.ts';

export type TokKind =
  | 'ident' // names, mnemonics, directives, `.`: [A-Za-z_.$][A-Za-z0-9_.$]*
  | 'num' // integer or character constant; `value` holds it
  | 'str' // "string"; `text` holds the decoded bytes as chars 0..255
  | 'localref' // 1f / 1b: `value` is the label number, `text` its spelling
  | 'macroarg' // \name inside a macro body; `text` is the name
  | 'op' // punctuation and operators
  | 'eos'; // end of statement (text '')

export interface Token {
  readonly kind: TokKind;
  readonly text: string;
  readonly value: number;
  /** Exact value of an integer literal (up to 64 bits), for expressions. */
  readonly big?: bigint;
  readonly pos: SrcPos;
  /** Length of the token's source text (for slicing macro arguments out of a line). */
  readonly len: number;
}

/** One statement: its tokens (ending in `eos`), and its source text for macro expansion. */
export interface Statement {
  readonly toks: readonly Token[];
  readonly text: string;
  readonly pos: SrcPos;
}

const TWO_CHAR_OPS = new Set(['<<', '>>', '==', '!=', '<>', '<=', '>=', '&&', '||']);
const ONE_CHAR_OPS = '+-*/%&|^~!(),:=<>@[]{}';

const isIdentStart = (c: string): boolean => /[A-Za-z_.$]/.test(c);
const isIdentChar = (c: string): boolean => /[A-Za-z0-9_.$]/.test(c);
const isDigit = (c: string): boolean => c >= '0' && c <= '9';

/** Split a source file into statements of tokens. */
export function tokenize(source: string, file: string): Statement[] {
  return new Lexer(source, file, 1, 1).run();
}

/** Tokenize text that stands at `pos` of a file (a macro body line after substitution, made `via` a use). */
export function tokenizeAt(text: string, pos: SrcPos, via?: string): Statement[] {
  return new Lexer(text, pos.file, pos.line, pos.col, via).run();
}

class Lexer {
  private i = 0;
  private line: number;
  /** Index of the current line's first character (negative to shift columns of the first line). */
  private lineStart: number;
  private readonly out: Statement[] = [];
  private cur: Token[] = [];
  private stmtStart = 0;
  /** End of the last token: where `eos` points, so "found end of line" is not after a comment. */
  private lastEnd = 0;
  private lastEndPos: SrcPos = { file: '', line: 0, col: 0 };

  constructor(
    private readonly src: string,
    private readonly file: string,
    line: number,
    col: number,
    private readonly via?: string,
  ) {
    this.line = line;
    this.lineStart = 1 - col;
  }

  run(): Statement[] {
    while (this.i < this.src.length) this.step();
    this.endStatement();
    return this.out;
  }

  private pos(at = this.i): SrcPos {
    const pos = { file: this.file, line: this.line, col: at - this.lineStart + 1 };
    return this.via === undefined ? pos : { ...pos, via: this.via };
  }

  private push(kind: TokKind, text: string, value: number, start: number, big?: bigint): void {
    if (this.cur.length === 0) this.stmtStart = start;
    this.cur.push({ kind, text, value, big, pos: this.pos(start), len: this.i - start });
    this.lastEnd = this.i;
    this.lastEndPos = this.pos(this.i);
  }

  private endStatement(): void {
    if (this.cur.length > 0) {
      const text = this.src.slice(this.stmtStart, this.lastEnd);
      this.cur.push({ kind: 'eos', text: '', value: 0, pos: this.lastEndPos, len: 0 });
      this.out.push({ toks: this.cur, text, pos: this.cur[0].pos });
    }
    this.cur = [];
  }

  private newline(): void {
    this.endStatement();
    this.i++;
    this.line++;
    this.lineStart = this.i;
  }

  private step(): void {
    const c = this.src[this.i];
    const next = this.src[this.i + 1];
    if (c === '\n') return this.newline();
    if (c === ';') {
      this.endStatement();
      this.i++;
      return;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      this.i++;
      return;
    }
    if (c === '#' || (c === '/' && next === '/')) return this.lineComment();
    if (c === '/' && next === '*') return this.blockComment();
    if (c === '"') return this.string();
    if (c === "'") return this.charConst();
    if (c === '\\') return this.macroArg();
    if (isDigit(c)) return this.number();
    if (isIdentStart(c)) return this.ident();
    const two = this.src.slice(this.i, this.i + 2);
    if (TWO_CHAR_OPS.has(two) || ONE_CHAR_OPS.includes(c)) {
      const start = this.i;
      this.i += TWO_CHAR_OPS.has(two) ? 2 : 1;
      this.push('op', this.src.slice(start, this.i), 0, start);
      return;
    }
    throw new AsmError(this.pos(), `unexpected character '${c}'`);
  }

  private lineComment(): void {
    while (this.i < this.src.length && this.src[this.i] !== '\n') this.i++;
  }

  /** A block comment's newlines still count lines but do not end the statement (as in gas). */
  private blockComment(): void {
    const start = this.pos();
    this.i += 2;
    while (this.i < this.src.length && !this.src.startsWith('*/', this.i)) {
      if (this.src[this.i] === '\n') {
        this.line++;
        this.lineStart = this.i + 1;
      }
      this.i++;
    }
    if (this.i >= this.src.length) throw new AsmError(start, "expected '*/' to close this comment, found end of file");
    this.i += 2;
  }

  private ident(): void {
    const start = this.i;
    while (this.i < this.src.length && isIdentChar(this.src[this.i])) this.i++;
    this.push('ident', this.src.slice(start, this.i), 0, start);
  }

  private macroArg(): void {
    const start = this.i++;
    // `\@` (expansion counter) and `\()` (paste marker) are only meaningful in macro bodies.
    for (const special of ['@', '()']) {
      if (this.src.startsWith(special, this.i)) {
        this.i += special.length;
        this.push('macroarg', special, 0, start);
        return;
      }
    }
    while (this.i < this.src.length && isIdentChar(this.src[this.i])) this.i++;
    const name = this.src.slice(start + 1, this.i);
    if (name === '') throw new AsmError(this.pos(start), "expected a macro argument name after '\\'");
    this.push('macroarg', name, 0, start);
  }

  private number(): void {
    const start = this.i;
    while (this.i < this.src.length && /[0-9A-Za-z_]/.test(this.src[this.i])) this.i++;
    const text = this.src.slice(start, this.i);
    const local = /^([0-9]+)([fb])$/.exec(text);
    if (local) {
      // "1f"/"1b" name numeric local labels ("0b1" is binary: it ends in a digit).
      this.push('localref', text, Number(local[1]), start);
      return;
    }
    const big = parseInteger(text, this.pos(start));
    this.push('num', text, Number(big), start, big);
  }

  private string(): void {
    const start = this.i++;
    let text = '';
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined || c === '\n') throw new AsmError(this.pos(start), "expected '\"' to close this string, found end of line");
      if (c === '"') break;
      if (c === '\\') text += this.escape();
      else {
        text += c;
        this.i++;
      }
    }
    this.i++;
    this.push('str', text, 0, start);
  }

  /** 'c or 'c' (gas accepts both): the character's code as a number. */
  private charConst(): void {
    const start = this.i++;
    const c = this.src[this.i];
    if (c === undefined || c === '\n') throw new AsmError(this.pos(start), "expected a character after '\\''");
    let ch: string;
    if (c === '\\') ch = this.escape();
    else {
      ch = c;
      this.i++;
    }
    if (this.src[this.i] === "'") this.i++;
    this.push('num', this.src.slice(start, this.i), ch.charCodeAt(0), start);
  }

  /** Decode one backslash escape at this.i; returns it as one char (0..255). */
  private escape(): string {
    const at = this.i;
    const c = this.src[this.i + 1];
    this.i += 2;
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\x07', e: '\x1b', '\\': '\\', '"': '"', "'": "'" };
    if (c !== undefined && c in simple) return simple[c];
    if (c !== undefined && /[0-7]/.test(c)) {
      let digits = c;
      while (digits.length < 3 && /[0-7]/.test(this.src[this.i] ?? '')) digits += this.src[this.i++];
      return String.fromCharCode(parseInt(digits, 8) & 0xff);
    }
    if (c === 'x' || c === 'X') {
      let digits = '';
      while (/[0-9a-fA-F]/.test(this.src[this.i] ?? '')) digits += this.src[this.i++];
      if (digits === '') throw new AsmError(this.pos(at), "expected hex digits after '\\x'");
      return String.fromCharCode(parseInt(digits, 16) & 0xff);
    }
    throw new AsmError(this.pos(at), `unknown escape sequence '\\${c ?? ''}'`);
  }
}

/**
 * Parse an integer literal as gas does: 0x hex, 0b binary, leading 0 octal,
 * otherwise decimal. It must fit in 64 bits (for .dword); where a 32-bit
 * value is needed, the user of the value checks the range.
 */
export function parseInteger(text: string, pos: SrcPos): bigint {
  const t = text.replace(/_/g, '');
  let m: RegExpExecArray | null;
  let big: bigint | undefined;
  if ((m = /^0[xX]([0-9a-fA-F]+)$/.exec(t))) big = BigInt('0x' + m[1]);
  else if ((m = /^0[bB]([01]+)$/.exec(t))) big = BigInt('0b' + m[1]);
  else if ((m = /^0([0-7]+)$/.exec(t))) big = BigInt('0o' + m[1]);
  else if (/^[0-9]+$/.test(t)) big = BigInt(t);
  if (big === undefined) throw new AsmError(pos, `expected a number, found '${text}'`);
  if (big > 0xffff_ffff_ffff_ffffn) throw new AsmError(pos, `expected a number that fits in 64 bits, found '${text}'`);
  return BigInt.asIntN(64, big);
}
