// TLB-flush invariants T1-T4 (kvm-semantics.md §6.3) on the real code:
// T1 with the flush checker after every operation that takes write access
// away; T2 and T3 on real worker_threads (vCPUs entering and leaving guest
// mode, walking shadow pages locklessly) against kvmFlushRemoteTlbs, each
// with a broken vCPU or requester that the same check catches; T4, the
// MMU-notifier retry, driven deterministically through the fault's hook.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ACC_READ, ACC_WRITE, PRV_M, PRV_S, XLATE_EMULATE } from '../../../src/cpu/memory.ts';
import { kvmDirtyRingHarvest, kvmSetRunningVcpu } from '../../../src/kvm/dirty-ring.ts';
import { kvmGetDirtyLog, kvmResetDirtyRings } from '../../../src/kvm/dirtylog.ts';
import {
  FLUSH_CAUSE_REMOTE_FENCE, IN_GUEST_MODE, EXITING_GUEST_MODE, KVCPU_FLUSH_ACK, KVCPU_MODE, KVCPU_REQUESTS,
  KVCPU_STAT_PF_RETRY, KVCPU_WORDS, KVM_MMU_NOTIFIER_SEQ, KVM_REQ_TLB_FLUSH,
} from '../../../src/kvm/fields.ts';
import { kvmKsmMergePages, kvmMigratePage, kvmSwapOutPage } from '../../../src/kvm/host-ops.ts';
import type { Kvm } from '../../../src/kvm/kvm-host.ts';
import { mmuSetSpte } from '../../../src/kvm/mmu.ts';
import { kvmMmuNotifierInvalidateRangeEnd, kvmMmuNotifierInvalidateRangeStart } from '../../../src/kvm/mmu-notifier.ts';
import { kvmFlushRemoteTlbs } from '../../../src/kvm/requests.ts';
import type { VmShared } from '../../../src/kvm/shm.ts';
import { ACC_ALL, SPTE_PRESENT, SPTE_WRITABLE, spteWriteProtect } from '../../../src/kvm/spte.ts';
import { kvmSetUnsafe, UNSAFE_NO_FLUSH_AFTER_WRPROT } from '../../../src/kvm/unsafe.ts';
import { PTE_A, PTE_D, PTE_R, PTE_V, PTE_W, gpte, leafSpte, map4k, pfnOf, satpFor, writePhys, zapAll, type TestVcpu } from '../mmu-helpers.ts';
import {
  checkFlushAfterWriteProtect, checkNoSpteDuringInvalidation, checkSptesMatchHost, flushMark, sptesInRange,
} from './checkers.ts';
import {
  RAM, RAM_GFN, WorkerPool, clearPages, enableRing, manualProtect, setLogging, setup, sleep, spteOf, touch, waitFor,
} from './setup.ts';
import { CHECKPOINT, FLUSHES, ITERATIONS, READY, STOP, TLB_GEN, VIOLATIONS, WALKING, WORDS } from './workers/words.ts';

afterEach(() => kvmSetRunningVcpu(-1));

const vcpuThreads = new WorkerPool('mode-worker.ts', 2);
afterAll(() => vcpuThreads.terminate());

const W = SPTE_WRITABLE;

/** SPTE locations that lost W (or went away) between `before` and now. */
function downgraded(vm: VmShared, before: Int32Array): number {
  let n = 0;
  for (let loc = 0; loc < before.length; loc++) {
    if ((before[loc]! & (SPTE_PRESENT | W)) === (SPTE_PRESENT | W) && (vm.spt[loc]! & W) === 0) n++;
  }
  return n;
}

