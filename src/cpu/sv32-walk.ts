// A plain hardware-style Sv32 page-table walker, for the flat test memory
// (flat-memory.ts) only: it lets the hart's privileged and paging tests run
// without the KVM shadow MMU. It follows the privileged spec's "Virtual Address
// Translation Process" for Sv32 (two levels, 4 KiB pages, 4 MiB megapages),
// and updates A/D in hardware (Svadu-style), atomically: the PTE is changed
// with compareExchange and the walk restarts if it changed underneath.

import { ACC_EXEC, ACC_WRITE, PRV_S, PRV_U, MSTATUS_MXR, MSTATUS_SUM } from './memory.ts';
import {
  CAUSE_FETCH_ACCESS, CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_ACCESS, CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_ACCESS, CAUSE_STORE_PAGE_FAULT,
} from './causes.ts';

export const PTE_V = 1 << 0;
export const PTE_R = 1 << 1;
export const PTE_W = 1 << 2;
export const PTE_X = 1 << 3;
export const PTE_U = 1 << 4;
export const PTE_G = 1 << 5;
export const PTE_A = 1 << 6;
export const PTE_D = 1 << 7;

const PAGE_FAULT = [CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT, CAUSE_FETCH_PAGE_FAULT];
const ACCESS_FAULT = [CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS, CAUSE_FETCH_ACCESS];

export class Sv32Walker {
  /** Cause of the last failed walk. */
  faultCause = 0;
  /** Walks done and A/D bits set (for tests). */
  walks = 0;
  adUpdates = 0;

  constructor(
    private readonly ram32: Int32Array,
    private readonly ramBase: number,
  ) {}

  /** Word index in ram32 of physical address `pa`, or -1 outside RAM. */
  private wordIndex(pa: number): number {
    const off = pa - this.ramBase;
    return off >= 0 && off < this.ram32.length * 4 ? off >>> 2 : -1;
  }

  /** Physical address (a JS number, up to 34 bits) for `va`, or -1 with faultCause set. */
  walk(va: number, acc: number, priv: number, satp: number, mstatus: number): number {
    this.walks++;
    for (;;) {
      const r = this.tryWalk(va >>> 0, acc, priv, satp, mstatus);
      if (r !== -2) return r; // -2: a PTE changed under our A/D update; walk again
    }
  }

  private fail(cause: number): number {
    this.faultCause = cause;
    return -1;
  }

  private tryWalk(va: number, acc: number, priv: number, satp: number, mstatus: number): number {
    let table = (satp & 0x3fffff) * 4096;
    for (let level = 1; level >= 0; level--) {
      const vpn = level === 1 ? va >>> 22 : (va >>> 12) & 0x3ff;
      const idx = this.wordIndex(table + vpn * 4);
      if (idx < 0) return this.fail(ACCESS_FAULT[acc]);
      const pte = Atomics.load(this.ram32, idx);
      if ((pte & PTE_V) === 0 || ((pte & PTE_R) === 0 && (pte & PTE_W) !== 0)) {
        return this.fail(PAGE_FAULT[acc]);
      }
      const ppn = pte >>> 10;
      if ((pte & (PTE_R | PTE_X)) === 0) {
        table = ppn * 4096; // pointer to the next level
        continue;
      }
      if (!this.permitted(pte, acc, priv, mstatus)) return this.fail(PAGE_FAULT[acc]);
      if (level === 1 && (ppn & 0x3ff) !== 0) return this.fail(PAGE_FAULT[acc]); // misaligned megapage
      const need = PTE_A | (acc === ACC_WRITE ? PTE_D : 0);
      if ((pte & need) !== need) {
        if (Atomics.compareExchange(this.ram32, idx, pte, pte | need) !== pte) return -2;
        this.adUpdates++;
      }
      return level === 1
        ? (ppn >>> 10) * 0x400000 + (va & 0x3fffff)
        : ppn * 4096 + (va & 0xfff);
    }
    return this.fail(PAGE_FAULT[acc]); // a pointer at level 0
  }

  /** Leaf permission check: R/W/X with MXR, the U bit with SUM. */
  private permitted(pte: number, acc: number, priv: number, mstatus: number): boolean {
    if (priv === PRV_U && (pte & PTE_U) === 0) return false;
    if (priv === PRV_S && (pte & PTE_U) !== 0) {
      // S-mode may never execute user pages; it may load/store them only with SUM=1.
      if (acc === ACC_EXEC || (mstatus & MSTATUS_SUM) === 0) return false;
    }
    if (acc === ACC_EXEC) return (pte & PTE_X) !== 0;
    if (acc === ACC_WRITE) return (pte & PTE_W) !== 0;
    return (pte & PTE_R) !== 0 || ((mstatus & MSTATUS_MXR) !== 0 && (pte & PTE_X) !== 0);
  }
}
