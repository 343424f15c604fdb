// The decode cache: "decode once, execute many" (ARCHITECTURE.md §6).
//
// Decoded instructions are kept per *host* page (a page of the `ram` buffer),
// so two virtual mappings of one page share the decoded code, and a guest
// sfence.vma or satp switch does not throw it away. A slot holds 1024
// instructions x 2 int32 (see decode.ts); slots are filled lazily, one
// instruction the first time it runs, so data pages are never decoded.
//
// Invalidation: a page's decoded code and a write-TLB entry for that page are
// never present at the same time (the hart enforces it: filling a write-TLB
// entry drops the decoded page, decoding a page drops its write-TLB entries).
// So every store into code goes through the slow path, which drops the page,
// and the hot store path never has to look at this cache. fence.i and
// Hart.tlbFlush() drop everything.
//
// Memory is bounded: `slots` pages (default 512 = 4 MiB), replaced with the
// CLOCK approximation of LRU. One extra slot (index `slots`) is a scratch page
// for the rare instruction fetched from a page that may not be cached
// (XLATE_EMULATE).

export const PAGE_INSNS = 1024;
/** int32 per slot: 1024 instructions x 2 words. */
export const SLOT_WORDS = PAGE_INSNS * 2;
export const SLOT_SHIFT = 11; // log2(SLOT_WORDS)

export class DecodeCache {
  readonly slots: number;
  /** (slots + 1) * SLOT_WORDS decoded words; slot `slots` is the scratch page. */
  readonly code: Int32Array;
  /** host page number -> slot, or -1. */
  readonly pageSlot: Int32Array;
  /** slot -> host page number, or -1 if free. */
  readonly slotPage: Int32Array;
  /** CLOCK reference bits, set by the hart when it enters a page. */
  readonly referenced: Uint8Array;
  readonly scratchSlot: number;
  private hand = 0;
  private used = 0;
  /** Pages decoded since creation (statistics). */
  pagesFilled = 0;

  constructor(ramBytes: number, slots = 512) {
    this.slots = slots;
    this.scratchSlot = slots;
    this.code = new Int32Array((slots + 1) * SLOT_WORDS);
    this.pageSlot = new Int32Array(Math.ceil(ramBytes / 4096)).fill(-1);
    this.slotPage = new Int32Array(slots).fill(-1);
    this.referenced = new Uint8Array(slots);
  }

  /** Slot holding host page `hostPage` (a byte offset), or -1. */
  lookup(hostPage: number): number {
    return this.pageSlot[hostPage >>> 12];
  }

  /** Give host page `hostPage` an empty slot (all instructions undecoded). */
  allocate(hostPage: number): number {
    const slot = this.used < this.slots ? this.used++ : this.evict();
    this.slotPage[slot] = hostPage >>> 12;
    this.pageSlot[hostPage >>> 12] = slot;
    this.referenced[slot] = 1;
    this.code.fill(0, slot << SLOT_SHIFT, (slot + 1) << SLOT_SHIFT);
    this.pagesFilled++;
    return slot;
  }

  /** Forget the decoded code of host page `hostPage`, if any. */
  dropHostPage(hostPage: number): void {
    const pn = hostPage >>> 12;
    const slot = this.pageSlot[pn];
    if (slot < 0) return;
    this.pageSlot[pn] = -1;
    this.slotPage[slot] = -1;
    this.referenced[slot] = 0;
  }

  /** Forget everything (fence.i, remote flush, host rewrote RAM). */
  flushAll(): void {
    for (let s = 0; s < this.used; s++) {
      const pn = this.slotPage[s];
      if (pn >= 0) this.pageSlot[pn] = -1;
      this.slotPage[s] = -1;
      this.referenced[s] = 0;
    }
    this.used = 0;
    this.hand = 0;
  }

  /** CLOCK: skip (and clear) recently referenced slots; take a free or cold one. */
  private evict(): number {
    for (;;) {
      const s = this.hand;
      this.hand = s + 1 === this.slots ? 0 : s + 1;
      if (this.slotPage[s] < 0) return s;
      if (this.referenced[s] === 0) {
        this.dropHostPage(this.slotPage[s] << 12);
        return s;
      }
      this.referenced[s] = 0;
    }
  }
}
