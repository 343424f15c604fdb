// The statement stream pass 1 reads, with the directives that change it:
// conditional assembly (.if/.ifdef/.ifndef/.elseif/.else/.endif) and
// repetition and macros (.rept/.irp ... .endr, .macro ... .endm, .exitm).
//
// Macro bodies are kept as source text and expanded textually, as gas does:
// `\name` is replaced by the argument (`\()` separates a name from following
// text, `\@` is the expansion counter), then the line is tokenized again at
// the body line's position, so errors point into the macro definition (and
// say which use of the macro it was, through SrcPos.via).
//
// `.include "path"` is one more frame: the file's statements, read through
// the caller's IncludeResolver and tokenized under the file's own name, so
// errors inside it point there (and SrcPos.via says where it was included).

import { AsmError, formatPos, type SrcPos } from './errors.ts';
import { Cursor } from './cursor.ts';
import { parseExpr, type Expr, type RefResolver } from './expr.ts';
import { tokenizeAt, type Statement, type Token } from './lexer.ts';

/**
 * Finds the text of `.include "path"`, written in file `from` (a file name as
 * given to assemble() or as returned by an earlier lookup). `file` names the
 * text in messages and is the `from` of its own includes. Undefined: no such file.
 */
export type IncludeResolver = (path: string, from: string) => { readonly file: string; readonly text: string } | undefined;

interface MacroDef {
  readonly name: string;
  readonly params: readonly { readonly name: string; readonly dflt: string }[];
  readonly body: readonly Statement[];
}

/** A list of statements being read: the file, or one expansion. */
interface Frame {
  readonly stmts: readonly Statement[];
  i: number;
  readonly isMacro: boolean;
  /** Open conditionals when the frame started: .exitm closes any the macro left open. */
  readonly condDepth: number;
  /** For an included file: where its `.include` was. */
  readonly includedAt?: SrcPos;
}

interface Cond {
  /** Statements in the current branch are assembled. */
  active: boolean;
  /** Some branch of this .if was taken already (so .else/.elseif are off). */
  taken: boolean;
  /** The enclosing region was active (otherwise nothing here is). */
  readonly outer: boolean;
  readonly pos: SrcPos;
}

const MAX_DEPTH = 100;
/** Files included inside each other; deeper is almost surely a cycle (gas has no limit, and recurses until it runs out of memory). */
export const MAX_INCLUDE_DEPTH = 16;
const MAX_EXPANDED = 1_000_000;

const headOf = (s: Statement): string => (s.toks[0].kind === 'ident' ? s.toks[0].text.toLowerCase() : '');

export class MacroProcessor {
  private readonly frames: Frame[];
  private readonly macros = new Map<string, MacroDef>();
  private readonly conds: Cond[] = [];
  private expansions = 0;
  private expanded = 0;

  constructor(
    statements: Statement[],
    private readonly constantNow: (e: Expr) => number | null,
    private readonly ref: RefResolver,
    private readonly isDefined: (name: string) => boolean,
    private readonly include?: IncludeResolver,
  ) {
    this.frames = [{ stmts: statements, i: 0, isMacro: false, condDepth: 0 }];
  }

  /** Next statement to assemble; null at the end of the source. */
  next(): Statement | null {
    for (;;) {
      const s = this.raw();
      if (s === null) return null;
      if (this.conditional(s)) continue;
      if (this.active()) return s;
    }
  }

  /** Call at the end: an unterminated .if is an error. */
  finish(): void {
    const open = this.conds.pop();
    if (open !== undefined) throw new AsmError(open.pos, "expected '.endif' for this conditional, found end of file");
  }

  /**
   * The main file's line a statement at `pos` came from: its own line, or
   * for text from an included file, the line of the main file's `.include`
   * (for AsmResult.lines, which is about the main file only).
   */
  mainLine(pos: SrcPos): number {
    const outer = this.frames.find((f) => f.includedAt !== undefined);
    return outer?.includedAt?.line ?? pos.line;
  }

  private raw(): Statement | null {
    while (this.frames.length > 0) {
      const f = this.frames[this.frames.length - 1];
      if (f.i < f.stmts.length) return f.stmts[f.i++];
      this.frames.pop();
    }
    return null;
  }

  private active(): boolean {
    return this.conds.length === 0 || this.conds[this.conds.length - 1].active;
  }

  // --- conditional assembly ---------------------------------------------------

