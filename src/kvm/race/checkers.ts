// The race lab's verdict: checkers over the final state of a run and the
// engine's record of what the guest wrote and what GET_DIRTY_LOG reported.
// The script never says whether the race happened; these look at the result.
//
//   dirty-log completeness  every page the guest wrote is reported by a
//                           collection made after the write, or still has
//                           its live bit set (the next GET reports it):
//                           §6 I1, locking.txt "gfn2 is lost in dirty-bitmap".
//   stale TLB               the same loss, when the write went through a TLB
//                           entry whose SPTE was already read-only (§2.6 /
//                           locking.txt 3: a writable spte "cached on a CPU's TLB").
//   host dirty flag         a host page written through an SPTE whose D bit
//                           recorded the write must end with its dirty flag
//                           set (kvm_set_pfn_dirty) or still be mapped by an
//                           SPTE in its gfn's rmap with D set (a later zap
//                           carries it over): §6 F5, locking.txt "The Dirty bit
//                           is lost in this case." Pages that changed owner
//                           since (swapped out and reused) are skipped: the
//                           swap-out saved them whatever the flag said.
//   SPTEs match the host     every present leaf SPTE maps the host page
//                           that backs its gfn now: never a freed pfn, a
//                           swapped-out gfn's old page, or another gfn's
//                           page. §6 T4, §7.9: a fault that looked its pfn
//                           up before an MMU-notifier invalidation must not
//                           install it after.
//   lockless walk           no fast page fault's lockless walk saw the leaf
//                           shadow page it was reading freed, or freed and
//                           reused, before it ended (walk-record.ts): §6 F7,
//                           §2.8 "page tables are never freed under a walker".
import {
  HOST_PTE_PRESENT, HOST_PTE_SWAPPED, ROLE_INVALID, SP_FLAG_IN_USE, SP_FLAGS, SP_META_WORDS, SP_ROLE,
} from '../fields.ts';
import { gfnToTableIndex } from '../memslot.ts';
import { rmapLocations } from '../mmu-explain.ts';
import { kvmMmuPageGetGfn, spLevel } from '../mmu-page.ts';
import { PAGE_WORDS } from '../shm.ts';
import { SPTE_DIRTY, isLastSpte, isShadowPresentPte, spteToPfn } from '../spte.ts';
import type { RaceEngine, RaceWrite } from './engine.ts';
import { raceBadWalk } from './walk-record.ts';

