// The dirty history of every page, kept in the UI: which collections
// (numbered 1, 2, 3... since the VM was created) reported it.
//
// The VMM hands each collection's bitmap to the UI anyway (one comlink call
// per collection, never per frame), so the UI keeps the last HISTORY_ROUNDS
// bitmaps and, per page, a running count over all of them. Asking about a page
// scans the kept bitmaps: one bit test per round, on a click, not per frame.
// Memory: HISTORY_ROUNDS bitmaps of pages / 8 bytes (2 MiB at 1 GiB of RAM)
// plus two bytes per page.

export const HISTORY_ROUNDS = 64;

export interface CollectionRecord {
  round: number;
  /** performance.now() when the collection arrived. */
  at: number;
  pages: number;
  /** What collected it ('GET', 'ring', 'migrate 3'...). */
  label: string;
  bitmap: Uint32Array;
}

export interface PageHistory {
  /** Rounds (among the kept ones) that reported the page, oldest first. */
  rounds: number[];
  /** How many collections reported it since the VM was created (saturates at 65535). */
  total: number;
  /** The last round that reported it, or 0. */
  last: number;
  /** Rounds kept: [first, latest]; 0, 0 before any collection. */
  window: [number, number];
}

export class DirtyHistory {
  private readonly kept: CollectionRecord[] = [];
  private readonly counts: Uint16Array;
  private rounds = 0;

  constructor(readonly pages: number) {
    this.counts = new Uint16Array(pages);
  }

  get latestRound(): number {
    return this.rounds;
  }

  /** Record one collection; returns its round number. */
  record(bitmap: Uint32Array, pages: number, label: string, at: number): number {
    this.rounds += 1;
    const counts = this.counts;
    const words = Math.min(bitmap.length, Math.ceil(this.pages / 32));
    for (let w = 0; w < words; w++) {
      let bits = bitmap[w]!;
      while (bits !== 0) {
        const p = (w << 5) + 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        if (p < this.pages && counts[p]! < 0xffff) counts[p] = counts[p]! + 1;
      }
    }
    this.kept.push({ round: this.rounds, at, pages, label, bitmap });
    if (this.kept.length > HISTORY_ROUNDS) this.kept.shift();
    return this.rounds;
  }

  /** The history of one page of the slot. */
  page(p: number): PageHistory {
    const rounds: number[] = [];
    if (p >= 0 && p < this.pages) {
      for (const r of this.kept) if (((r.bitmap[p >>> 5] ?? 0) >>> (p & 31)) & 1) rounds.push(r.round);
    }
    const first = this.kept[0]?.round ?? 0;
    return {
      rounds,
      total: p >= 0 && p < this.pages ? this.counts[p]! : 0,
      last: rounds.length ? rounds[rounds.length - 1]! : 0,
      window: [first, this.rounds],
    };
  }

  /** The latest collections, newest last (for a list in the panel). */
  recent(n: number): readonly CollectionRecord[] {
    return this.kept.slice(-n);
  }
}

/** One line for a page's history, e.g. "collected in rounds 3, 5, 9 (of 1-12); 3 times in all". */
export function describeHistory(h: PageHistory): string {
  if (h.window[1] === 0) return 'no collection yet';
  if (h.total === 0) return `never collected (${h.window[1]} collection${h.window[1] === 1 ? '' : 's'} so far)`;
  const shown = h.rounds.length > 12 ? [...h.rounds.slice(0, 4), '…', ...h.rounds.slice(-6)] : h.rounds;
  const inWindow = h.rounds.length ? `in round${h.rounds.length === 1 ? '' : 's'} ${shown.join(', ')}` : 'in no kept round';
  return `collected ${inWindow} (of ${h.window[0]}–${h.window[1]}); ${h.total} time${h.total === 1 ? '' : 's'} in all`;
}
