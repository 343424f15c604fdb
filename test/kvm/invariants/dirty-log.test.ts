// Dirty-log invariants I1-I5, I7, I8 (kvm-semantics.md §6.1), each asserted
// on the real code with a checker from checkers.ts, and each checker shown to
// report a violation built on purpose. I1 also runs on real worker_threads:
// two vCPUs write while this thread collects, in all three modes, and the
// same run with the flush after write-protect switched off loses pages.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ACC_READ, ACC_WRITE, PRV_S } from '../../../src/cpu/memory.ts';
import { DirtyLogChecker, type CheckedPage } from '../../../src/kvm/dirty-check.ts';
import {
  KVM_DIRTY_RING_RSVD_ENTRIES, kvmDirtyRingCheckRequest, kvmDirtyRingHarvest, kvmDirtyRingPush, kvmSetRunningVcpu,
} from '../../../src/kvm/dirty-ring.ts';
import {
  KVM_DIRTY_LOG_INITIALLY_SET, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE, kvmClearDirtyLog, kvmGetDirtyLog, kvmResetDirtyRings,
} from '../../../src/kvm/dirtylog.ts';
import {
  DRING_HDR_WORDS, DRING_RESET_INDEX, KVM_DIRTY_GFN_FLAGS, KVM_DIRTY_GFN_F_DIRTY, KVM_DIRTY_GFN_F_RESET,
  KVM_DIRTY_GFN_WORDS, KVM_MEM_LOG_DIRTY_PAGES, KVM_REQ_DIRTY_RING_SOFT_FULL, MEMSLOT_DIRTY_BASE, MEMSLOT_WORDS,
} from '../../../src/kvm/fields.ts';
import { kvmKsmMergePages, kvmMigratePage, kvmSwapOutPage } from '../../../src/kvm/host-ops.ts';
import type { Kvm } from '../../../src/kvm/kvm-host.ts';
import { markPageDirty } from '../../../src/kvm/memslot.ts';
import { kvmMmuNotifierInvalidateRangeEnd, kvmMmuNotifierInvalidateRangeStart } from '../../../src/kvm/mmu-notifier.ts';
import { rmapSptes } from '../../../src/kvm/rmap.ts';
import { kvmSetUserMemoryRegion } from '../../../src/kvm/set-memory-region.ts';
import type { VmShared } from '../../../src/kvm/shm.ts';
import { SPTE_WRITABLE, spteWriteProtect } from '../../../src/kvm/spte.ts';
import { kvmSetUnsafe, UNSAFE_NO_FLUSH_AFTER_WRPROT } from '../../../src/kvm/unsafe.ts';
import { PTE_A, PTE_D, PTE_R, PTE_V, PTE_W, map4k, readPhys, satpFor, zapAll, type TestVcpu } from '../mmu-helpers.ts';
import {
  checkBitsOnlyClearedByCollection, checkBounds, checkClearPrecision, checkNoLostWrite, checkProtectedAfterCollection,
  checkRingProtocol, checkWritableImpliesLogged, dirtySnapshot, flushMark, liveBitmap, pagesIn, ringEntries,
  vcpusNotFlushed, writablePages,
} from './checkers.ts';
import {
  RAM, RAM_GFN, RAM_PAGES, SLOT1, SLOT1_GFN, SLOT1_PAGES, WorkerPool, clearPages, enableRing, manualProtect, prng,
  setLogging, setup, sleep, spteOf, touch, waitFor,
} from './setup.ts';
import { ITERATIONS, PAGE_BASE, PAGES_PER_VCPU, READY, STOP, WORDS } from './workers/words.ts';

afterEach(() => kvmSetRunningVcpu(-1));

const writers = new WorkerPool('writer-worker.ts', 2);
afterAll(() => writers.terminate());

/** A vCPU's software TLB on this thread: host page per guest page, emptied only by a flush request. */
class SoftTlb {
  readonly map = new Map<number, number>();
  constructor(private readonly v: TestVcpu) {
    v.mmu.attachHart({ tlbFlush: () => this.map.clear() });
  }