describe('T1: every W → 0 transition is followed by a remote flush before the caller relies on it', () => {
  it('T1: enable logging, GET, CLEAR, ring reset, shadowing a table, emulated PTE write, notifier, swap, migrate, KSM, zap all', () => {
    const { vm, kvm, vcpus } = setup(2);
    const [v0, v1] = vcpus as [TestVcpu, TestVcpu];
    const root = RAM + 0x10000;
    const l1 = RAM + 0x11000;
    const writeAll = (): void => {
      for (let p = 0; p < 80; p++) touch(p % 2 ? v0 : v1, p, ACC_WRITE);
    };
    const step = (name: string, op: () => void): void => {
      for (const v of vcpus) v.req.vcpuCheckRequests(); // nothing pending before the operation
      writeAll();
      for (const v of vcpus) v.req.vcpuCheckRequests();
      const before = Int32Array.from(vm.spt);
      const mark = flushMark(vm);
      op();
      expect(downgraded(vm, before), `${name}: took write access away`).toBeGreaterThan(0);
      expect(checkFlushAfterWriteProtect(vm, before, mark), name).toEqual([]);
    };
    step('enable logging', () => setLogging(kvm, true));
    step('GET_DIRTY_LOG', () => kvmGetDirtyLog(kvm, 0));
    step('CLEAR_DIRTY_LOG', () => {
      manualProtect(kvm);
      clearPages(kvm, 0, 0, 64, [1, 2, 3, 40]);
      manualProtect(kvm, 0);
    });
    step('shadowing a guest page table (rmap_write_protect)', () => {
      map4k(vm, root, l1, 0x40_0000, RAM + 0x60000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
      v0.mmu.translate(root, ACC_WRITE, PRV_M, 0, 0);
      v0.mmu.translate(l1, ACC_WRITE, PRV_M, 0, 0);
      for (const v of vcpus) v.req.vcpuCheckRequests();
      v0.mmu.translate(0x40_0000, ACC_WRITE, PRV_S, satpFor(root), 0);
    });
    step('emulated write to a shadowed table (kvm_mmu_pte_write zaps)', () => {
      expect(v0.mmu.translate(0x40_0000, ACC_WRITE, PRV_S, satpFor(root), 0)).toBeGreaterThanOrEqual(0);
      expect(v1.mmu.translate(l1, ACC_WRITE, PRV_M, 0, 0)).toBe(XLATE_EMULATE);
      Atomics.store(vm.ramI32, v1.mmu.hostAddr >>> 2, gpte(RAM + 0x61000, PTE_V | PTE_R | PTE_A));
      v1.mmu.afterEmulatedWrite();
    });
    step('MMU-notifier invalidation', () => {
      kvmMmuNotifierInvalidateRangeStart(kvm, RAM_GFN + 10, RAM_GFN + 12);
      kvmMmuNotifierInvalidateRangeEnd(kvm);
    });
    step('swap-out', () => kvmSwapOutPage(kvm, RAM_GFN + 20));
    step('migrate', () => kvmMigratePage(kvm, RAM_GFN + 21));
    step('KSM merge', () => {
      for (const p of [30, 31]) writePhys(vm, RAM + p * 4096, 0); // identical contents
      expect(kvmKsmMergePages(kvm, RAM_GFN + 30, RAM_GFN + 31)).toBe(true);
    });
    step('zap all', () => zapAll(kvm));
  });

  it('T1: ring reset flushes before it returns', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    enableRing(kvm);
    setLogging(kvm, true);
    kvmSetRunningVcpu(0);
    for (let p = 0; p < 10; p++) touch(v!, p, ACC_WRITE);
    v!.req.vcpuCheckRequests();
    kvmDirtyRingHarvest(vm, 0, { fetchIndex: 0 });
    const before = Int32Array.from(vm.spt);
    const mark = flushMark(vm);
    expect(kvmResetDirtyRings(kvm)).toBe(10);
    expect(downgraded(vm, before)).toBe(10);
    expect(checkFlushAfterWriteProtect(vm, before, mark)).toEqual([]);
  });

  it('T1: the checker catches GET without its flush, and a write-protect by hand with no flush', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    setLogging(kvm, true);
    for (const p of [1, 2]) touch(v!, p, ACC_WRITE);
    v!.req.vcpuCheckRequests();
    kvmSetUnsafe(vm, UNSAFE_NO_FLUSH_AFTER_WRPROT);
    let before = Int32Array.from(vm.spt);
    let mark = flushMark(vm);
    kvmGetDirtyLog(kvm, 0);
    expect(checkFlushAfterWriteProtect(vm, before, mark).sort()).toEqual([spteOf(v!, 1)[0], spteOf(v!, 2)[0]].sort());
    kvmSetUnsafe(vm, 0);
    touch(v!, 3, ACC_WRITE);
    v!.req.vcpuCheckRequests();
    before = Int32Array.from(vm.spt);
    mark = flushMark(vm);
    const [loc] = spteOf(v!, 3);
    kvm.mmuLock.lock();
    expect(spteWriteProtect(vm, loc, false)).toBe(true); // it says "flush needed" ...
    kvm.mmuLock.unlock(); // ... and nobody flushes
    expect(checkFlushAfterWriteProtect(vm, before, mark)).toEqual([loc]);
  });
});

