// Host memory operations through the MMU-notifier protocol (host-ops.ts,
// swap-store.ts): swap out/in, KSM merge and copy-on-write, migration. Each
// test checks the contents, the zapped SPTEs (rmap empty) and the flush, the
// exact pfn refcounts and pool counts, and that errors change nothing.
// Single-threaded like mmu.test.ts: the vCPU never declares itself in guest
// mode, so flushes never wait.
import { describe, expect, it } from 'vitest';
import { ACC_READ, ACC_WRITE, PRV_M } from '../../src/cpu/memory.ts';
import {
  FLUSH_CAUSE_MMU_NOTIFIER, HOST_PTE_PRESENT, HOST_PTE_SWAPPED, HOST_PTE_WRITABLE, HOSTOP_KSM_COW_COPIES,
  HOSTOP_KSM_COW_REUSES, HOSTOP_KSM_MERGES, HOSTOP_MIGRATIONS, KVCPU_STAT_PF_RETRY, KVCPU_WORDS,
  KVM_MMU_NOTIFIER_COUNT, KVM_MMU_NOTIFIER_SEQ, PFN_DIRTY, STAT_FLUSH_CAUSE, SWAP_INS, SWAP_OUTS,
} from '../../src/kvm/fields.ts';
import { kvmAllocPfn, kvmPoolFreeCount, kvmReleasePfnClean } from '../../src/kvm/hostmem.ts';
import { kvmKsmMergePages, kvmMigratePage, kvmSwapOutPage } from '../../src/kvm/host-ops.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import { gfnToPfnProt, gfnToTableIndex } from '../../src/kvm/memslot.ts';
import { mmuNotifierRetry, mmuNotifierSeq } from '../../src/kvm/mmu.ts';
import type { VmShared } from '../../src/kvm/shm.ts';
import { SPTE_HOST_WRITEABLE, SPTE_MMU_WRITEABLE, SPTE_WRITABLE } from '../../src/kvm/spte.ts';
import { swapSlotWords, swapUsed } from '../../src/kvm/swap-store.ts';
import { kvmResetGuestMemory } from '../../src/kvm/vm-reset.ts';
import { RAM, RAM_GFN, leafSpte, makeVcpu, makeVm, rmapOf, type TestVcpu } from './mmu-helpers.ts';

const G = RAM_GFN + 0x40; // the pages under test
const H = RAM_GFN + 0x41;
const pa = (gfn: number): number => gfn * 4096;

/** The host PTE of gfn, read directly (pfnOf would swap a page in). */
function hostPte(vm: VmShared, gfn: number): number {
  return vm.gfnTable[gfnToTableIndex(vm, gfn)]!;
}
const pfnIn = (vm: VmShared, gfn: number): number => hostPte(vm, gfn) >>> 12;
const isFree = (vm: VmShared, pfn: number): boolean => (vm.pfnFree[pfn >>> 5]! & (1 << (pfn & 31))) !== 0;
const notifierFlushes = (vm: VmShared): number => vm.stats[STAT_FLUSH_CAUSE + FLUSH_CAUSE_MMU_NOTIFIER]!;
const swapStat = (vm: VmShared, f: number): number => vm.view('swap-map')[f]!;
const vstat = (vm: VmShared, field: number): number => vm.kvmVcpu[field + 0 * KVCPU_WORDS]!;

/** Map gfn through the vCPU's direct map with a write (SPTE W, D set) and fill it with `tag`. */
function touchAndFill(v: TestVcpu, gfn: number, tag: number): number {
  const host = v.mmu.translate(pa(gfn), ACC_WRITE, PRV_M, 0, 0);
  const ram = v.kvm.vm.ramI32;
  for (let i = 0; i < 1024; i++) ram[host / 4 + i] = (tag * 1000 + i) | 0;
  return host >>> 12;
}

/** The guest's view of word i of gfn, through a (read) translation. */
function guestWord(v: TestVcpu, gfn: number, i: number): number {
  const host = v.mmu.translate(pa(gfn) + i * 4, ACC_READ, PRV_M, 0, 0); // the page's host base
  return v.kvm.vm.ramI32[host / 4 + i]!;
}