  /** Handle .if & co (even inside skipped regions, to keep nesting right). */
  private conditional(s: Statement): boolean {
    const head = headOf(s);
    if (!['.if', '.ifdef', '.ifndef', '.elseif', '.else', '.endif'].includes(head)) return false;
    const c = new Cursor(s.toks);
    const tok = c.next();
    if (head === '.endif' || head === '.else' || head === '.elseif') {
      const top = this.conds[this.conds.length - 1];
      if (top === undefined) throw new AsmError(tok.pos, `expected a '.if' before '${tok.text}', found none`);
      if (head === '.endif') this.conds.pop();
      else if (head === '.else') top.active = top.outer && !top.taken;
      else if (top.outer && !top.taken) top.active = this.condition('.if', c);
      else {
        top.active = false;
        c.skipRest();
      }
      top.taken ||= top.active;
    } else {
      const outer = this.active();
      const active = outer && this.condition(head, c);
      if (!outer) c.skipRest(); // not evaluated: it may name things that do not exist
      this.conds.push({ active, taken: active, outer, pos: tok.pos });
    }
    c.expectEnd();
    return true;
  }

  private condition(head: string, c: Cursor): boolean {
    if (head === '.ifdef' || head === '.ifndef') {
      const t = c.peek();
      if (t.kind !== 'ident') c.fail('a symbol name');
      c.next();
      return this.isDefined(t.text) === (head === '.ifdef');
    }
    const e = parseExpr(c, this.ref);
    const v = this.constantNow(e);
    if (v === null) throw new AsmError(e.pos, 'expected a constant known at this point for .if, found an expression that is not');
    return v !== 0;
  }

  // --- .macro / .rept / .irp ----------------------------------------------------

  /** If this statement defines or uses a macro, or repeats a block, handle it and say so. */
  handles(head: string, c: Cursor, s: Statement): boolean {
    const name = head.toLowerCase();
    if (name === '.macro') return this.define(c), true;
    if (name === '.rept') return this.rept(c), true;
    if (name === '.irp') return this.irp(c, s), true;
    if (name === '.exitm') return this.exitMacro(c), true;
    if (name === '.include') return this.includeFile(c), true;
    if (name === '.endm' || name === '.endr') {
      throw new AsmError(c.peek().pos, `expected a '${name === '.endm' ? '.macro' : '.rept or .irp'}' before '${head}', found none`);
    }
    const m = this.macros.get(head);
    if (m === undefined) return false;
    this.invoke(m, c, s);
    return true;
  }

  /** Read raw statements up to the `end` that closes `open`, honouring nesting. */
  private collect(openTok: Token, opens: readonly string[], end: string): Statement[] {
    const body: Statement[] = [];
    let depth = 1;
    for (;;) {
      const s = this.raw();
      if (s === null) throw new AsmError(openTok.pos, `expected '${end}' to close this '${openTok.text}', found end of file`);
      const head = headOf(s);
      if (opens.includes(head)) depth++;
      if (head === end && --depth === 0) return body;
      body.push(s);
    }
  }

  private define(c: Cursor): void {
    const open = c.next();
    const nameTok = c.next();
    if (nameTok.kind !== 'ident') c.fail('a macro name', nameTok);
    const params: { name: string; dflt: string }[] = [];
    while (!c.atEnd()) {
      const p = c.next();
      if (p.kind !== 'ident') c.fail('a macro parameter name', p);
      let dflt = '';
      if (c.eatOp('=')) dflt = c.next().text;
      params.push({ name: p.text, dflt });
      c.eatOp(',');
    }
    const body = this.collect(open, ['.macro'], '.endm');
    this.macros.set(nameTok.text, { name: nameTok.text, params, body });
  }

  private push(stmts: Statement[], isMacro: boolean, pos: SrcPos): void {
    if (this.frames.length > MAX_DEPTH) {
      throw new AsmError(pos, `expected macro expansions nested at most ${MAX_DEPTH} deep, found deeper (a recursive macro?)`);
    }
    this.expanded += stmts.length;
    if (this.expanded > MAX_EXPANDED) {
      throw new AsmError(pos, `expected at most ${MAX_EXPANDED} statements from .rept/.irp/macros, found more`);
    }
    this.frames.push({ stmts, i: 0, isMacro, condDepth: this.conds.length });
  }

  private rept(c: Cursor): void {
    const open = c.next();
    const e = parseExpr(c, this.ref);
    c.expectEnd();
    const n = this.constantNow(e);
    if (n === null || n < 0) throw new AsmError(e.pos, 'expected a non-negative count known at this point for .rept, found something else');
    const body = this.collect(open, ['.rept', '.irp'], '.endr');
    const out: Statement[] = [];
    for (let k = 0; k < n && out.length + body.length <= MAX_EXPANDED; k++) out.push(...body);
    if (n * body.length > MAX_EXPANDED) throw new AsmError(open.pos, `expected at most ${MAX_EXPANDED} repeated statements, found ${n * body.length}`);
    this.push(out, false, open.pos);
  }