// ── T2 / T3 on real threads ────────────────────────────────────────────────

type Requester = 'real' | 'no-wait' | 'in-guest-only';

/** No multi-threaded run goes on longer than this, however slow the machine. */
const HARD_STOP_MS = 10_000;

/**
 * A requester that is broken on purpose. 'no-wait': sets the request and
 * returns. 'in-guest-only': kicks and waits only for vCPUs that were
 * IN_GUEST_MODE, forgetting READING_SHADOW_PAGE_TABLES.
 */
function brokenFlush(vm: VmShared, how: Requester): void {
  const v = vm.kvmVcpu;
  for (let i = 0; i < vm.config.vcpus; i++) {
    const b = i * KVCPU_WORDS;
    const snap = Atomics.load(v, b + KVCPU_FLUSH_ACK);
    Atomics.or(v, b + KVCPU_REQUESTS, KVM_REQ_TLB_FLUSH);
    if (how === 'no-wait') continue;
    const old = Atomics.compareExchange(v, b + KVCPU_MODE, IN_GUEST_MODE, EXITING_GUEST_MODE);
    if (old !== IN_GUEST_MODE) continue;
    const until = Date.now() + 2000;
    while (Atomics.load(v, b + KVCPU_FLUSH_ACK) === snap && Atomics.load(v, b + KVCPU_MODE) !== 0 && Date.now() < until) {
      Atomics.wait(v, b + KVCPU_FLUSH_ACK, snap, 5);
    }
  }
}

function flushAll(kvm: Kvm, how: Requester): void {
  if (how === 'real') kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_REMOTE_FENCE);
  else brokenFlush(kvm.vm, how);
}

interface FlushRun {
  violations: number;
  rounds: number;
  iterations: number[];
  flushes: number[];
  midWalk: number;
}

/**
 * Two mode-worker.ts vCPUs in `mode`; this thread, in rounds: publish a new
 * generation (an SPTE change), flush, then declare it the checkpoint (rely on
 * it). For walkers it also counts flushes that returned while the walk that
 * was running when the flush began was still running.
 */