  /** A guest store of `value` to word 0 of slot-0 page `page`. */
  write(page: number, value: number): void {
    let h = this.map.get(page);
    if (h === undefined) {
      h = touch(this.v, page, ACC_WRITE);
      this.map.set(page, h);
    }
    Atomics.store(this.v.kvm.vm.ramI32, h >>> 2, value);
  }
}

/** Write-protect every SPTE of slot-0 page `page` by hand, dirty-log style (no flush). */
function protectByHand(kvm: Kvm, page: number): void {
  kvm.mmuLock.lock();
  try {
    for (const loc of rmapSptes(kvm, RAM_GFN + page)) spteWriteProtect(kvm.vm, loc, false);
  } finally {
    kvm.mmuLock.unlock();
  }
}

/** Index in vm.dirtyBitmap of the live word holding page `page` of slot `slot`. */
function bitmapWord(vm: VmShared, slot: number, page: number): number {
  return vm.memslots[slot * MEMSLOT_WORDS + MEMSLOT_DIRTY_BASE]! + (page >>> 5);
}

/** Clear a page's bit behind KVM's back (not something KVM ever does: I4). */
function clearBitByHand(vm: VmShared, slot: number, page: number): void {
  Atomics.and(vm.dirtyBitmap, bitmapWord(vm, slot, page), ~(1 << (page & 31)));
}

describe('I1: no lost write', () => {
  it('I1: the union of all collections covers every page written through a TLB that honours flushes', () => {
    const { kvm, vcpus: [v] } = setup();
    setLogging(kvm, true);
    const tlb = new SoftTlb(v!);
    const rnd = prng(11);
    const written: number[] = [];
    const collected = new Set<number>();
    for (let round = 0; round < 12; round++) {
      for (let k = 0; k < 60; k++) {
        const p = rnd(300);
        tlb.write(p, round);
        written.push(RAM_GFN + p);
        if (k % 10 === 9) v!.req.vcpuCheckRequests(); // poll point
      }
      for (const p of pagesIn(kvmGetDirtyLog(kvm, 0))) collected.add(RAM_GFN + p);
    }
    v!.req.vcpuCheckRequests();
    for (const p of pagesIn(kvmGetDirtyLog(kvm, 0))) collected.add(RAM_GFN + p);
    expect(written.length).toBe(720);
    expect(checkNoLostWrite(written, collected)).toEqual([]);
  });

  it('I1: the checks fail when a vCPU keeps writing through a TLB entry across the write protection (flush not taken)', () => {
    // The set form: page 7 is cached writable before logging starts, then
    // written after enabling without the vCPU taking its flush: never reported.
    const { kvm, vcpus: [v] } = setup();
    const tlb = new SoftTlb(v!);
    tlb.write(7, 1);
    setLogging(kvm, true);
    tlb.write(7, 2); // no poll point: the stale writable entry is used
    tlb.write(8, 2); // a fresh page faults and is logged
    const collected = new Set(pagesIn(kvmGetDirtyLog(kvm, 0)).map((p) => RAM_GFN + p));
    expect(checkNoLostWrite([RAM_GFN + 7, RAM_GFN + 8], collected)).toEqual([RAM_GFN + 7]);

    // The per-round form (the selftest's, dirty-check.ts): a page whose
    // contents changed must be reported by this collection or the next.
    const s = setup();
    setLogging(s.kvm, true);
    const stale = new SoftTlb(s.vcpus[0]!);
    const checker = new DirtyLogChecker([{ gpa: RAM + 5 * 4096, bit: 5 }], (gpa) => readPhys(s.vm, gpa));
    stale.write(5, 1);
    expect(checker.collect(kvmGetDirtyLog(s.kvm, 0)).lost).toEqual([]);
    stale.write(5, 2); // through the entry GET protected but never flushed
    checker.collect(kvmGetDirtyLog(s.kvm, 0));
    checker.collect(kvmGetDirtyLog(s.kvm, 0));
    expect(checker.lostPages).toEqual([{ gpa: RAM + 5 * 4096, bit: 5 }]);
    // Taking the flush at a poll point makes the next write fault and be logged.
    s.vcpus[0]!.req.vcpuCheckRequests();
    stale.write(5, 3);
    expect(checker.collect(kvmGetDirtyLog(s.kvm, 0)).lost).toEqual([]);
    expect(pagesIn(kvmGetDirtyLog(s.kvm, 0))).toEqual([]);
  });
});