function expectFilled(v: TestVcpu, gfn: number, tag: number): void {
  for (const i of [0, 1, 511, 1023]) expect(guestWord(v, gfn, i)).toBe((tag * 1000 + i) | 0);
}

/** Everything an op may change, to show that a failing op changed nothing. */
function snapshot(vm: VmShared): string {
  return JSON.stringify([
    Array.from(vm.gfnTable), Array.from(vm.pfnRefcount), Array.from(vm.pfnFree), Array.from(vm.rmapHeads),
    Array.from(vm.spt), kvmPoolFreeCount(vm), swapUsed(vm), vm.kvm[KVM_MMU_NOTIFIER_SEQ], vm.kvm[KVM_MMU_NOTIFIER_COUNT],
    notifierFlushes(vm),
  ]);
}

function setup(): { vm: VmShared; host: Kvm; v: TestVcpu } {
  const vm = makeVm();
  return { vm, host: new Kvm(vm), v: makeVcpu(vm) };
}

describe('swap out and in', () => {
  it('keeps the contents, zaps the SPTEs with their D bit, frees the pfn, and swaps in on the next fault', () => {
    const { vm, host, v } = setup();
    const old = touchAndFill(v, G, 7);
    expect(rmapOf(v.kvm, G)).toHaveLength(1);
    const free0 = kvmPoolFreeCount(vm);
    const flush0 = notifierFlushes(vm);
    const seq0 = vm.kvm[KVM_MMU_NOTIFIER_SEQ]!;

    expect(kvmSwapOutPage(host, G)).toBe(true);
    expect(rmapOf(v.kvm, G)).toEqual([]);
    expect(leafSpte(vm, v.mmu.nonpagingRoot, pa(G))[1]).toBe(0);
    expect(notifierFlushes(vm)).toBe(flush0 + 1);
    expect(vm.kvm[KVM_MMU_NOTIFIER_SEQ]).toBe(seq0 + 1);
    expect(vm.kvm[KVM_MMU_NOTIFIER_COUNT]).toBe(0);
    expect(vm.pfnFlags[old]! & PFN_DIRTY).toBe(PFN_DIRTY); // the SPTE's D reached the host page
    const pte = hostPte(vm, G);
    expect(pte & (HOST_PTE_PRESENT | HOST_PTE_SWAPPED)).toBe(HOST_PTE_SWAPPED);
    expect(swapSlotWords(vm, pte >>> 12)[511]).toBe(7 * 1000 + 511);
    expect(vm.pfnRefcount[old]).toBe(0);
    expect(isFree(vm, old)).toBe(true);
    expect(kvmPoolFreeCount(vm)).toBe(free0 + 1);
    expect(swapUsed(vm)).toBe(1);
    expect(swapStat(vm, SWAP_OUTS)).toBe(1);
    expect(kvmSwapOutPage(host, G)).toBe(false); // already out: nothing to do
    expect(kvmSwapOutPage(host, H)).toBe(false); // never touched

    // The next access faults it back in: a fresh pfn with the old contents.
    expectFilled(v, G, 7);
    const now = pfnIn(vm, G);
    expect(hostPte(vm, G) & (HOST_PTE_PRESENT | HOST_PTE_WRITABLE)).toBe(HOST_PTE_PRESENT | HOST_PTE_WRITABLE);
    expect(vm.pfnRefcount[now]).toBe(1);
    expect(kvmPoolFreeCount(vm)).toBe(free0);
    expect(swapUsed(vm)).toBe(0);
    expect(swapStat(vm, SWAP_INS)).toBe(1);
    expect(leafSpte(vm, v.mmu.nonpagingRoot, pa(G))[1] >>> 12).toBe(now);
  });

  it('gives the swap slot back when guest memory is reset', () => {
    const { vm, host, v } = setup();
    touchAndFill(v, G, 1);
    kvmSwapOutPage(host, G);
    expect(swapUsed(vm)).toBe(1);
    kvmResetGuestMemory(host);
    expect(swapUsed(vm)).toBe(0);
    expect(hostPte(vm, G)).toBe(0);
    expect(kvmPoolFreeCount(vm)).toBe(vm.config.poolPfns);
  });
});