async function flushRounds(mode: string, how: Requester, ms: number, stopOnViolation: boolean, minRounds = 0): Promise<FlushRun> {
  const { vm, kvm } = setup(2);
  const shared = new SharedArrayBuffer(WORDS * 4);
  const s = new Int32Array(shared);
  const done = vcpuThreads.run((vcpuId) => ({ hv: vm.hv, ram: vm.ram, vcpuId, shared, mode }));
  try {
    await waitFor(s, READY, 2);
    await waitFor(s, ITERATIONS, 1);
    await waitFor(s, ITERATIONS + 1, 1);
    let rounds = 0;
    let midWalk = 0;
    // At least `ms`, and (on a slow machine) until `minRounds` rounds and some
    // progress on both vCPUs, but never more than HARD_STOP_MS.
    const t0 = Date.now();
    const enough = (): boolean => Date.now() - t0 >= ms && rounds >= minRounds &&
      Atomics.load(s, ITERATIONS) >= 10 && Atomics.load(s, ITERATIONS + 1) >= 10;
    while (!enough() && Date.now() - t0 < HARD_STOP_MS) {
      for (let k = 0; k < 50; k++) {
        rounds++;
        Atomics.store(s, TLB_GEN, rounds);
        const walks = [Atomics.load(s, WALKING), Atomics.load(s, WALKING + 1)];
        flushAll(kvm, how);
        for (let i = 0; i < 2; i++) if ((walks[i]! & 1) === 1 && Atomics.load(s, WALKING + i) === walks[i]) midWalk++;
        Atomics.store(s, CHECKPOINT, rounds);
      }
      if (stopOnViolation && (Atomics.load(s, VIOLATIONS) > 0 || midWalk > 0)) break;
      await sleep(0);
    }
    Atomics.store(s, STOP, 1);
    await done;
    return {
      violations: s[VIOLATIONS]!, rounds, iterations: [s[ITERATIONS]!, s[ITERATIONS + 1]!],
      flushes: [s[FLUSHES]!, s[FLUSHES + 1]!], midWalk,
    };
  } finally {
    Atomics.store(s, STOP, 1);
    await done;
  }
}

describe('T2: no lost request (request then mode, against mode then requests)', () => {
  it('T2: vCPUs entering and leaving guest mode never run guest code with a translation older than a completed flush', async () => {
    const r = await flushRounds('enter-exit', 'real', 400, false, 150);
    expect(r.rounds).toBeGreaterThanOrEqual(150);
    expect(r.iterations[0]).toBeGreaterThanOrEqual(10);
    expect(r.iterations[1]).toBeGreaterThanOrEqual(10);
    expect(r.flushes[0]).toBeGreaterThan(0);
    expect(r.violations).toBe(0);
  }, 20_000);

  it('T2: the same check catches a vCPU that reads its requests before it stores IN_GUEST_MODE', async () => {
    const r = await flushRounds('broken-enter', 'real', 8000, true);
    expect(r.violations).toBeGreaterThan(0);
  }, 20_000);
});

describe('T3: the requester waits for every vCPU in guest mode or walking shadow pages', () => {
  it('T3: vCPUs in guest mode: every flush returns only after each has flushed (no stale use after the checkpoint)', async () => {
    const r = await flushRounds('guest', 'real', 400, false, 150);
    expect(r.rounds).toBeGreaterThanOrEqual(150);
    expect(r.flushes[0]).toBeGreaterThan(0);
    expect(r.flushes[1]).toBeGreaterThan(0);
    expect(r.violations).toBe(0);
  }, 20_000);

  it('T3: the same check catches a requester that does not wait for the acknowledgements', async () => {
    const r = await flushRounds('guest', 'no-wait', 8000, true);
    expect(r.violations).toBeGreaterThan(0);
  }, 20_000);

  it('T3: a flush never returns while a lockless walk that was running when it began is still running', async () => {
    const r = await flushRounds('walker', 'real', 400, false, 150);
    expect(r.rounds).toBeGreaterThanOrEqual(150);
    expect(r.iterations[0]).toBeGreaterThanOrEqual(10);
    expect(r.midWalk).toBe(0);
  }, 20_000);

  it('T3: the same check catches a requester that waits only for IN_GUEST_MODE (forgets READING_SHADOW_PAGE_TABLES)', async () => {
    const r = await flushRounds('walker', 'in-guest-only', 8000, true);
    expect(r.midWalk).toBeGreaterThan(0);
  }, 20_000);
});

// ── T4: the MMU-notifier retry ─────────────────────────────────────────────