interface MtResult {
  checker: DirtyLogChecker;
  rounds: number;
  iterations: number[];
}

/** Two writer workers (writer-worker.ts) on pages of their own; this thread collects and checks (I1). */
async function collectAgainstWriters(mode: 'bitmap' | 'clear' | 'ring', unsafe: boolean, ms: number): Promise<MtResult> {
  const { vm, kvm } = setup(2);
  if (mode === 'clear') manualProtect(kvm);
  if (mode === 'ring') enableRing(kvm, 4096);
  setLogging(kvm, true);
  if (unsafe) kvmSetUnsafe(vm, UNSAFE_NO_FLUSH_AFTER_WRPROT);
  const shared = new SharedArrayBuffer(WORDS * 4);
  const s = new Int32Array(shared);
  const done = writers.run((vcpuId) => ({ hv: vm.hv, ram: vm.ram, vcpuId, shared, mode: 'write', ring: mode === 'ring' }));
  try {
    await waitFor(s, READY, 2);
    const pages: CheckedPage[] = [];
    for (let i = 0; i < 2 * PAGES_PER_VCPU; i++) pages.push({ gpa: RAM + (PAGE_BASE + i) * 4096, bit: PAGE_BASE + i });
    await waitFor(s, ITERATIONS, 1);
    await waitFor(s, ITERATIONS + 1, 1);
    const checker = new DirtyLogChecker(pages, (gpa) => readPhys(vm, gpa));
    const cursors = [{ fetchIndex: 0 }, { fetchIndex: 0 }];
    const collect = (): Uint32Array => {
      if (mode === 'ring') {
        const out = new Uint32Array(RAM_PAGES / 32);
        for (let v = 0; v < 2; v++) for (const e of kvmDirtyRingHarvest(vm, v, cursors[v]!)) out[e.offset >>> 5]! |= 1 << (e.offset & 31);
        kvmResetDirtyRings(kvm);
        return out;
      }
      const got = kvmGetDirtyLog(kvm, 0);
      if (mode === 'clear') kvmClearDirtyLog(kvm, { slot: 0, firstPage: 0, numPages: RAM_PAGES, bitmap: got });
      return got;
    };
    let rounds = 0;
    // At least `ms`, and (on a slow machine) until 10 rounds with 10 iterations
    // on each vCPU, but never more than 10 s.
    const t0 = Date.now();
    const enough = (): boolean => Date.now() - t0 >= ms && rounds >= 10 &&
      Atomics.load(s, ITERATIONS) >= 10 && Atomics.load(s, ITERATIONS + 1) >= 10;
    while (!enough() && Date.now() - t0 < 10_000) {
      checker.collect(collect());
      rounds++;
      if (unsafe && checker.lostPages.length > 0) break;
      await sleep(2);
    }
    Atomics.store(s, STOP, 1);
    await done;
    checker.collect(collect());
    checker.collect(collect());
    return { checker, rounds, iterations: [s[ITERATIONS]!, s[ITERATIONS + 1]!] };
  } finally {
    Atomics.store(s, STOP, 1);
    await done;
  }
}