  /** .irp sym, v1, v2, ...: the body once per value with \sym replaced. */
  private irp(c: Cursor, s: Statement): void {
    const open = c.next();
    const sym = c.next();
    if (sym.kind !== 'ident') c.fail('a symbol name', sym);
    const values = c.eatOp(',') ? splitArgs(s, c) : [];
    const body = this.collect(open, ['.rept', '.irp'], '.endr');
    const out: Statement[] = [];
    const via = `.irp at line ${open.pos.line}`;
    for (const v of values) out.push(...expandBody(body, new Map([[sym.text, v]]), this.expansions++, via));
    this.push(out, false, open.pos);
  }

  // --- .include ------------------------------------------------------------------

  private includeFile(c: Cursor): void {
    const dir = c.next();
    const pathTok = c.next();
    if (pathTok.kind !== 'str') c.fail('a file name in double quotes', pathTok);
    c.expectEnd();
    const path = pathTok.text;
    if (this.include === undefined) {
      throw new AsmError(pathTok.pos, `expected no .include in a self-contained source (no include path was given), found '.include "${path}"'`);
    }
    const depth = this.frames.filter((f) => f.includedAt !== undefined).length;
    if (depth >= MAX_INCLUDE_DEPTH) {
      throw new AsmError(pathTok.pos, `expected .include nested at most ${MAX_INCLUDE_DEPTH} deep, found deeper at "${path}" (a file that includes itself?)`);
    }
    const found = this.include(path, dir.pos.file);
    if (found === undefined) throw new AsmError(pathTok.pos, `expected a file "${path}" to include, found none`);
    const via = `.include at ${formatPos(dir.pos)}`;
    const stmts = tokenizeAt(found.text, { file: found.file, line: 1, col: 1 }, via);
    this.frames.push({ stmts, i: 0, isMacro: false, condDepth: this.conds.length, includedAt: dir.pos });
  }

  private exitMacro(c: Cursor): void {
    const t = c.next();
    c.expectEnd();
    for (let k = this.frames.length - 1; k >= 0; k--) {
      if (this.frames[k].isMacro) {
        this.conds.length = this.frames[k].condDepth; // .exitm is usually inside an .if
        this.frames.length = k; // drop the macro's frame and anything it started
        return;
      }
    }
    throw new AsmError(t.pos, "expected '.exitm' inside a macro, found it outside");
  }

  private invoke(m: MacroDef, c: Cursor, s: Statement): void {
    const head = c.next();
    const args = splitArgs(s, c);
    const values = new Map<string, string>();
    for (const p of m.params) values.set(p.name, p.dflt);
    let positional = 0;
    for (const a of args) {
      const kw = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*=(.*)$/s.exec(a);
      if (kw !== null && m.params.some((p) => p.name === kw[1])) values.set(kw[1], kw[2].trim());
      else if (positional < m.params.length) values.set(m.params[positional++].name, a);
      else throw new AsmError(head.pos, `expected at most ${m.params.length} argument${m.params.length === 1 ? "" : "s"} for macro '${m.name}', found ${args.length}`);
    }
    const stmts = expandBody(m.body, values, this.expansions++, `macro '${m.name}' used at line ${head.pos.line}`);
    this.push(stmts, true, head.pos);
  }
}

/** The rest of the statement as comma-separated argument texts (as written). */
function splitArgs(s: Statement, c: Cursor): string[] {
  const args: string[] = [];
  let depth = 0;
  let from = c.peek();
  let last: Token | null = null;
  const flush = (): void => {
    args.push(last === null ? '' : sliceSource(s, from, last));
    last = null;
  };
  if (c.atEnd()) return args;
  for (;;) {
    const t = c.next();
    if (t.kind === 'eos' || (t.kind === 'op' && t.text === ',' && depth === 0)) {
      flush();
      if (t.kind === 'eos') return args;
      from = c.peek();
      continue;
    }
    if (t.kind === 'op' && t.text === '(') depth++;
    if (t.kind === 'op' && t.text === ')') depth--;
    last = t;
  }
}

/** Source text from token `a` through token `b`, exactly as written when both are on the statement's first line. */
function sliceSource(s: Statement, a: Token, b: Token): string {
  if (a.pos.line === s.pos.line && b.pos.line === s.pos.line) {
    return s.text.slice(a.pos.col - s.pos.col, b.pos.col - s.pos.col + b.len);
  }
  return a === b ? a.text : `${a.text} ${b.text}`;
}

/** Substitute parameters into each body statement and tokenize the result. */
function expandBody(body: readonly Statement[], values: ReadonlyMap<string, string>, counter: number, via: string): Statement[] {
  const out: Statement[] = [];
  for (const s of body) {
    const text = s.text.replace(/\\(\(\)|@|[A-Za-z_.$][A-Za-z0-9_.$]*)/g, (whole, name: string) => {
      if (name === '()') return ''; // the paste marker: `\n\()_x` -> `7_x`
      if (name === '@') return String(counter);
      const v = values.get(name);
      return v === undefined ? whole : v;
    });
    out.push(...tokenizeAt(text, s.pos, via));
  }
  return out;
}