describe('the notifier retry: a fault that looked its pfn up before a swap-out', () => {
  it('retries and maps the swapped-in page, never the stale pfn', () => {
    const { vm, host, v } = setup();
    touchAndFill(v, G, 3);
    kvmMmuZapLeaf(v, G); // no SPTE: the next access takes the slow path
    const before = pfnIn(vm, G);
    let calls = 0;
    let pinnedOnly = -1;
    let retryWanted = false;
    const seqBefore = mmuNotifierSeq(vm);
    v.kvm.hookAfterGfnToPfn = (gfn) => {
      if (calls++ !== 0) return;
      kvmSwapOutPage(host, gfn); // exactly between gfn_to_pfn and mmu_lock
      pinnedOnly = vm.pfnRefcount[before]!; // only the fault's pin keeps it
      retryWanted = mmuNotifierRetry(vm, seqBefore);
    };
    expectFilled(v, G, 3);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(pinnedOnly).toBe(1);
    expect(retryWanted).toBe(true);
    expect(vstat(vm, KVCPU_STAT_PF_RETRY)).toBe(1);
    // The SPTE maps the page's current pfn (which the pool may well have
    // handed out again: what matters is that it is gfn's page now).
    const spte = leafSpte(vm, v.mmu.nonpagingRoot, pa(G))[1];
    expect(spte >>> 12).toBe(pfnIn(vm, G));
    expect(rmapOf(v.kvm, G)).toHaveLength(1);
    expect(vm.pfnRefcount[pfnIn(vm, G)]).toBe(1);
    expect(swapUsed(vm)).toBe(0); // swapped back in by the retried fault
  });

  it('without the check the stale pfn would be mapped: it is free and the pool reuses it for another gfn', () => {
    // There is no switch that disables mmu_notifier_retry, so replay the
    // fault's steps by hand and skip the check, as the unsafe path would.
    const { vm, host, v } = setup();
    touchAndFill(v, G, 5);
    const seq = mmuNotifierSeq(vm);
    const hostPteWord = gfnToPfnProt(vm, G, false); // the fault's gfn_to_pfn: pinned
    const stalePfn = hostPteWord >>> 12;
    kvmSwapOutPage(host, G); // the host invalidates before the fault takes mmu_lock
    expect(mmuNotifierRetry(vm, seq)).toBe(true); // what the real fault path checks
    kvmReleasePfnClean(vm, stalePfn); // the fault drops its pin
    expect(isFree(vm, stalePfn)).toBe(true);
    // The next host allocation gets the very same pfn, for whatever gfn needs it:
    // an SPTE built from the stale pfn would now alias that page.
    const reused = kvmAllocPfn(vm);
    expect(reused).toBe(stalePfn);
    expect(vm.ramI32[reused * 1024 + 9]).toBe(0); // zero-filled: the guest's data is not there
    kvmReleasePfnClean(vm, reused);
  });
});

describe('migration', () => {
  it('moves the page to a fresh pfn, zaps its SPTEs and frees the old pfn', () => {
    const { vm, host, v } = setup();
    const old = touchAndFill(v, G, 9);
    const free0 = kvmPoolFreeCount(vm);
    const flush0 = notifierFlushes(vm);
    const now = kvmMigratePage(host, G);
    expect(now).not.toBe(old);
    expect(now).toBeGreaterThanOrEqual(0);
    expect(pfnIn(vm, G)).toBe(now);
    expect(hostPte(vm, G) & (HOST_PTE_PRESENT | HOST_PTE_WRITABLE)).toBe(HOST_PTE_PRESENT | HOST_PTE_WRITABLE);
    expect(rmapOf(v.kvm, G)).toEqual([]);
    expect(notifierFlushes(vm)).toBe(flush0 + 1);
    expect(vm.pfnRefcount[old]).toBe(0);
    expect(isFree(vm, old)).toBe(true);
    expect(vm.pfnRefcount[now]).toBe(1);
    expect(kvmPoolFreeCount(vm)).toBe(free0);
    expect(swapStat(vm, HOSTOP_MIGRATIONS)).toBe(1);
    expectFilled(v, G, 9);
    expect(leafSpte(vm, v.mmu.nonpagingRoot, pa(G))[1] >>> 12).toBe(now);
    expect(kvmMigratePage(host, H)).toBe(-1); // never touched: nothing to move
  });
});

