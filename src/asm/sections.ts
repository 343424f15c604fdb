// Output sections while a program is assembled. Each has a location counter
// (`offset`), the largest alignment asked for inside it, and the items that
// pass 2 turns into bytes. Addresses are only known after layout, so pass 1
// speaks of (section, offset) pairs.

import type { SrcPos } from './errors.ts';
import type { Expr } from './expr.ts';
import type { MachineInsn } from './encode.ts';

export interface SectionFlags {
  /** Occupies memory at run time (SHF_ALLOC); non-alloc sections are dropped. */
  readonly alloc: boolean;
  readonly write: boolean;
  readonly exec: boolean;
  /** No file contents, zero-filled at load (SHT_NOBITS, e.g. .bss). */
  readonly nobits: boolean;
}

/** One thing pass 2 writes at `off`: an instruction, a data value, or fixed bytes. */
export type Item =
  /** `line`: the main file's line (see MacroProcessor.mainLine), for AsmResult.lines. */
  | { readonly k: 'insn'; readonly off: number; readonly insn: MachineInsn; readonly pos: SrcPos; readonly line: number }
  | { readonly k: 'data'; readonly off: number; readonly width: 1 | 2 | 4 | 8; readonly expr: Expr; readonly pos: SrcPos }
  | { readonly k: 'bytes'; readonly off: number; readonly data: Uint8Array };

export class Section {
  readonly items: Item[] = [];
  /** Location counter: bytes emitted so far (including .org/.align padding). */
  offset = 0;
  /** Largest power-of-two alignment requested inside the section. */
  align = 1;
  /** Start address, set by layout. */
  addr = 0;
  /** A label was defined here (so an empty section still needs an address). */
  hasLabels = false;

  constructor(
    readonly name: string,
    readonly flags: SectionFlags,
    /** Order of first appearance in the source, for a stable layout. */
    readonly order: number,
  ) {}
}

/** gas's defaults for well-known section names, so `.section .data.foo` needs no flags. */
export function defaultFlags(name: string): SectionFlags {
  const is = (base: string): boolean => name === base || name.startsWith(base + '.');
  if (is('.text') || name === '.init' || name === '.fini') return { alloc: true, write: false, exec: true, nobits: false };
  if (is('.rodata') || is('.srodata')) return { alloc: true, write: false, exec: false, nobits: false };
  if (is('.bss') || is('.sbss') || is('.tbss')) return { alloc: true, write: true, exec: false, nobits: true };
  if (name.startsWith('.note') || name.startsWith('.comment') || name.startsWith('.debug') || name === '.riscv.attributes')
    return { alloc: false, write: false, exec: false, nobits: false };
  // .data, .sdata, .tohost and any other name: writable data, as gas assumes.
  return { alloc: true, write: true, exec: false, nobits: false };
}

/** Parse a gas section flag string ("ax", "aw", ""). Unknown letters are reported by the caller. */
export function parseFlagString(flags: string, nobits: boolean): SectionFlags | string {
  const bad = [...flags].find((c) => !'awxMSGTR?o'.includes(c));
  if (bad !== undefined) return bad;
  return { alloc: flags.includes('a'), write: flags.includes('w'), exec: flags.includes('x'), nobits };
}