describe('I1 on real threads', () => {
  it.each(['bitmap', 'clear', 'ring'] as const)('I1: %s mode, 2 vCPU workers writing while this thread collects: no page is ever missing', async (mode) => {
    const { checker, rounds, iterations } = await collectAgainstWriters(mode, false, 600);
    expect(rounds).toBeGreaterThanOrEqual(10);
    expect(iterations[0]).toBeGreaterThanOrEqual(10);
    expect(iterations[1]).toBeGreaterThanOrEqual(10);
    expect(checker.totalReported).toBeGreaterThan(2 * PAGES_PER_VCPU);
    expect(checker.lostPages).toEqual([]);
  }, 20_000);

  it('I1: the same run with the flush after write-protect switched off finds lost pages', async () => {
    const { checker } = await collectAgainstWriters('bitmap', true, 6000);
    expect(checker.lostPages.length).toBeGreaterThan(0);
  }, 20_000);
});

describe('I2: writable implies logged', () => {
  it('I2: holds after faults, GET, host operations, CLEAR and a second slot, on two vCPUs sharing the direct map', () => {
    const { vm, kvm, vcpus: [v0, v1] } = setup(2);
    setLogging(kvm, true);
    kvmSetUserMemoryRegion(kvm, { slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: SLOT1, memorySize: SLOT1_PAGES * 4096 });
    const ok = (step: string): void => expect(checkWritableImpliesLogged(vm), step).toEqual([]);
    for (let p = 0; p < 40; p++) touch(p % 2 ? v0! : v1!, p, p % 3 ? ACC_WRITE : ACC_READ);
    for (let p = 0; p < 20; p++) touch(v0!, p, ACC_WRITE, 1);
    ok('first faults');
    expect(writablePages(vm, 0).size).toBe(40); // the direct map grants write on a read too (set_spte marks it)
    kvmGetDirtyLog(kvm, 0);
    kvmGetDirtyLog(kvm, 1);
    ok('after GET');
    for (let p = 0; p < 40; p += 3) touch(v1!, p, ACC_WRITE); // fast path
    ok('fast fixes');
    kvmSwapOutPage(kvm, RAM_GFN + 3);
    kvmMigratePage(kvm, RAM_GFN + 6);
    kvmKsmMergePages(kvm, RAM_GFN + 30, RAM_GFN + 31);
    ok('host operations');
    for (const p of [3, 6, 30, 31]) touch(v0!, p, ACC_WRITE); // slow path, swap-in, COW break
    ok('after host operations');
    manualProtect(kvm);
    clearPages(kvm, 0, 0, 64, [0, 3, 6, 9, 12]);
    ok('after CLEAR');
    for (const p of [0, 9]) touch(v0!, p, ACC_WRITE);
    ok('after CLEAR and fast fixes');
  });

  it('I2: in a ring VM a writable page must be in a ring entry not yet reset', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    enableRing(kvm);
    setLogging(kvm, true);
    kvmSetRunningVcpu(0);
    for (const p of [4, 5, 6]) touch(v!, p, ACC_WRITE);
    expect(checkWritableImpliesLogged(vm)).toEqual([]);
    kvmDirtyRingHarvest(vm, 0, { fetchIndex: 0 });
    kvmResetDirtyRings(kvm);
    expect(checkWritableImpliesLogged(vm)).toEqual([]);
    touch(v!, 5, ACC_WRITE);
    expect(checkWritableImpliesLogged(vm)).toEqual([]);
    // Broken on purpose: W set on page 6 with no ring entry (a fast path that forgot to push).
    Atomics.or(vm.spt, spteOf(v!, 6)[0], SPTE_WRITABLE);
    expect(checkWritableImpliesLogged(vm)).toEqual([RAM_GFN + 6]);
  });

  it('I2: the checker reports a writable SPTE whose bit is clear', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    setLogging(kvm, true);
    for (const p of [7, 8]) touch(v!, p, ACC_WRITE);
    kvmGetDirtyLog(kvm, 0);
    expect(checkWritableImpliesLogged(vm)).toEqual([]);
    Atomics.or(vm.spt, spteOf(v!, 8)[0], SPTE_WRITABLE); // W restored without markPageDirty
    expect(checkWritableImpliesLogged(vm)).toEqual([RAM_GFN + 8]);
  });
});

