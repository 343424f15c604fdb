// Layout: give every section an address. There is no linker script, so the
// assembler places sections itself, the way riscv-tests' link.ld does:
// code first (.text.init, where a test's _start lives, then .text), then
// read-only data, then writable data, then .bss; each section on its own
// page by default, so a guest can map them with different permissions and
// `tohost` does not share a page with code.

import { AsmError, type SrcPos } from './errors.ts';
import type { Section } from './sections.ts';

function rank(s: Section): number {
  if (s.name === '.text.init') return 0;
  if (s.flags.exec) return 1;
  if (s.flags.nobits) return 4;
  return s.flags.write ? 3 : 2;
}

const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;

/** Sections to place: allocated, and either non-empty or labelled. */
export function placedSections(all: Iterable<Section>): Section[] {
  return [...all].filter((s) => s.flags.alloc && (s.offset > 0 || s.hasLabels)).sort((a, b) => rank(a) - rank(b) || a.order - b.order);
}

export function layout(sections: readonly Section[], base: number, sectionAlign: number, where: SrcPos): void {
  let cursor = base >>> 0;
  for (const s of sections) {
    s.addr = alignUp(cursor, Math.max(sectionAlign, s.align));
    cursor = s.addr + s.offset;
    if (cursor > 0x1_0000_0000) {
      throw new AsmError(where, `expected the program to fit below 4 GiB from base 0x${(base >>> 0).toString(16)}, found section ${s.name} ending at 0x${cursor.toString(16)}`);
    }
  }
}