describe('KSM merge and copy-on-write', () => {
  it('shares one read-only pfn, then a write breaks the sharing and the other gfn keeps the old contents', () => {
    const { vm, host, v } = setup();
    const pa0 = touchAndFill(v, G, 4);
    const pb0 = touchAndFill(v, H, 4);
    expect(guestWord(v, H, 0)).toBe(4000); // read SPTEs too
    const free0 = kvmPoolFreeCount(vm);
    const flush0 = notifierFlushes(vm);

    expect(kvmKsmMergePages(host, G, H)).toBe(true);
    expect(rmapOf(v.kvm, G)).toEqual([]);
    expect(rmapOf(v.kvm, H)).toEqual([]);
    expect(notifierFlushes(vm)).toBe(flush0 + 2); // one invalidation per gfn
    expect(pfnIn(vm, G)).toBe(pa0);
    expect(pfnIn(vm, H)).toBe(pa0);
    expect(hostPte(vm, G) & HOST_PTE_WRITABLE).toBe(0);
    expect(hostPte(vm, H) & HOST_PTE_WRITABLE).toBe(0);
    expect(vm.pfnRefcount[pa0]).toBe(2);
    expect(vm.pfnRefcount[pb0]).toBe(0);
    expect(isFree(vm, pb0)).toBe(true);
    expect(kvmPoolFreeCount(vm)).toBe(free0 + 1);
    expect(swapStat(vm, HOSTOP_KSM_MERGES)).toBe(1);
    expect(kvmKsmMergePages(host, G, H)).toBe(false); // already shared

    // Reads map the shared pfn with neither W nor SPTE_HOST_WRITEABLE.
    expectFilled(v, G, 4);
    expectFilled(v, H, 4);
    for (const gfn of [G, H]) {
      const spte = leafSpte(vm, v.mmu.nonpagingRoot, pa(gfn))[1];
      expect(spte >>> 12).toBe(pa0);
      expect(spte & (SPTE_WRITABLE | SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE)).toBe(0);
    }

    // A guest write to G: the slow path gives G a private copy (seq bumped, so
    // the fault retries once) and G's old SPTE is gone.
    const retries0 = vstat(vm, KVCPU_STAT_PF_RETRY);
    const flush1 = notifierFlushes(vm);
    const hostAddr = v.mmu.translate(pa(G) + 8, ACC_WRITE, PRV_M, 0, 0);
    const priv = hostAddr >>> 12;
    expect(priv).not.toBe(pa0);
    expect(pfnIn(vm, G)).toBe(priv);
    expect(hostPte(vm, G) & HOST_PTE_WRITABLE).toBe(HOST_PTE_WRITABLE);
    expect(vstat(vm, KVCPU_STAT_PF_RETRY)).toBe(retries0 + 1);
    expect(notifierFlushes(vm)).toBe(flush1 + 1);
    expect(swapStat(vm, HOSTOP_KSM_COW_COPIES)).toBe(1);
    vm.ramI32[hostAddr / 4 + 2] = 0x1234; // translate returns the page's host base
    expect(guestWord(v, G, 2)).toBe(0x1234);
    expect(guestWord(v, G, 3)).toBe(4003); // the rest was copied
    expect(guestWord(v, H, 2)).toBe(4002); // H still sees the shared, unchanged page
    expect(pfnIn(vm, H)).toBe(pa0);
    expect(vm.pfnRefcount[pa0]).toBe(1);
    expect(vm.pfnRefcount[priv]).toBe(1);
    expect(kvmPoolFreeCount(vm)).toBe(free0);
    const sG = leafSpte(vm, v.mmu.nonpagingRoot, pa(G))[1];
    expect(sG & (SPTE_WRITABLE | SPTE_HOST_WRITEABLE)).toBe(SPTE_WRITABLE | SPTE_HOST_WRITEABLE);

    // A write to H, now the last mapping of the shared pfn: made writable in place.
    const hAddr = v.mmu.translate(pa(H), ACC_WRITE, PRV_M, 0, 0);
    expect(hAddr >>> 12).toBe(pa0);
    expect(hostPte(vm, H) & HOST_PTE_WRITABLE).toBe(HOST_PTE_WRITABLE);
    expect(swapStat(vm, HOSTOP_KSM_COW_REUSES)).toBe(1);
    expect(vm.pfnRefcount[pa0]).toBe(1);
    expect(kvmPoolFreeCount(vm)).toBe(free0);
  });

  it('frees the shared pfn when the last mapping goes (swap-out of both)', () => {
    const { vm, host, v } = setup();
    const p = touchAndFill(v, G, 2);
    touchAndFill(v, H, 2);
    kvmKsmMergePages(host, G, H);
    const free0 = kvmPoolFreeCount(vm);
    kvmSwapOutPage(host, G);
    expect(vm.pfnRefcount[p]).toBe(1);
    expect(kvmPoolFreeCount(vm)).toBe(free0);
    kvmSwapOutPage(host, H);
    expect(vm.pfnRefcount[p]).toBe(0);
    expect(isFree(vm, p)).toBe(true);
    expect(kvmPoolFreeCount(vm)).toBe(free0 + 1);
    expectFilled(v, G, 2);
    expectFilled(v, H, 2);
    expect(pfnIn(vm, G)).not.toBe(pfnIn(vm, H)); // swapped in separately
  });

  it('refuses different contents, the same gfn twice and pages not resident, changing nothing', () => {
    const { vm, host, v } = setup();
    touchAndFill(v, G, 1);
    touchAndFill(v, H, 2);
    const before = snapshot(vm);
    expect(() => kvmKsmMergePages(host, G, H)).toThrow(/EINVAL: .*different contents/);
    expect(() => kvmKsmMergePages(host, G, G)).toThrow(/EINVAL: .*given twice/);
    expect(() => kvmKsmMergePages(host, G, RAM_GFN + 0x99)).toThrow(/EINVAL: .*not resident/);
    expect(snapshot(vm)).toBe(before);
  });
});