describe('I3: protection after collection', () => {
  it('I3: when GET returns, every reported page is read-only and every vCPU has flushed or has the flush pending outside guest mode', () => {
    const { vm, kvm, vcpus: [v0, v1] } = setup(2);
    setLogging(kvm, true);
    for (let p = 0; p < 50; p += 2) touch(v0!, p, ACC_WRITE);
    for (let p = 1; p < 50; p += 4) touch(v1!, p, ACC_WRITE);
    markPageDirty(vm, RAM_GFN + RAM_PAGES - 1); // a KVM-internal write: reported, never mapped
    for (let round = 0; round < 3; round++) {
      const mark = flushMark(vm);
      const got = kvmGetDirtyLog(kvm, 0);
      expect(pagesIn(got).length, `round ${round}`).toBeGreaterThan(0);
      expect(checkProtectedAfterCollection(vm, 0, got, mark)).toEqual({ writable: [], unflushed: [] });
      v1!.req.vcpuCheckRequests(); // vCPU 1 takes its flush (acks); vCPU 0 keeps it pending
      expect(checkProtectedAfterCollection(vm, 0, got, mark)).toEqual({ writable: [], unflushed: [] });
      v0!.req.vcpuCheckRequests();
      for (let p = round; p < 50; p += 3) touch(p % 2 ? v1! : v0!, p, ACC_WRITE);
    }
  });

  it('I3: the checker catches GET without its flush, and a reported page left writable', () => {
    const { vm, kvm, vcpus: [v0, v1] } = setup(2);
    setLogging(kvm, true);
    for (const p of [1, 2, 3]) touch(v0!, p, ACC_WRITE);
    v1!.req.vcpuCheckRequests(); // take the flush left by enabling logging
    kvmSetUnsafe(vm, UNSAFE_NO_FLUSH_AFTER_WRPROT);
    let mark = flushMark(vm);
    let got = kvmGetDirtyLog(kvm, 0);
    expect(checkProtectedAfterCollection(vm, 0, got, mark)).toEqual({ writable: [], unflushed: [0, 1] });
    kvmSetUnsafe(vm, 0);
    for (const p of [1, 2, 3]) touch(v1!, p, ACC_WRITE);
    mark = flushMark(vm);
    got = kvmGetDirtyLog(kvm, 0);
    Atomics.or(vm.spt, spteOf(v0!, 2)[0], SPTE_WRITABLE); // a reported page made writable again behind GET's back
    expect(checkProtectedAfterCollection(vm, 0, got, mark)).toEqual({ writable: [2], unflushed: [] });
  });
});