describe('T4: no SPTE for the range between range_start and range_end; a fault that looked up its pfn before retries', () => {
  const G = RAM_GFN + 0x50;

  it('T4: a fault whose gfn_to_pfn ran before an invalidation retries while it runs and after it ends (direct and Sv32)', () => {
    for (const paging of [false, true]) {
      const { vm, kvm, vcpus: [v] } = setup();
      const root = RAM + 0x10000;
      const va = 0x40_0000;
      if (paging) map4k(vm, root, root + 0x1000, va, G * 4096, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
      const access = (): number => (paging ? v!.mmu.translate(va, ACC_READ, PRV_S, satpFor(root), 0) : touch(v!, 0x50, ACC_READ));
      const during: number[][] = [];
      let calls = 0;
      v!.kvm.hookAfterGfnToPfn = (gfn) => {
        calls++;
        if (calls === 1) kvmMmuNotifierInvalidateRangeStart(kvm, gfn, gfn + 1); // count != 0 from here
        else if (calls === 2) {
          during.push(checkNoSpteDuringInvalidation(vm, G, G + 1));
          kvmMmuNotifierInvalidateRangeEnd(kvm); // seq moves: the second try must retry too
        } else if (calls === 3) {
          kvmMigratePage(kvm, gfn); // a whole invalidation (start + end) after this try's gfn_to_pfn
        }
      };
      const host = access();
      v!.kvm.hookAfterGfnToPfn = null;
      expect(calls, paging ? 'Sv32' : 'direct').toBe(4);
      expect(vm.kvmVcpu[KVCPU_STAT_PF_RETRY]).toBe(3);
      expect(during).toEqual([[]]);
      expect(sptesInRange(vm, G, G + 1)).toEqual([G]);
      expect(checkSptesMatchHost(vm)).toEqual([]); // the SPTE maps the page's pfn after the migration
      expect(host >>> 12).toBe(pfnOf(vm, G));
    }
  });

  it('T4: with the seq bump skipped, a fault installs the pfn it looked up before the invalidation: the check fails', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    let calls = 0;
    v!.kvm.hookAfterGfnToPfn = (gfn) => {
      if (calls++ !== 0) return;
      kvmMigratePage(kvm, gfn); // invalidate_range_start, move the page, invalidate_range_end ...
      Atomics.sub(vm.kvm, KVM_MMU_NOTIFIER_SEQ, 1); // ... minus its mmu_notifier_seq++
    };
    touch(v!, 0x50, ACC_READ);
    v!.kvm.hookAfterGfnToPfn = null;
    expect(calls).toBe(1); // no retry
    expect(vm.kvmVcpu[KVCPU_STAT_PF_RETRY]).toBe(0);
    expect(checkSptesMatchHost(vm)).toEqual([G]); // an SPTE to a page the host took away
  });

  it('T4: the checker reports an SPTE installed while an invalidation is in progress', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    touch(v!, 0x51, ACC_READ); // the direct page for the range exists
    kvmMmuNotifierInvalidateRangeStart(kvm, G, G + 2);
    expect(checkNoSpteDuringInvalidation(vm, G, G + 2)).toEqual([]);
    const [loc, old] = leafSpte(vm, v!.mmu.nonpagingRoot, G * 4096);
    expect(old).toBe(0); // zapped by range_start; its shadow page is still linked
    const pfn = pfnOf(vm, G);
    kvm.mmuLock.lock();
    mmuSetSpte(kvm, Math.floor(loc / 1024), G & 0x3ff, ACC_ALL, G, pfn, true, false); // no mmu_notifier_retry
    kvm.mmuLock.unlock();
    expect(checkNoSpteDuringInvalidation(vm, G, G + 2)).toEqual([G]);
    kvmMmuNotifierInvalidateRangeEnd(kvm);
    expect(checkNoSpteDuringInvalidation(vm, G, G + 2)).toEqual([]); // over: SPTEs are allowed again
  });
});

