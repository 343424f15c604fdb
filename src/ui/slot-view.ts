// A read-only window on one memslot for the main thread: its record, its live
// dirty-bitmap words and its gfn-table words, as typed subarrays of `hv`.
//
// The record is re-read every frame (a memslot can be re-registered, e.g. when
// dirty logging is switched), and the subarrays are rebuilt only when the
// slot's placement changes, so a frame allocates nothing. Only loads here: the
// bitmap belongs to KVM (markPageDirty sets bits, GET_DIRTY_LOG clears them).
import type { SharedViews } from './shared-views.ts';
import {
  MEMSLOT_BASE_GFN,
  MEMSLOT_DIRTY_BASE,
  MEMSLOT_FLAGS,
  MEMSLOT_NPAGES,
  MEMSLOT_TABLE_BASE,
  MEMSLOT_WORDS,
  REGION_DIRTY_BITMAP,
  REGION_GFN_TABLE,
  REGION_MEMSLOTS,
} from './shared-layout.ts';

export interface SlotSnapshot {
  pages: number;
  baseGfn: number;
  flags: number;
  /** Live bitmap words of the slot (ceil(pages / 32)). */
  dirty: Uint32Array;
  /** One host PTE per page: 0 never backed, else pfn << 12 | flags. */
  gfnTable: Int32Array;
}

export interface SlotView {
  /** The slot as it is now, or null when it is empty or outside the regions. */
  read(): SlotSnapshot | null;
  /** Why read() returned null, for the panel's text. */
  readonly problem: string;
}

export function createSlotView(views: SharedViews, slot: number): SlotView {
  const memslots = views.region(REGION_MEMSLOTS);
  const bitmap = views.region(REGION_DIRTY_BITMAP);
  const table = views.region(REGION_GFN_TABLE);
  let problem = !memslots || !bitmap || !table ? "the VM's layout has no memslots, dirty-bitmap or gfn-table region" : '';
  let cached: SlotSnapshot | null = null;
  // The placement the cached subarrays were cut for (numbers, not a string key: no allocation per frame).
  let placedPages = -1;
  let placedDirty = -1;
  let placedTable = -1;
  const rec = slot * MEMSLOT_WORDS;

  return {
    get problem() {
      return problem;
    },
    read() {
      if (!memslots || !bitmap || !table || rec + MEMSLOT_WORDS > memslots.words) return null;
      const m = memslots.i32;
      const pages = Atomics.load(m, rec + MEMSLOT_NPAGES);
      const dirtyBase = Atomics.load(m, rec + MEMSLOT_DIRTY_BASE);
      const tableBase = Atomics.load(m, rec + MEMSLOT_TABLE_BASE);
      const baseGfn = Atomics.load(m, rec + MEMSLOT_BASE_GFN) >>> 0;
      const flags = Atomics.load(m, rec + MEMSLOT_FLAGS);
      const words = Math.ceil(pages / 32);
      if (pages <= 0) {
        problem = `memslot ${slot} is empty`;
        return null;
      }
      if (dirtyBase < 0 || dirtyBase + words > bitmap.words || tableBase < 0 || tableBase + pages > table.words) {
        problem = `memslot ${slot} points outside the dirty-bitmap or gfn-table region`;
        return null;
      }
      if (!cached || pages !== placedPages || dirtyBase !== placedDirty || tableBase !== placedTable) {
        placedPages = pages;
        placedDirty = dirtyBase;
        placedTable = tableBase;
        cached = {
          pages, baseGfn, flags,
          dirty: bitmap.u32.subarray(dirtyBase, dirtyBase + words),
          gfnTable: table.i32.subarray(tableBase, tableBase + pages),
        };
      }
      cached.baseGfn = baseGfn;
      cached.flags = flags;
      problem = '';
      return cached;
    },
  };
}

/**
 * A SlotView that follows the frame's views: made again only when they change
 * (a new VM), so a panel calls it every frame and keeps no copy of either.
 */
export function followSlotView(slot: number): (views: SharedViews | null) => SlotView | null {
  let views: SharedViews | null = null;
  let view: SlotView | null = null;
  return (v) => {
    if (v !== views) {
      views = v;
      view = v ? createSlotView(v, slot) : null;
    }
    return view;
  };
}