describe('I4: bits are cleared only by collection', () => {
  it('I4: faults, write protection, shadowing, zaps, MMU-notifier invalidations, swap, migrate, KSM and memslot changes clear no bit', () => {
    const { vm, kvm, vcpus: [v0, v1] } = setup(2);
    setLogging(kvm, true);
    for (let p = 0; p < 64; p++) touch(v0!, p, ACC_WRITE);
    markPageDirty(vm, RAM_GFN + 1000);
    const step = (name: string, op: () => void): void => {
      const before = dirtySnapshot(vm);
      op();
      expect(checkBitsOnlyClearedByCollection(before, dirtySnapshot(vm)), name).toEqual([]);
    };
    step('fast page faults', () => {
      for (let p = 0; p < 8; p++) protectByHand(kvm, p);
      for (let p = 0; p < 8; p++) touch(v1!, p, ACC_WRITE);
    });
    step('slow faults and reads', () => {
      for (let p = 64; p < 96; p++) touch(v1!, p, p % 2 ? ACC_READ : ACC_WRITE);
    });
    step('shadowing a guest page table (pt_protect)', () => {
      const root = RAM + 0x20000; // pages 32, 33 hold the guest's tables
      map4k(vm, root, root + 0x1000, 0x40_0000, RAM + 0x50000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
      v0!.mmu.translate(0x40_0000, ACC_WRITE, PRV_S, satpFor(root), 0);
    });
    step('MMU-notifier invalidation', () => {
      kvmMmuNotifierInvalidateRangeStart(kvm, RAM_GFN + 10, RAM_GFN + 20);
      kvmMmuNotifierInvalidateRangeEnd(kvm);
    });
    step('swap-out, migrate, KSM merge', () => {
      kvmSwapOutPage(kvm, RAM_GFN + 40);
      kvmMigratePage(kvm, RAM_GFN + 41);
      kvmKsmMergePages(kvm, RAM_GFN + 90, RAM_GFN + 92);
    });
    step('swap-in and copy-on-write faults', () => {
      touch(v0!, 40, ACC_WRITE);
      touch(v0!, 90, ACC_WRITE);
    });
    step('zap all', () => zapAll(kvm));
    step('adding a second slot and logging it', () => {
      kvmSetUserMemoryRegion(kvm, { slot: 1, flags: 0, guestPhysAddr: SLOT1, memorySize: SLOT1_PAGES * 4096 });
      setLogging(kvm, true, 1);
    });
    step('faults after all that', () => {
      for (let p = 0; p < 100; p += 7) touch(v1!, p, ACC_WRITE);
    });
  });

  it('I4: the checker sees a bit cleared by anything (GET is a collection; a stray clear is a violation)', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    setLogging(kvm, true);
    for (const p of [2, 33]) touch(v!, p, ACC_WRITE);
    let before = dirtySnapshot(vm);
    kvmGetDirtyLog(kvm, 0); // allowed to clear: it is a collection
    expect(checkBitsOnlyClearedByCollection(before, dirtySnapshot(vm))).toEqual(['0:2', '0:33']);
    touch(v!, 33, ACC_WRITE);
    before = dirtySnapshot(vm);
    const b = liveBitmap(vm, 0);
    expect(pagesIn(b)).toEqual([33]);
    clearBitByHand(vm, 0, 33);
    expect(checkBitsOnlyClearedByCollection(before, dirtySnapshot(vm))).toEqual(['0:33']);
  });
});

describe('I5: bounds', () => {
  it('I5: no bit at or past npages in a 100-page slot (INITIALLY_SET, every page written, GET, CLEAR to the end)', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    manualProtect(kvm, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET);
    kvmSetUserMemoryRegion(kvm, { slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: SLOT1, memorySize: SLOT1_PAGES * 4096 });
    const ok = (step: string): void => expect(checkBounds(vm), step).toEqual({ bits: [], ring: [] });
    ok('INITIALLY_SET');
    expect(pagesIn(liveBitmap(vm, 1)).length).toBe(SLOT1_PAGES);
    clearPages(kvm, 1, 0, SLOT1_PAGES, Array.from({ length: SLOT1_PAGES }, (_, i) => i));
    ok('CLEAR of the whole slot');
    for (let p = 0; p < SLOT1_PAGES; p++) touch(v!, p, ACC_WRITE, 1);
    for (let g = SLOT1_GFN - 2; g < SLOT1_GFN + SLOT1_PAGES + 40; g++) markPageDirty(vm, g); // past the end: no slot
    ok('every page written');
    expect(pagesIn(kvmGetDirtyLog(kvm, 1)).length).toBe(SLOT1_PAGES);
    clearPages(kvm, 1, 64, SLOT1_PAGES - 64, [64, 99]);
    ok('CLEAR to the end');
  });

  it('I5: ring entries name a valid slot and a page inside it', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    enableRing(kvm);
    kvmSetUserMemoryRegion(kvm, { slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: SLOT1, memorySize: SLOT1_PAGES * 4096 });
    setLogging(kvm, true);
    kvmSetRunningVcpu(0);
    for (const p of [0, 50, 99]) touch(v!, p, ACC_WRITE, 1);
    for (const p of [0, RAM_PAGES - 1]) touch(v!, p, ACC_WRITE);
    expect(ringEntries(vm).map((e) => `${e.slot}:${e.offset}`)).toEqual(['1:0', '1:50', '1:99', '0:0', `0:${RAM_PAGES - 1}`]);
    expect(checkBounds(vm)).toEqual({ bits: [], ring: [] });
  });

  it('I5: the checker reports a bit past npages and ring entries past the slot or naming no slot', () => {
    const { vm, kvm } = setup();
    enableRing(kvm);
    kvmSetUserMemoryRegion(kvm, { slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: SLOT1, memorySize: SLOT1_PAGES * 4096 });
    Atomics.or(vm.dirtyBitmap, bitmapWord(vm, 1, 100), 1 << (100 & 31)); // page 100 of a 100-page slot
    kvmDirtyRingPush(vm, 0, 1, 100);
    kvmDirtyRingPush(vm, 0, 7, 0);
    kvmDirtyRingPush(vm, 0, 1, 99); // fine
    const r = checkBounds(vm);
    expect(r.bits).toEqual(['1:100']);
    expect(r.ring.map((e) => `${e.slot}:${e.offset}`)).toEqual(['1:100', '7:0']);
  });
});