describe('gfns outside every memslot', () => {
  it('EFAULT naming the gfn from every op, and nothing changes', () => {
    const { vm, host, v } = setup();
    touchAndFill(v, G, 6);
    const before = snapshot(vm);
    const bad = 0x1000; // guest physical 0x100_0000: no memslot there
    expect(() => kvmSwapOutPage(host, bad)).toThrow(/EFAULT: swap-out: gfn 0x1000 .*no memslot/);
    expect(() => kvmMigratePage(host, bad)).toThrow(/EFAULT: migrate: gfn 0x1000 /);
    expect(() => kvmKsmMergePages(host, G, bad)).toThrow(/EFAULT: ksm-merge: gfn 0x1000 /);
    expect(() => kvmKsmMergePages(host, bad, G)).toThrow(/EFAULT: ksm-merge: gfn 0x1000 /);
    expect(() => kvmSwapOutPage(host, -1)).toThrow(/EFAULT/);
    expect(() => kvmSwapOutPage(host, 1 << 21)).toThrow(/EFAULT/);
    expect(() => kvmSwapOutPage(host, 1.5)).toThrow(/EINVAL/);
    expect(snapshot(vm)).toBe(before);
  });
});

/** Zap gfn's SPTEs the way a host invalidation would, without changing its page. */
function kvmMmuZapLeaf(v: TestVcpu, gfn: number): void {
  const vm = v.kvm.vm;
  const host = new Kvm(vm);
  const migrated = kvmMigratePage(host, gfn); // an invalidation with a harmless page move
  expect(migrated).toBeGreaterThanOrEqual(0);
  expect(rmapOf(v.kvm, gfn)).toEqual([]);
}
