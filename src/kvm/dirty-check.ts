// The userspace side of dirty_log_test (kvm-semantics.md §5.1, §6.1, I1): a
// collector that compares what the dirty log reports with what actually
// changed in guest memory, so a lost dirty page is *found*, not assumed.
//
// The guest (src/guests/dirty.S) tags the first word of every page of its
// regions with an iteration number. After each collection the checker reads
// every page's tag. A page whose tag changed since the last look was written
// either before this collection's snapshot (then this collection must report
// it) or after it (then the next one must). So: a changed page not reported
// by this collection or the next is a lost dirty page. The check never gives
// a false alarm; it can miss a loss only when a page is rewritten with the
// same tag, which the guest never does.

import { bitmapWeight } from './bitops.ts';

export interface CheckedPage {
  /** Guest physical address of the page. */
  gpa: number;
  /** Index of the page in the memslot's dirty bitmap. */
  bit: number;
}

export interface RoundResult {
  /** Pages the collection reported dirty (all of the slot, not just checked ones). */
  reported: number;
  /** Checked pages whose tag changed since the previous look. */
  changed: number;
  /** Pages lost in this round (changed earlier and not reported by the two collections since). */
  lost: CheckedPage[];
}

export class DirtyLogChecker {
  private readonly last: Int32Array;
  /** Round in which a page was seen changed and not yet reported; -1 none. */
  private readonly pendingSince: Int32Array;
  private round = 0;
  readonly lostPages: CheckedPage[] = [];
  totalReported = 0;

  constructor(
    private readonly pages: CheckedPage[],
    private readonly readTag: (gpa: number) => number,
  ) {
    this.last = new Int32Array(pages.length);
    this.pendingSince = new Int32Array(pages.length).fill(-1);
    pages.forEach((p, i) => (this.last[i] = readTag(p.gpa)));
  }

  /** Feed one collection's bitmap (bit i = page i of the slot), then look at memory. */
  collect(bitmap: Uint32Array): RoundResult {
    const r = this.round++;
    const reported = bitmapWeight(bitmap);
    this.totalReported += reported;
    let changed = 0;
    const lost: CheckedPage[] = [];
    this.pages.forEach((p, i) => {
      const isReported = ((bitmap[p.bit >>> 5] ?? 0) >>> (p.bit & 31)) & 1;
      if (isReported) this.pendingSince[i] = -1;
      else if (this.pendingSince[i] >= 0 && this.pendingSince[i] < r) {
        lost.push(p); // changed before the previous collection and reported by neither
        this.pendingSince[i] = -1;
      }
      const tag = this.readTag(p.gpa);
      if (tag !== this.last[i]) {
        changed++;
        this.last[i] = tag;
        if (!isReported && this.pendingSince[i] < 0) this.pendingSince[i] = r;
      }
    });
    this.lostPages.push(...lost);
    return { reported, changed, lost };
  }
}