describe('I7: CLEAR precision', () => {
  it('I7: CLEAR re-protects exactly (mask ∩ bits that were set) and flushes before it returns', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    manualProtect(kvm);
    setLogging(kvm, true);
    const rnd = prng(3);
    let flushRounds = 0;
    for (let round = 0; round < 8; round++) {
      for (let k = 0; k < 80; k++) touch(v!, rnd(256), ACC_WRITE);
      // Writable pages whose bit is clear (built by hand), so "by mask" and "by bit" differ.
      for (const p of [rnd(256), rnd(256)]) {
        touch(v!, p, ACC_WRITE);
        clearBitByHand(vm, 0, p);
      }
      const first = 64 * rnd(3);
      const num = 64 * (1 + rnd(2));
      const mask = Array.from({ length: num }, (_, i) => first + i).filter(() => rnd(2) === 0);
      const bitsBefore = pagesIn(liveBitmap(vm, 0));
      const writableBefore = writablePages(vm, 0);
      const mark = flushMark(vm);
      clearPages(kvm, 0, first, num, mask);
      const r = checkClearPrecision(mask, bitsBefore, writableBefore, writablePages(vm, 0));
      expect(r, `round ${round}`).toEqual({ extra: [], missed: [] });
      const cleared = mask.filter((p) => bitsBefore.includes(p));
      expect(pagesIn(liveBitmap(vm, 0))).toEqual(bitsBefore.filter((p) => !cleared.includes(p)));
      if (cleared.length > 0) {
        expect(vcpusNotFlushed(vm, mark)).toEqual([]);
        flushRounds++;
      }
      v!.req.vcpuCheckRequests();
    }
    expect(flushRounds, 'rounds that cleared a bit (and so must have flushed)').toBeGreaterThan(0);
  });

  it('I7: the checker catches a CLEAR that protects by the user mask instead of by the bits that were set', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    manualProtect(kvm);
    setLogging(kvm, true);
    for (const p of [1, 2, 3, 4]) touch(v!, p, ACC_WRITE);
    clearBitByHand(vm, 0, 4); // page 4: writable, bit clear
    const mask = [2, 4];
    const bitsBefore = pagesIn(liveBitmap(vm, 0));
    const writableBefore = writablePages(vm, 0);
    for (const p of mask) protectByHand(kvm, p); // the wrong CLEAR
    expect(checkClearPrecision(mask, bitsBefore, writableBefore, writablePages(vm, 0))).toEqual({ extra: [4], missed: [] });
    expect(checkClearPrecision([1, 2], bitsBefore, writableBefore, writablePages(vm, 0))).toEqual({ extra: [4], missed: [1] });
  });
});

