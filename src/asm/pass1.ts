// Pass 1: walk the statements in order, define labels, run directives, expand
// macros and pseudo-instructions, and give every item its section and offset.
// Sizes are fixed here (the only instruction whose size depends on a value,
// li, takes the two-instruction form when the value is not yet known), so
// pass 2 only has to fill in values.

import { AsmError, type SrcPos } from './errors.ts';
import { Cursor } from './cursor.ts';
import { evaluate, parseExpr, toInt32, type EvalEnv, type Expr, type Value } from './expr.ts';
import type { MachineInsn } from './encode.ts';
import type { Statement, Token } from './lexer.ts';
import { runDirective } from './directives.ts';
import { parseInstruction } from './instructions.ts';
import { MacroProcessor, type IncludeResolver } from './macros.ts';
import type { ParseCtx } from './operands.ts';
import { defaultFlags, Section, type SectionFlags } from './sections.ts';
import { SymbolTable } from './symbols.ts';

/** Largest section webkvm's assembler will build (guards against `.space 0x7fffffff`). */
export const MAX_SECTION_SIZE = 64 << 20;

const NOP_BYTES = [0x13, 0x00, 0x00, 0x00];

export class Pass1 implements ParseCtx {
  readonly symbols = new SymbolTable();
  readonly sections = new Map<string, Section>();
  private current: Section | null = null;
  private readonly macros: MacroProcessor;
  /** Set by `.end`: ignore the rest of the source. */
  private stopped = false;
  /** The statement being processed (for positions of directives' messages). */
  private stmtPos: SrcPos = { file: '', line: 0, col: 0 };

  readonly env: EvalEnv = {
    final: false,
    symbol: (name, display, pos) => this.symbols.lookup(name, display, pos, this.env),
    pc: 0,
    pcrelHi: new Map(),
  };

  readonly ref = (tok: Token): Expr => this.resolveRef(tok);

  constructor(statements: Statement[], include?: IncludeResolver) {
    this.macros = new MacroProcessor(
      statements,
      (e) => this.constantNow(e),
      this.ref,
      (name) => (this.symbols.get(name)?.kind ?? 'undefined') !== 'undefined',
      include,
    );
  }

  run(): void {
    for (let s = this.macros.next(); s !== null && !this.stopped; s = this.macros.next()) {
      this.stmtPos = s.pos;
      this.statement(s);
    }
    if (!this.stopped) this.macros.finish();
  }

  // --- statements ---------------------------------------------------------

  private statement(s: Statement): void {
    const c = new Cursor(s.toks);
    while (this.atLabel(c)) {
      this.label(c.next());
      c.next(); // the ':'
    }
    if (c.atEnd()) return;
    const head = c.peek();
    if (head.kind !== 'ident') c.fail('an instruction, directive or label');
    if (this.macros.handles(head.text, c, s)) return;
    c.next();
    if (c.isOp('=')) return this.assignment(head, c);
    if (head.text.startsWith('.')) return runDirective(head, c, this);
    const insns = parseInstruction(head, c, this);
    this.emitInsns(insns, head.pos);
  }

  private atLabel(c: Cursor): boolean {
    const t = c.peek();
    return (t.kind === 'ident' || (t.kind === 'num' && /^[0-9]+$/.test(t.text))) && c.isOp(':', 1);
  }

  private label(t: Token): void {
    const sec = this.section();
    const name = t.kind === 'num' ? this.symbols.defineLocal(t.value) : t.text;
    this.symbols.defineLabel(name, sec, sec.offset, t.pos);
    sec.hasLabels = true;
  }

  /** `sym = expr` (same as .set); `. = expr` moves the location counter like .org. */
  private assignment(name: Token, c: Cursor): void {
    c.expectOp('=');
    const e = parseExpr(c, this.ref);
    c.expectEnd();
    if (name.text === '.') return this.org(e, 0);
    this.assign(name.text, e, name.pos, false);
  }

  assign(name: string, e: Expr, pos: SrcPos, once: boolean): void {
    this.symbols.defineEqu(name, evaluate(e, this.env), e, pos, once);
  }

  // --- names in expressions -------------------------------------------------

  /**
   * What a name means at this point of pass 1: `.` is the current location,
   * `1b`/`1f` pick a numeric label instance, and an assignment made earlier is
   * replaced by its current value (so `i = i + 1` in a .rept sees each value).
   */
  private resolveRef(tok: Token): Expr {
    if (tok.kind === 'localref') {
      const name = this.symbols.localRef(tok.value, tok.text.endsWith('b') ? 'b' : 'f', tok.pos);
      return { k: 'sym', name, display: tok.text, pos: tok.pos };
    }
    if (tok.text === '.') return this.here(tok.pos);
    const d = this.symbols.get(tok.text);
    if (d !== undefined && d.kind === 'equ' && d.value !== null) return valueNode(d.value, tok.pos);
    return { k: 'sym', name: tok.text, display: tok.text, pos: tok.pos };
  }

  here(pos: SrcPos = this.stmtPos): Expr {
    const sec = this.section();
    return { k: 'loc', sec, off: sec.offset, pos };
  }

  valueNow(e: Expr): Value | null {
    return evaluate(e, this.env);
  }

