// The symbol table: labels (a place in a section), assignments made with
// .equ/.set/`=` (a value, possibly computed from symbols defined later), and
// numeric local labels (`1:` referenced as `1b`/`1f`).
//
// A numeric label may be defined many times; each definition gets an internal
// name "<n>\u0002<k>" (k-th definition of n), which cannot clash with a name
// the lexer produces and marks the symbol as one to keep out of the ELF
// symbol table. `1b` resolves to the latest definition so far, `1f` to the
// next one, which is why references are resolved during pass 1, in order.

import { AsmError, type SrcPos } from './errors.ts';
import { evaluate, type EvalEnv, type Expr, type Value } from './expr.ts';
import type { Section } from './sections.ts';

const LOCAL_MARK = '\u0002';

export interface SymbolDef {
  readonly name: string;
  kind: 'label' | 'equ' | 'undefined';
  /** label: its section and offset; equ: the value computed when it was set, if known. */
  value: Value | null;
  /** equ whose value was not known when set (forward reference): evaluated on demand. */
  deferred: Expr | null;
  global: boolean;
  /** Where it was defined (or first declared). */
  pos: SrcPos;
  /** Set while a deferred value is being evaluated, to catch `a = b; b = a`. */
  resolving: boolean;
}

export function isNumericLocal(name: string): boolean {
  return name.includes(LOCAL_MARK);
}

export class SymbolTable {
  private readonly defs = new Map<string, SymbolDef>();
  private readonly localCount = new Map<number, number>();

  get(name: string): SymbolDef | undefined {
    return this.defs.get(name);
  }

  all(): IterableIterator<SymbolDef> {
    return this.defs.values();
  }

  private entry(name: string, pos: SrcPos): SymbolDef {
    let d = this.defs.get(name);
    if (d === undefined) {
      d = { name, kind: 'undefined', value: null, deferred: null, global: false, pos, resolving: false };
      this.defs.set(name, d);
    }
    return d;
  }

  defineLabel(name: string, sec: Section, off: number, pos: SrcPos): void {
    const d = this.entry(name, pos);
    if (d.kind !== 'undefined') {
      throw new AsmError(pos, `expected a new symbol name, found '${name}' already defined at line ${d.pos.line}`);
    }
    d.kind = 'label';
    d.value = { v: BigInt(off), sec };
    d.pos = pos;
  }

  /** .set/.equ/`=`: may redefine an assignment (gas allows it), never a label. `once` is .equiv. */
  defineEqu(name: string, value: Value | null, expr: Expr, pos: SrcPos, once: boolean): void {
    const d = this.entry(name, pos);
    if (d.kind === 'label' || (once && d.kind === 'equ')) {
      throw new AsmError(pos, `expected a new symbol name, found '${name}' already defined at line ${d.pos.line}`);
    }
    d.kind = 'equ';
    d.value = value;
    d.deferred = value === null ? expr : null;
    d.pos = pos;
  }

  setGlobal(name: string, global: boolean, pos: SrcPos): void {
    this.entry(name, pos).global = global;
  }

  /** Name for the next definition of numeric label `n` (the `n:` being defined now). */
  defineLocal(n: number): string {
    const k = (this.localCount.get(n) ?? 0) + 1;
    this.localCount.set(n, k);
    return `${n}${LOCAL_MARK}${k}`;
  }

  /** Name a `nb` / `nf` reference stands for at this point of the source. */
  localRef(n: number, dir: 'b' | 'f', pos: SrcPos): string {
    const k = this.localCount.get(n) ?? 0;
    if (dir === 'b' && k === 0) {
      throw new AsmError(pos, `expected a definition of local label '${n}:' before '${n}b', found none`);
    }
    return `${n}${LOCAL_MARK}${dir === 'b' ? k : k + 1}`;
  }

  /**
   * A symbol's value for the evaluator. Before layout, unknown -> null; after
   * layout (env.final), an undefined symbol is an error at the reference.
   */
  lookup(name: string, display: string, pos: SrcPos, env: EvalEnv): Value | null {
    const d = this.defs.get(name);
    if (d === undefined || d.kind === 'undefined') {
      if (!env.final) return null;
      const what = isNumericLocal(name) ? 'local label' : 'symbol';
      throw new AsmError(pos, `expected a defined symbol, found undefined ${what} '${display}'`);
    }
    const v = d.kind === 'equ' && d.deferred !== null ? this.resolveDeferred(d, pos, env) : d.value;
    if (v === null || !env.final || v.sec === null) return v;
    return { v: BigInt(v.sec.addr) + v.v, sec: null };
  }

  private resolveDeferred(d: SymbolDef, pos: SrcPos, env: EvalEnv): Value | null {
    if (d.resolving) throw new AsmError(pos, `expected a value for '${d.name}', found it defined in terms of itself`);
    d.resolving = true;
    try {
      return evaluate(d.deferred as Expr, env);
    } finally {
      d.resolving = false;
    }
  }
}
