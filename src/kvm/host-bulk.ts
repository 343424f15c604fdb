// Host memory operations in bulk, as a host under memory pressure does them:
//   kvmSwapOutRandom      kswapd picking victims: swap out N resident pages of
//                         a memslot chosen at random;
//   kvmKsmMergeIdentical  one pass of ksmd: hash every resident page, and merge
//                         each page with the first one holding the same bytes.
// Both are loops over host-ops.ts's single-page operations, so every page
// still goes through the MMU-notifier protocol one at a time, while the
// vCPUs run. VMM thread only.

import { KvmError } from './errors.ts';
import { HOST_PTE_PRESENT } from './fields.ts';
import { kvmKsmMergePages, kvmSwapOutPage, pagesSame } from './host-ops.ts';
import type { Kvm } from './kvm-host.ts';
import { gfnToResidentPfn } from './memslot.ts';
import { kvmGetMemslot } from './set-memory-region.ts';
import { PAGE_SHIFT, PAGE_WORDS, type VmShared } from './shm.ts';

export interface BulkResult {
  /** Pages swapped out, or pages merged into another. */
  done: number;
  /** Pages looked at. */
  considered: number;
  /** First error that stopped the loop (ENOSPC when swap fills up), or ''. */
  stoppedBy: string;
}

/** [gfn, host PTE] of every resident page of memslot `slot`. */
function residentPages(vm: VmShared, slot: number): [number, number][] {
  const s = kvmGetMemslot(vm, slot);
  const out: [number, number][] = [];
  for (let i = 0; s !== null && i < s.npages; i++) {
    const pte = Atomics.load(vm.gfnTable, s.tableBase + i);
    if ((pte & HOST_PTE_PRESENT) !== 0) out.push([(s.baseGfn >>> 0) + i, pte]);
  }
  return out;
}

/** Swap out up to `count` random resident pages of `slot`. Stops at the first error (swap full). */
export function kvmSwapOutRandom(kvm: Kvm, count: number, slot = 0, random: () => number = Math.random): BulkResult {
  if (!Number.isInteger(count) || count < 1) throw new KvmError('EINVAL', `swap-out: count ${String(count)} is not a positive integer`);
  const pages = residentPages(kvm.vm, slot);
  const r: BulkResult = { done: 0, considered: 0, stoppedBy: '' };
  while (r.done < count && pages.length > 0) {
    const i = Math.floor(random() * pages.length);
    const [gfn] = pages[i]!;
    pages[i] = pages[pages.length - 1]!;
    pages.pop();
    r.considered++;
    try {
      if (kvmSwapOutPage(kvm, gfn)) r.done++;
    } catch (e) {
      r.stoppedBy = e instanceof Error ? e.message : String(e);
      break;
    }
  }
  return r;
}

/** FNV-1a over a host page's words: equal pages hash equal; pagesSame decides. */
function pageHash(vm: VmShared, pfn: number): number {
  const ram = vm.ramI32;
  let h = 0x811c9dc5;
  for (let i = pfn * PAGE_WORDS, end = i + PAGE_WORDS; i < end; i++) h = Math.imul(h ^ ram[i]!, 0x01000193);
  return h;
}

/** Merges per pass by default: like ksmd's pages_to_scan, a pass is bounded. */
export const KSM_MERGES_PER_PASS = 64;

/**
 * One ksmd pass over `slot`: merge resident pages into the first page with
 * the same contents, at most `limit` merges (each is two notifier
 * invalidations and a remote TLB flush that waits for every running vCPU).
 * Pages the guest changes meanwhile are skipped (the merge refuses them with
 * EINVAL / EAGAIN), as ksmd skips volatile pages.
 */
export function kvmKsmMergeIdentical(kvm: Kvm, slot = 0, limit = KSM_MERGES_PER_PASS): BulkResult {
  const vm = kvm.vm;
  const groups = new Map<number, number[]>(); // hash -> gfns of distinct contents' first pages
  const r: BulkResult = { done: 0, considered: 0, stoppedBy: '' };
  for (const [gfn, pte] of residentPages(vm, slot)) {
    if (r.done >= limit) break;
    r.considered++;
    const pfn = pte >>> PAGE_SHIFT;
    const h = pageHash(vm, pfn);
    const firsts = groups.get(h);
    if (!firsts) {
      groups.set(h, [gfn]);
      continue;
    }
    const into = firsts.find((g) => {
      const p = gfnToResidentPfn(vm, g);
      return p >= 0 && (p === pfn || pagesSame(vm, p, pfn));
    });
    if (into === undefined) {
      firsts.push(gfn);
      continue;
    }
    try {
      if (kvmKsmMergePages(kvm, into, gfn)) r.done++;
    } catch (e) {
      if (!(e instanceof KvmError) || (e.code !== 'EINVAL' && e.code !== 'EAGAIN')) {
        r.stoppedBy = e instanceof Error ? e.message : String(e);
        break;
      }
    }
  }
  return r;
}