export interface RaceCheckResult {
  checker: string;
  violations: string[];
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

function reported(e: RaceEngine, w: RaceWrite): boolean {
  if (w.gfn < 0) return true; // not guest RAM of slot 0: nothing to log
  if (e.collections.some((c) => c.step >= w.step && c.gfns.has(w.gfn))) return true;
  return e.liveBit(w.gfn);
}

function describeWrite(w: RaceWrite): string {
  return `step ${w.step}, ${w.lane}, va ${hex(w.va)}, host pfn ${hex(w.pfn)}`;
}

/** I1: no write missing from every collection. */
export function checkDirtyLogCompleteness(e: RaceEngine): RaceCheckResult {
  const violations: string[] = [];
  for (const w of e.writes) {
    if (reported(e, w) || (w.tlbHit && !w.spteWritable)) continue; // stale-TLB losses: the next checker
    violations.push(`gfn ${hex(w.gfn)} was written (${describeWrite(w)}) but no dirty-log collection after the write reports it ` +
      'and its bitmap bit is clear: the page is lost from the dirty log');
  }
  return { checker: 'dirty-log completeness', violations };
}

/** A write through a writable TLB entry whose SPTE had already been write-protected, not logged. */
export function checkStaleTlb(e: RaceEngine): RaceCheckResult {
  const violations: string[] = [];
  for (const w of e.writes) {
    if (!w.tlbHit || w.spteWritable || reported(e, w)) continue;
    violations.push(`gfn ${hex(w.gfn)} was written through a stale writable TLB entry (${describeWrite(w)}; its SPTE was ` +
      'already read-only, no fault, no mark_page_dirty) and no collection reports it');
  }
  return { checker: 'stale TLB', violations };
}

/** F5: the host page's dirty flag, for pages written through a D-set SPTE. */
export function checkHostDirtyFlag(e: RaceEngine): RaceCheckResult {
  const violations: string[] = [];
  const seen = new Set<number>();
  for (const w of e.writes) {
    if (!w.spteDirty || seen.has(w.pfn)) continue;
    seen.add(w.pfn);
    if (w.gfn < 0 || e.pfnOfGfn(w.gfn) !== w.pfn) continue; // the page changed owner since
    if (e.hostDirty(w.pfn)) continue;
    if (mappedDirty(e, w.gfn, w.pfn)) continue;
    violations.push(`host page pfn ${hex(w.pfn)} (gfn ${hex(w.gfn)}) was written at step ${w.step} through an SPTE with D set, ` +
      'but no SPTE maps it with D any more and its dirty flag is clear: kvm_set_pfn_dirty never ran, the host would drop the data');
  }
  return { checker: 'host dirty flag', violations };
}

/**
 * Does an SPTE in gfn's rmap still map pfn with D set? Then the write is not
 * lost yet: zapping that SPTE (kvm_unmap_rmapp) carries D to the host page.
 * rmapLocations is the explorer's bounded lock-free rmap read: in free play a
 * parked lane may hold mmu_lock while the verdict is asked for.
 */
function mappedDirty(e: RaceEngine, gfn: number, pfn: number): boolean {
  return rmapLocations(e.vm, gfn).some((loc) => {
    const spte = Atomics.load(e.vm.spt, loc);
    return isShadowPresentPte(spte) && spteToPfn(spte) === pfn && (spte & SPTE_DIRTY) !== 0;
  });
}

/** Is host page pfn in the free pool ('pfn-free' bit set)? */
function pfnIsFree(e: RaceEngine, pfn: number): boolean {
  const free = e.vm.pfnFree;
  const w = pfn >>> 5;
  return w < free.length && ((Atomics.load(free, w) >>> (pfn & 31)) & 1) !== 0;
}

/** T4: every present leaf SPTE of the lab VM maps the host page backing its gfn now. */
export function checkSptesMatchHost(e: RaceEngine): RaceCheckResult {
  const vm = e.vm;
  const violations: string[] = [];
  for (let sp = 0; sp < vm.config.shadowPages; sp++) {
    const m = sp * SP_META_WORDS;
    if ((vm.spMeta[m + SP_FLAGS]! & SP_FLAG_IN_USE) === 0 || (vm.spMeta[m + SP_ROLE]! & ROLE_INVALID) !== 0) continue;
    const level = spLevel(vm, sp);
    for (let i = 0; i < PAGE_WORDS; i++) {
      const spte = Atomics.load(vm.spt, sp * PAGE_WORDS + i);
      if (!isShadowPresentPte(spte) || !isLastSpte(spte, level)) continue;
      const gfn = kvmMmuPageGetGfn(vm, sp, i);
      const idx = gfnToTableIndex(vm, gfn);
      if (idx < 0) continue; // not RAM of a memslot
      const pte = Atomics.load(vm.gfnTable, idx);
      const pfn = spteToPfn(spte);
      if ((pte & HOST_PTE_PRESENT) !== 0 && pte >>> 12 === pfn) continue;
      const host = (pte & HOST_PTE_PRESENT) !== 0 ? `host pfn ${hex(pte >>> 12)}`
        : (pte & HOST_PTE_SWAPPED) !== 0 ? 'nothing: it is swapped out' : 'nothing';
      violations.push(`the SPTE for gfn ${hex(gfn)} (spt index ${sp * PAGE_WORDS + i}) maps host pfn ${hex(pfn)}` +
        `${pfnIsFree(e, pfn) ? ', a FREE page,' : ''} but the gfn is backed by ${host}: the guest's writes through it ` +
        'go to a page the host has taken away (a pfn looked up before an MMU-notifier invalidation, installed after it)');
    }
  }
  return { checker: 'SPTEs match the host', violations };
}

/** F7: what the walkers recorded (vCPU lanes 0 and 1). */
export function checkLocklessWalk(e: RaceEngine): RaceCheckResult {
  const violations: string[] = [];
  for (const lane of [0, 1]) {
    const w = raceBadWalk(e.vm, lane);
    if (w === null) continue;
    const fate = w.now < 0 ? 'freed' : `freed and reused (now it shadows gfn ${hex(w.now)})`;
    violations.push(`vCPU ${lane}'s lockless walk (fast page fault) was reading shadow page ${w.sp} (gfn ${hex(w.gfn)} when it ` +
      `entered) and the page was ${fate} before the walk ended${w.count > 1 ? ` (${w.count} such walks)` : ''}: a page table ` +
      'was freed under a walker whose remote-flush acknowledgement nobody waited for');
  }
  return { checker: 'lockless walk', violations };
}

export const ALL_CHECKERS = [checkDirtyLogCompleteness, checkStaleTlb, checkHostDirtyFlag, checkSptesMatchHost, checkLocklessWalk];

/** Run every checker; `checker` names those that found something (or all, when clean). */
export function runCheckers(e: RaceEngine): RaceCheckResult {
  const results = ALL_CHECKERS.map((c) => c(e));
  const bad = results.filter((r) => r.violations.length > 0);
  return {
    checker: (bad.length > 0 ? bad : results).map((r) => r.checker).join(' + '),
    violations: bad.flatMap((r) => r.violations.map((v) => `${r.checker}: ${v}`)),
  };
}