describe('I8: ring protocol', () => {
  const flagsWord = (i: number, size: number): number => DRING_HDR_WORDS + (i & (size - 1)) * KVM_DIRTY_GFN_WORDS + KVM_DIRTY_GFN_FLAGS;

  it('I8: push, harvest, out-of-order harvest, reset in order and wrap-around keep 0 ≤ used ≤ size and the entry states', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    enableRing(kvm, 4096); // 256 entries
    setLogging(kvm, true);
    kvmSetRunningVcpu(0);
    const ok = (step: string): void => expect(checkRingProtocol(vm), step).toEqual([]);
    const r = vm.view('dirty-ring');
    ok('empty');
    for (const p of [1, 2, 3, 4]) touch(v!, p, ACC_WRITE);
    ok('pushed');
    // Userspace harvests entries 0, 1 and 3 (not 2): reset stops before entry 2.
    for (const i of [0, 1, 3]) Atomics.or(r, flagsWord(i, 256), KVM_DIRTY_GFN_F_RESET);
    ok('partly harvested');
    expect(kvmResetDirtyRings(kvm)).toBe(2);
    ok('reset stopped at the first unharvested entry');
    expect(ringEntries(vm).map((e) => e.offset)).toEqual([3, 4]);
    const cursor = { fetchIndex: 2 };
    // Entry 2 (page 3) is harvested; entry 3, marked RESET by hand above, is not DIRTY alone: harvest stops.
    expect(kvmDirtyRingHarvest(vm, 0, cursor).map((e) => e.offset)).toEqual([3]);
    expect(cursor.fetchIndex).toBe(3);
    cursor.fetchIndex = 4;
    expect(kvmResetDirtyRings(kvm)).toBe(2);
    ok('all reset');
    for (let round = 0; round < 6; round++) { // wraps around the 256 entries
      for (let p = 0; p < 100; p++) touch(v!, 200 + round * 100 + p, ACC_WRITE);
      ok(`round ${round} pushed`);
      expect(kvmDirtyRingHarvest(vm, 0, cursor).length).toBe(100);
      ok(`round ${round} harvested`);
      expect(kvmResetDirtyRings(kvm)).toBe(100);
      ok(`round ${round} reset`);
    }
  });

  it('I8: at the soft limit the vCPU must not re-enter the guest until harvest and reset', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    enableRing(kvm, 4096);
    setLogging(kvm, true);
    kvmSetRunningVcpu(0);
    const soft = 256 - KVM_DIRTY_RING_RSVD_ENTRIES;
    for (let p = 0; p < soft; p++) touch(v!, p, ACC_WRITE);
    expect(checkRingProtocol(vm)).toEqual([]);
    expect(kvmDirtyRingCheckRequest(vm, 0, v!.req.vcpuCheckRequests())).toBe(true);
    expect(kvmDirtyRingCheckRequest(vm, 0, KVM_REQ_DIRTY_RING_SOFT_FULL)).toBe(true); // still full: exit again
    kvmDirtyRingHarvest(vm, 0, { fetchIndex: 0 });
    expect(kvmResetDirtyRings(kvm)).toBe(soft);
    expect(kvmDirtyRingCheckRequest(vm, 0, KVM_REQ_DIRTY_RING_SOFT_FULL)).toBe(false);
    expect(checkRingProtocol(vm)).toEqual([]);
  });

  it('I8: the checker reports used > size, a pushed entry that is not DIRTY and a free entry that is not 0', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    enableRing(kvm, 4096);
    setLogging(kvm, true);
    kvmSetRunningVcpu(0);
    for (const p of [1, 2]) touch(v!, p, ACC_WRITE);
    const r = vm.view('dirty-ring');
    Atomics.store(r, flagsWord(1, 256), 0); // pushed, but flags lost
    Atomics.store(r, flagsWord(5, 256), KVM_DIRTY_GFN_F_DIRTY); // a free entry claiming DIRTY
    expect(checkRingProtocol(vm)).toEqual(['vCPU 0: entry 1 (pushed) has flags 0', 'vCPU 0: entry 5 (free) has flags 1']);
    Atomics.sub(r, DRING_RESET_INDEX, 300);
    expect(checkRingProtocol(vm)).toEqual(['vCPU 0: used = 302 is outside 0..256']);
  });
});
