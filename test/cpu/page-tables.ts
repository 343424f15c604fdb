// Building Sv32 page tables from a test (physical memory written directly).

import type { FlatMemory } from '../../src/cpu/flat-memory.ts';
import { PTE_A, PTE_D, PTE_R, PTE_V, PTE_W, PTE_X, PTE_U } from '../../src/cpu/sv32-walk.ts';

export { PTE_A, PTE_D, PTE_R, PTE_V, PTE_W, PTE_X, PTE_U };
export const RWX = PTE_R | PTE_W | PTE_X;

export class PageTables {
  private next: number;

  /** Root table at `root`; further level-0 tables are taken from the pages after it. */
  constructor(private readonly mem: FlatMemory, readonly root: number, tablesPages = 8) {
    this.next = root + 4096;
    for (let i = 0; i < 4096 * (tablesPages + 1); i += 4) mem.writeWord(root + i, 0);
  }

  /** satp value selecting this table (MODE=Sv32). */
  get satp(): number {
    return ((1 << 31) | (this.root >>> 12)) >>> 0;
  }

  /** Address of the level-0 PTE for va (allocating the level-0 table). */
  pteAddr(va: number): number {
    const l1 = this.root + (va >>> 22) * 4;
    let pte = this.mem.readWord(l1);
    if ((pte & PTE_V) === 0) {
      const table = this.next;
      this.next += 4096;
      pte = ((table >>> 12) << 10) | PTE_V;
      this.mem.writeWord(l1, pte);
    }
    return (pte >>> 10) * 4096 + ((va >>> 12) & 0x3ff) * 4;
  }

  /** Map one 4 KiB page; flags should include PTE_V (added if missing). */
  map(va: number, pa: number, flags: number): void {
    this.mem.writeWord(this.pteAddr(va), ((pa >>> 12) << 10) | flags | PTE_V);
  }

  /** Map a 4 MiB megapage (va and pa 4 MiB aligned unless testing misalignment). */
  mapMega(va: number, pa: number, flags: number): void {
    this.mem.writeWord(this.root + (va >>> 22) * 4, ((pa >>> 12) << 10) | flags | PTE_V);
  }

  /** Identity-map [start, start+len) with 4 KiB pages. */
  identity(start: number, len: number, flags: number): void {
    for (let a = start; a < start + len; a += 4096) this.map(a, a, flags);
  }

  readPte(va: number): number {
    return this.mem.readWord(this.pteAddr(va));
  }
}
