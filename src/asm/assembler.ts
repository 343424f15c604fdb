// The assembler's entry point: GNU-as-style RISC-V assembly (RV32IMA, Zicsr,
// Zifencei, privileged instructions) to sections of bytes at fixed addresses
// and a symbol table. There is no separate link step: sections are placed
// from `base` on (see layout.ts), so the result can be loaded directly or
// written out as an ELF executable (elf.ts).
//
//   source --lexer--> statements --pass 1--> items at (section, offset)
//          --layout--> section addresses --pass 2--> bytes

import { AsmError } from './errors.ts';
import type { EvalEnv } from './expr.ts';
import { tokenize } from './lexer.ts';
import { layout, placedSections } from './layout.ts';
import type { IncludeResolver } from './macros.ts';
import { Pass1 } from './pass1.ts';
import { pass2 } from './pass2.ts';
import type { Section, SectionFlags } from './sections.ts';
import { isNumericLocal, type SymbolTable } from './symbols.ts';

export { AsmError } from './errors.ts';
export type { SectionFlags } from './sections.ts';
export type { IncludeResolver } from './macros.ts';

export interface AsmOptions {
  /** Address of the first section (default 0x8000_0000, the start of RAM). */
  base?: number;
  /** Every section starts on a multiple of this (default 4096: one page). */
  sectionAlign?: number;
  /**
   * Reads the files `.include "path"` names (see IncludeResolver). Without
   * one, `.include` is an error: the source must be self-contained.
   */
  include?: IncludeResolver;
}

export interface AsmSection {
  readonly name: string;
  readonly addr: number;
  /** Size in memory; for a nobits section (.bss) the bytes are all zero. */
  readonly size: number;
  readonly bytes: Uint8Array;
  readonly flags: SectionFlags;
  /** Largest alignment requested inside the section (power of two). */
  readonly align: number;
}

export interface AsmSymbol {
  /** Address (labels) or value (assignments), unsigned 32-bit. */
  readonly value: number;
  /** Section name of a label, or null for an absolute value (.equ of a constant). */
  readonly section: string | null;
  readonly global: boolean;
}

export interface AsmResult {
  /** Placed sections in address order. */
  readonly sections: AsmSection[];
  /** Named symbols (numeric local labels such as `1:` are not included). */
  readonly symbols: Map<string, AsmSymbol>;
  /** `_start` if defined, else the start of .text (else of the first code section). */
  readonly entry: number;
  /**
   * Instruction address -> 1-based line of the main source, for editors and
   * the disassembly view. Code from an included file maps to the line of the
   * main file's `.include` that brought it in; macro expansions map to the
   * body line in the macro's definition, as before.
   */
  readonly lines: Map<number, number>;
}

export function assemble(source: string, fileName = 'input.S', opts: AsmOptions = {}): AsmResult {
  const base = opts.base ?? 0x8000_0000;
  const sectionAlign = opts.sectionAlign ?? 0x1000;
  const start = { file: fileName, line: 1, col: 1 };
  if (!Number.isInteger(base) || base < 0 || base > 0xffffffff || (base & 3) !== 0) {
    throw new AsmError(start, `expected a 4-byte aligned 32-bit base address, found ${base}`);
  }
  if (!Number.isInteger(sectionAlign) || sectionAlign < 1 || (sectionAlign & (sectionAlign - 1)) !== 0) {
    throw new AsmError(start, `expected a power-of-two section alignment, found ${sectionAlign}`);
  }
  const p1 = new Pass1(tokenize(source, fileName), opts.include);
  p1.run();
  const placed = placedSections(p1.sections.values());
  layout(placed, base, sectionAlign, start);
  const { bytes, lines } = pass2(placed, p1.symbols);
  const sections = placed.map((s) => toAsmSection(s, bytes.get(s) as Uint8Array));
  const symbols = collectSymbols(p1.symbols, new Set(placed));
  return { sections, symbols, entry: entryPoint(symbols, sections, base), lines };
}

function toAsmSection(s: Section, bytes: Uint8Array): AsmSection {
  return { name: s.name, addr: s.addr, size: s.offset, bytes, flags: s.flags, align: s.align };
}

/**
 * The named symbols with their final values. Each is looked up twice: as
 * (section, offset), to know its section, and as an address.
 */
function collectSymbols(table: SymbolTable, placed: ReadonlySet<Section>): Map<string, AsmSymbol> {
  const out = new Map<string, AsmSymbol>();
  const relative = envFor(table, false);
  const absolute = envFor(table, true);
  for (const d of table.all()) {
    if (d.kind === 'undefined' || isNumericLocal(d.name)) continue;
    const rel = table.lookup(d.name, d.name, d.pos, relative);
    if (rel?.sec && !placed.has(rel.sec)) continue; // in a dropped (non-alloc) section
    const v = table.lookup(d.name, d.name, d.pos, absolute);
    if (v === null) continue;
    out.set(d.name, { value: Number(BigInt.asUintN(32, v.v)), section: rel?.sec?.name ?? null, global: d.global });
  }
  return out;
}

function envFor(table: SymbolTable, final: boolean): EvalEnv {
  const env: EvalEnv = { final, symbol: (n, disp, pos) => table.lookup(n, disp, pos, env), pc: 0, pcrelHi: new Map() };
  return env;
}

function entryPoint(symbols: Map<string, AsmSymbol>, sections: AsmSection[], base: number): number {
  const start = symbols.get('_start');
  if (start !== undefined) return start.value;
  const text = sections.find((s) => s.name === '.text') ?? sections.find((s) => s.flags.exec);
  return text?.addr ?? base >>> 0;
}
