// The hart's private software TLB: three direct-mapped banks (read, write,
// execute; the bank index is the ACC_* access type of memory.ts).
//
// Entry i of a bank caches one virtual page whose page number is ≡ i mod SIZE:
//   tag[i]  the virtual page address (vaddr & ~0xfff, as int32), or -1 if empty
//           (-1 is never page aligned, so it never matches);
//   off[i]  host page byte offset minus the virtual page address, wrapped to
//           int32, so the host byte for vaddr is simply (vaddr + off[i]) | 0.
//
// The hot check for a W-byte access at `a` is `tag[i] === (a & (~0xfff | (W-1)))`:
// one AND and one compare also reject a misaligned access, which takes the slow
// path. Entries are filled only from HartMemory.translate() results for the
// current privilege/satp/mstatus, and the hart flushes everything when that
// context changes, so entries carry no ASID or privilege.

import { ACC_EXEC, ACC_READ, ACC_WRITE } from './memory.ts';

export const TLB_SIZE = 256;
export const TLB_MASK = TLB_SIZE - 1;

export class SoftTlb {
  readonly tag: readonly [Int32Array, Int32Array, Int32Array];
  readonly off: readonly [Int32Array, Int32Array, Int32Array];
  /** Misses (fills attempted) and full flushes, for the stats panels. */
  misses = 0;
  flushes = 0;

  constructor() {
    const t = (): Int32Array => new Int32Array(TLB_SIZE).fill(-1);
    const o = (): Int32Array => new Int32Array(TLB_SIZE);
    this.tag = [t(), t(), t()];
    this.off = [o(), o(), o()];
  }

  /** Host byte offset for `vaddr` if bank `acc` holds its page, else -1. */
  lookup(acc: number, vaddr: number): number {
    const i = (vaddr >>> 12) & TLB_MASK;
    if (this.tag[acc][i] !== (vaddr & -4096)) return -1;
    return (vaddr + this.off[acc][i]) | 0;
  }

  /** Cache vaddr's page -> host page `hostPage` (page-aligned byte offset). */
  fill(acc: number, vaddr: number, hostPage: number): void {
    const i = (vaddr >>> 12) & TLB_MASK;
    const vpage = vaddr & -4096;
    this.tag[acc][i] = vpage;
    this.off[acc][i] = (hostPage - vpage) | 0;
  }

  flushAll(): void {
    this.tag[ACC_READ].fill(-1);
    this.tag[ACC_WRITE].fill(-1);
    this.tag[ACC_EXEC].fill(-1);
    this.flushes++;
  }

  /** Drop vaddr's page from every bank (sfence.vma with rs1 != x0). */
  flushPage(vaddr: number): void {
    const i = (vaddr >>> 12) & TLB_MASK;
    const vpage = vaddr & -4096;
    for (let b = 0; b < 3; b++) if (this.tag[b][i] === vpage) this.tag[b][i] = -1;
  }

  /** Drop every entry of bank `acc` that points at host page `hostPage`. */
  dropHostPage(acc: number, hostPage: number): void {
    const tag = this.tag[acc];
    const off = this.off[acc];
    for (let i = 0; i < TLB_SIZE; i++) {
      if (tag[i] !== -1 && ((tag[i] + off[i]) | 0) === hostPage) tag[i] = -1;
    }
  }
}