  constantNow(e: Expr): number | null {
    const v = evaluate(e, this.env);
    return v === null || v.sec !== null ? null : toInt32(v.v, e.pos);
  }

  /** A value directives need now (sizes, counts, alignments). */
  constantOrFail(e: Expr, what: string): number {
    const v = this.constantNow(e);
    if (v === null) {
      throw new AsmError(e.pos, `expected a constant known at this point for ${what}, found an expression using a later or relocatable symbol`);
    }
    return v;
  }

  // --- sections ---------------------------------------------------------------

  /** The current section; the first use creates .text, as gas starts in it. */
  section(): Section {
    if (this.current === null) this.switchSection('.text', undefined, this.stmtPos);
    return this.current as Section;
  }

  switchSection(name: string, flags: SectionFlags | undefined, pos: SrcPos): void {
    let sec = this.sections.get(name);
    if (sec === undefined) {
      sec = new Section(name, flags ?? defaultFlags(name), this.sections.size);
      this.sections.set(name, sec);
    } else if (flags !== undefined && !sameFlags(flags, sec.flags)) {
      throw new AsmError(pos, `expected the same flags as the earlier '.section ${name}', found different ones`);
    }
    this.current = sec;
  }

  // --- emission -----------------------------------------------------------------

  private grow(sec: Section, n: number, pos: SrcPos): number {
    const off = sec.offset;
    if (n < 0 || off + n > MAX_SECTION_SIZE) {
      throw new AsmError(pos, `expected section ${sec.name} to stay below ${MAX_SECTION_SIZE} bytes, found it growing to ${off + n}`);
    }
    sec.offset += n;
    return off;
  }

  private emitInsns(insns: MachineInsn[], pos: SrcPos): void {
    const sec = this.section();
    if (sec.flags.nobits) throw new AsmError(pos, `expected data-free contents in ${sec.name} (a nobits section), found an instruction`);
    if ((sec.offset & 3) !== 0) {
      throw new AsmError(pos, `expected an instruction at a 4-byte aligned offset, found offset ${sec.offset} in ${sec.name} (add '.align 2' before it)`);
    }
    sec.align = Math.max(sec.align, 4); // as gas does for code without RVC
    const line = this.macros.mainLine(pos);
    for (const insn of insns) sec.items.push({ k: 'insn', off: this.grow(sec, 4, pos), insn, pos, line });
  }

  emitBytes(data: Uint8Array, pos: SrcPos): void {
    const sec = this.section();
    if (sec.flags.nobits && data.some((b) => b !== 0)) {
      throw new AsmError(pos, `expected only zeros in ${sec.name} (a nobits section), found initialized data`);
    }
    const off = this.grow(sec, data.length, pos);
    if (!sec.flags.nobits && data.length > 0) sec.items.push({ k: 'bytes', off, data });
  }

  emitData(width: 1 | 2 | 4 | 8, expr: Expr, pos: SrcPos): void {
    const sec = this.section();
    if (sec.flags.nobits && this.constantNow(expr) !== 0) {
      throw new AsmError(pos, `expected only zeros in ${sec.name} (a nobits section), found initialized data`);
    }
    const off = this.grow(sec, width, pos);
    if (!sec.flags.nobits) sec.items.push({ k: 'data', off, width, expr, pos });
  }

  /** Pad to a multiple of `bytes` (a power of two); code sections are padded with nops. */
  alignTo(bytes: number, fill: number | null, max: number | null, pos: SrcPos): void {
    const sec = this.section();
    const pad = (bytes - (sec.offset % bytes)) % bytes;
    if (max !== null && pad > max) return;
    sec.align = Math.max(sec.align, bytes);
    this.emitBytes(this.padding(sec, pad, fill), pos);
  }

  private padding(sec: Section, n: number, fill: number | null): Uint8Array {
    const out = new Uint8Array(n);
    if (fill !== null) return out.fill(fill);
    if (!sec.flags.exec || sec.flags.nobits) return out;
    for (let i = 0; i < n; i++) {
      const at = sec.offset + i;
      // nops once 4-byte aligned; any bytes before that stay zero.
      if ((at & 3) === 0 && i + 4 <= n) {
        out.set(NOP_BYTES, i);
        i += 3;
      }
    }
    return out;
  }

  /** .org / `. = expr`: move forward to an offset in this section. */
  org(e: Expr, fill: number): void {
    const sec = this.section();
    const v = this.valueNow(e);
    if (v === null || (v.sec !== null && v.sec !== sec)) {
      throw new AsmError(e.pos, `expected an offset in ${sec.name} known at this point for .org, found an expression that is not`);
    }
    const target = Number(v.v);
    if (target < sec.offset) {
      throw new AsmError(e.pos, `expected .org to move forward from offset ${sec.offset} in ${sec.name}, found offset ${target}`);
    }
    this.emitBytes(new Uint8Array(target - sec.offset).fill(fill), e.pos);
  }

  stop(): void {
    this.stopped = true;
  }
}

function valueNode(v: Value, pos: SrcPos): Expr {
  return v.sec === null ? { k: 'num', v: v.v, pos } : { k: 'loc', sec: v.sec, off: Number(v.v), pos };
}

function sameFlags(a: SectionFlags, b: SectionFlags): boolean {
  return a.alloc === b.alloc && a.write === b.write && a.exec === b.exec && a.nobits === b.nobits;
}
