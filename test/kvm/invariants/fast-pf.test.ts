// Fast page fault and volatile SPTE invariants F1-F6 (kvm-semantics.md §6.2),
// on the real fastPageFault, mmuSpteUpdate, mmuSpteClearTrackBits,
// spteWriteProtect and dirty-log paths, each with its checker (checkers.ts)
// shown to report a violation built on purpose. F3 also runs on real
// worker_threads against a collecting VMM thread, with a broken fast path
// (W set, page never marked) as the counter-example.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ACC_READ, ACC_WRITE, PRV_M, PRV_S, XLATE_EMULATE } from '../../../src/cpu/memory.ts';
import { kvmDirtyRingHarvest, kvmSetRunningVcpu } from '../../../src/kvm/dirty-ring.ts';
import { kvmGetDirtyLog, kvmResetDirtyRings } from '../../../src/kvm/dirtylog.ts';
import { fastPageFault, RET_PF_RETRY } from '../../../src/kvm/fault.ts';
import { KVCPU_STAT_FAST_PF_FAILED, KVCPU_STAT_FAST_PF_FIXED, KVCPU_WORDS, PFN_ACCESSED, PFN_DIRTY } from '../../../src/kvm/fields.ts';
import { kvmSetPfnAccessed, kvmSetPfnDirty } from '../../../src/kvm/hostmem.ts';
import { kvmMmuNotifierInvalidateRangeEnd, kvmMmuNotifierInvalidateRangeStart } from '../../../src/kvm/mmu-notifier.ts';
import type { VmShared } from '../../../src/kvm/shm.ts';
import {
  SPTE_EXEC, SPTE_READ, SPTE_USER, isShadowPresentPte, mmuSpteClearTrackBits, mmuSpteUpdate, spteHasVolatileBits,
  spteIsLocklesslyModifiable, spteWriteProtect,
} from '../../../src/kvm/spte.ts';
import { PTE_A, PTE_D, PTE_R, PTE_V, PTE_W, leafSpte, map4k, satpFor, type TestVcpu } from '../mmu-helpers.ts';
import {
  checkAdCarried, checkFastFixAllowed, checkMmuWritableKept, checkOnlyWChanged, checkShadowedTablesProtected,
  checkVolatilityCovers, dirtyBit, leafSptes, loggedPage, locklessSuccessors,
} from './checkers.ts';
import {
  RAM, RAM_GFN, WorkerPool, clearPages, enableRing, manualProtect, setLogging, setup, sleep, spteOf, touch, waitFor,
} from './setup.ts';
import { FIRST_BAD, FIXES, ITERATIONS, READY, STOP, VIOLATIONS, WORDS } from './workers/words.ts';
import { A, D, HW, MW, P, W } from '../spte-bits.ts';


afterEach(() => kvmSetRunningVcpu(-1));

const writers = new WorkerPool('writer-worker.ts', 2);
afterAll(() => writers.terminate());

const vstat = (vm: VmShared, field: number): number => vm.kvmVcpu[field]!;

function bitOf(vm: VmShared, gfn: number): boolean {
  const p = loggedPage(vm, gfn);
  return p !== null && dirtyBit(vm, p.slot, p.page);
}

/** A logged slot 0 with page `page` mapped by v's direct map; returns the SPTE location. */
function mapped(v: TestVcpu, page: number): number {
  touch(v, page, ACC_READ);
  return spteOf(v, page)[0];
}

/** Run the real fast page fault on slot-0 page `page`, recording the SPTE value it compares against. */
function runFast(v: TestVcpu, page: number): { ret: number; observed: number | null; after: number } {
  let observed: number | null = null;
  v.kvm.hookBeforeFastCmpxchg = (loc) => {
    observed = Atomics.load(v.kvm.vm.spt, loc);
  };
  const ret = fastPageFault(v.mmu, v.mmu.nonpagingRoot, (RAM_GFN + page) * 4096);
  v.kvm.hookBeforeFastCmpxchg = null;
  return { ret, observed, after: spteOf(v, page)[1] };
}

describe('F1: the fast path changes only W', () => {
  it('F1: for every combination of A, D, U, X on a write-protected direct SPTE, only W changes and the pfn stays', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    setLogging(kvm, true);
    const loc = mapped(v!, 10);
    const pfnBits = vm.spt[loc]! & ~0xfff;
    let fixes = 0;
    for (let m = 0; m < 16; m++) {
      const extra = (m & 1 ? A : 0) | (m & 2 ? D : 0) | (m & 4 ? SPTE_USER : 0) | (m & 8 ? SPTE_EXEC : 0);
      const before = P | SPTE_READ | HW | MW | extra | pfnBits;
      Atomics.store(vm.spt, loc, before);
      const { ret, observed, after } = runFast(v!, 10);
      expect(ret).toBe(RET_PF_RETRY);
      expect(observed).toBe(before);
      expect(checkOnlyWChanged(before, after), `case ${m}`).toBe(0);
      expect(after).toBe(before | W);
      fixes++;
    }
    expect(vstat(vm, KVCPU_STAT_FAST_PF_FIXED)).toBe(fixes);
  });

  it('F1: the checker reports any other bit the fix would change', () => {
    const s = P | SPTE_READ | A | HW | MW | (7 << 12);
    expect(checkOnlyWChanged(s, s | W)).toBe(0);
    expect(checkOnlyWChanged(s, s | W | D)).toBe(D);
    expect(checkOnlyWChanged(s, (s | W) + (1 << 12))).toBe(15 << 12); // another pfn
  });
});

describe('F2: W only with HOST_W and MMU_W in the same observed value, only on direct pages', () => {
  it('F2: on a direct page the fast path sets W exactly when HOST_W and MMU_W are both set', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    setLogging(kvm, true);
    const loc = mapped(v!, 11);
    const base = (vm.spt[loc]! & ~0xfff) | P | SPTE_READ | A;
    for (const bits of [0, HW, MW, HW | MW]) {
      Atomics.store(vm.spt, loc, base | bits);
      const { after } = runFast(v!, 11);
      expect(checkFastFixAllowed(base | bits, after, true), `bits ${bits}`).toBeNull();
      expect((after & W) !== 0, `bits ${bits}`).toBe(bits === (HW | MW));
    }
  });

  it('F2: on an indirect page the fast path never sets W, even with HOST_W and MMU_W set', () => {
    const { vm, vcpus: [v] } = setup();
    const root = RAM + 0x10000;
    const va = 0x40_0000;
    map4k(vm, root, root + 0x1000, va, RAM + 0x20000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    v!.mmu.translate(va, ACC_WRITE, PRV_S, satpFor(root), 0);
    const [loc, spte] = leafSpte(vm, v!.mmu.root, va);
    expect(spte & (W | HW | MW)).toBe(W | HW | MW);
    v!.kvm.mmuLock.lock();
    spteWriteProtect(vm, loc, false); // dirty-log style: the SPTE is locklessly modifiable
    v!.kvm.mmuLock.unlock();
    const before = vm.spt[loc]!;
    expect(spteIsLocklesslyModifiable(before)).toBe(true);
    expect(fastPageFault(v!.mmu, v!.mmu.root, va)).not.toBe(RET_PF_RETRY); // to the slow path
    expect(vm.spt[loc]).toBe(before);
    expect(checkFastFixAllowed(before, vm.spt[loc]!, false)).toBeNull();
  });

  it('F2: MMU_W cleared between the read and the cmpxchg (a concurrent pt_protect) makes the fix fail', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    setLogging(kvm, true);
    const loc = mapped(v!, 12);
    kvmGetDirtyLog(kvm, 0); // write-protects, keeps MMU_W
    v!.kvm.hookBeforeFastCmpxchg = (l) => {
      kvm.mmuLock.lock();
      spteWriteProtect(vm, l, true); // shadow-page protection: MMU_W goes
      kvm.mmuLock.unlock();
    };
    fastPageFault(v!.mmu, v!.mmu.nonpagingRoot, (RAM_GFN + 12) * 4096);
    v!.kvm.hookBeforeFastCmpxchg = null;
    const now = vm.spt[loc]!;
    expect(now & (W | MW)).toBe(0);
    expect(vstat(vm, KVCPU_STAT_FAST_PF_FAILED)).toBe(1);
    expect(bitOf(vm, RAM_GFN + 12)).toBe(false);
  });

  it('F2: the checker reports W set without HOST_W, without MMU_W, or on an indirect page', () => {
    const s = P | SPTE_READ | A | (3 << 12);
    expect(checkFastFixAllowed(s | HW | MW, s | HW | MW | W, true)).toBeNull();
    expect(checkFastFixAllowed(s | HW, s | HW | W, true)).toMatch(/MMU_WRITEABLE/);
    expect(checkFastFixAllowed(s | MW, s | MW | W, true)).toMatch(/HOST_WRITEABLE/);
    expect(checkFastFixAllowed(s | HW | MW, s | HW | MW | W, false)).toMatch(/indirect/);
    // A fix that compared only W (not the whole value) after MMU_W went away:
    const seenAtCmpxchg = s | HW;
    expect(checkFastFixAllowed(seenAtCmpxchg, seenAtCmpxchg | W, true)).toMatch(/MMU_WRITEABLE/);
  });
});

describe('F3: a successful fix marks the page before the vCPU re-enters; a failed one changes nothing', () => {
  it('F3: the bit is set when fastPageFault returns (bitmap and ring), and not before the cmpxchg', () => {
    for (const ring of [false, true]) {
      const { vm, kvm, vcpus: [v] } = setup();
      if (ring) enableRing(kvm);
      setLogging(kvm, true);
      kvmSetRunningVcpu(ring ? 0 : -1);
      mapped(v!, 13);
      if (ring) {
        kvmDirtyRingHarvest(vm, 0, { fetchIndex: 0 });
        kvmResetDirtyRings(kvm);
      } else {
        kvmGetDirtyLog(kvm, 0);
      }
      const logged = (): boolean => (ring ? vm.view('dirty-ring')[1] !== vm.view('dirty-ring')[0] : bitOf(vm, RAM_GFN + 13));
      expect(logged()).toBe(false);
      let atCmpxchg: boolean | null = null;
      v!.kvm.hookBeforeFastCmpxchg = () => {
        atCmpxchg = logged();
      };
      fastPageFault(v!.mmu, v!.mmu.nonpagingRoot, (RAM_GFN + 13) * 4096);
      v!.kvm.hookBeforeFastCmpxchg = null;
      expect(atCmpxchg).toBe(false); // W is published first ...
      expect(spteOf(v!, 13)[1] & W).toBe(W);
      expect(logged(), ring ? 'ring' : 'bitmap').toBe(true); // ... and the page logged before the fault returns
      kvmSetRunningVcpu(-1);
    }
  });

  it('F3: a failed cmpxchg sets no bit and leaves the SPTE as the other party left it', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    setLogging(kvm, true);
    const loc = mapped(v!, 14);
    kvmGetDirtyLog(kvm, 0);
    let raced = 0;
    v!.kvm.hookBeforeFastCmpxchg = (l) => {
      raced = Atomics.xor(vm.spt, l, D) ^ D; // the hardware (or anyone) changes the SPTE under us
    };
    fastPageFault(v!.mmu, v!.mmu.nonpagingRoot, (RAM_GFN + 14) * 4096);
    v!.kvm.hookBeforeFastCmpxchg = null;
    expect(vstat(vm, KVCPU_STAT_FAST_PF_FAILED)).toBe(1);
    expect(vm.spt[loc]).toBe(raced);
    expect(raced & W).toBe(0);
    expect(bitOf(vm, RAM_GFN + 14)).toBe(false);
  });

  async function runWriters(mode: 'check' | 'broken-fast', ms: number): Promise<{ violations: number; firstBad: number; fixes: number; fastFixed: number; iterations: number[] }> {
    const { vm, kvm } = setup(2);
    setLogging(kvm, true);
    const shared = new SharedArrayBuffer(WORDS * 4);
    const s = new Int32Array(shared);
    const done = writers.run((vcpuId) => ({ hv: vm.hv, ram: vm.ram, vcpuId, shared, mode, ring: false }));
    try {
      await waitFor(s, READY, 2);
      // At least `ms`, and (on a slow machine) until 10 iterations on each vCPU, never more than 10 s.
      const t0 = Date.now();
      const enough = (): boolean => Date.now() - t0 >= ms && Atomics.load(s, ITERATIONS) >= 10 && Atomics.load(s, ITERATIONS + 1) >= 10;
      while (!enough() && Date.now() - t0 < 10_000) {
        kvmGetDirtyLog(kvm, 0); // write-protect everything the writers dirtied: their next writes fault
        if (mode === 'broken-fast' && Atomics.load(s, VIOLATIONS) > 0) break;
        await sleep(1);
      }
      Atomics.store(s, STOP, 1);
      await done;
      const fastFixed = vm.kvmVcpu[KVCPU_STAT_FAST_PF_FIXED]! + vm.kvmVcpu[KVCPU_WORDS + KVCPU_STAT_FAST_PF_FIXED]!;
      return {
        violations: s[VIOLATIONS]!, firstBad: s[FIRST_BAD]!, fixes: s[FIXES]! + s[FIXES + 1]!, fastFixed,
        iterations: [s[ITERATIONS]!, s[ITERATIONS + 1]!],
      };
    } finally {
      Atomics.store(s, STOP, 1);
      await done;
    }
  }

  it('F3: 2 vCPU workers fault while this thread collects; after every fault, under mmu_lock, W ⇒ bit for the vCPU\'s page', async () => {
    const r = await runWriters('check', 600);
    expect(r.iterations[0]).toBeGreaterThanOrEqual(10);
    expect(r.iterations[1]).toBeGreaterThanOrEqual(10);
    expect(r.fastFixed).toBeGreaterThan(0); // the real lock-free fast path ran against the collections
    expect(r.violations, `first bad gfn 0x${r.firstBad.toString(16)}`).toBe(0);
  }, 20_000);

  it('F3: the same check catches a fast path that sets W and never marks the page', async () => {
    const r = await runWriters('broken-fast', 6000);
    expect(r.fixes).toBeGreaterThan(0);
    expect(r.violations).toBeGreaterThan(0);
  }, 20_000);
});

describe('F4: plain stores only to non-volatile SPTEs', () => {
  it('F4: spteHasVolatileBits covers every SPTE that the walk or the fast path can change outside mmu_lock', () => {
    expect(checkVolatilityCovers(spteHasVolatileBits)).toEqual([]);
    // Sanity of the enumeration: the lockless successors of a read-only,
    // locklessly modifiable SPTE with A set include W and W|D.
    const s = P | SPTE_READ | A | HW | MW;
    expect(locklessSuccessors(s).sort()).toEqual([s | W, s | W | D].sort());
  });

  it('F4: the checker catches the 3.6 rule without its first clause (the lost-dirty-bit race of locking.txt)', () => {
    const noFastPathClause = (s: number): boolean => {
      if (!isShadowPresentPte(s)) return false;
      if ((s & A) === 0) return true;
      return (s & (W | D)) === W;
    };
    const gaps = checkVolatilityCovers(noFastPathClause);
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps.every((s) => spteIsLocklesslyModifiable(s) && (s & (A | W)) === A)).toBe(true);
  });

  it('F4: replayed: a zapper that picks a plain store by a stale "not volatile" loses D; by the real rule it exchanges and keeps it', () => {
    const { vm } = setup();
    const loc = 5;
    const pfn = 9;
    const start = P | SPTE_READ | A | HW | MW | (pfn << 12); // read-only, accessed, locklessly modifiable
    // The zapper of locking.txt §2.2, step by step, deciding by `rule`.
    const zap = (rule: (s: number) => boolean): string => {
      Atomics.store(vm.spt, loc, start);
      vm.pfnFlags[pfn] = 0;
      let old = Atomics.load(vm.spt, loc); // 1. read
      const plain = !rule(old);
      Atomics.or(vm.spt, loc, W); // 2. meanwhile the fast path sets W ...
      Atomics.or(vm.spt, loc, D); //    ... and the guest's write sets D
      if (plain) Atomics.store(vm.spt, loc, 0); // 3. the store
      else old = Atomics.exchange(vm.spt, loc, 0);
      if ((old & A) !== 0) kvmSetPfnAccessed(vm, pfn);
      if ((old & D) !== 0) kvmSetPfnDirty(vm, pfn);
      return checkAdCarried(start | W | D, 0, vm.pfnFlags[pfn]!);
    };
    expect(zap(spteHasVolatileBits)).toBe('');
    expect(zap((s) => !spteIsLocklesslyModifiable(s) && spteHasVolatileBits(s))).toBe('D');
    // The real primitive, on the SPTE as the race leaves it, carries D too.
    Atomics.store(vm.spt, loc, start | W | D);
    vm.pfnFlags[pfn] = 0;
    expect(mmuSpteClearTrackBits(vm, loc)).toBe(start | W | D);
    expect(vm.pfnFlags[pfn]! & (PFN_ACCESSED | PFN_DIRTY)).toBe(PFN_ACCESSED | PFN_DIRTY);
  });

  it('F4: mmuSpteUpdate decides the flush from the value it exchanged, not from the caller\'s view', () => {
    const { vm } = setup();
    const callerView = P | SPTE_READ | A | HW | MW | (4 << 12); // read-only when the caller looked
    Atomics.store(vm.spt, 0, callerView | W | D); // the fast path and a write got there first
    vm.pfnFlags[4] = 0;
    expect(mmuSpteUpdate(vm, 0, callerView)).toBe(true); // W went away: flush
    expect(vm.pfnFlags[4]! & PFN_DIRTY).toBe(PFN_DIRTY); // and D was carried
  });
});

describe('F5: A/D are never lost', () => {
  const states: number[] = [];
  for (let m = 0; m < 32; m++) {
    states.push(P | SPTE_READ | (6 << 12) | (m & 1 ? W : 0) | (m & 2 ? A : 0) | (m & 4 ? D : 0) | (m & 8 ? HW : 0) | (m & 16 ? MW : 0));
  }

  it('F5: zap, downgrade and write-protect of every A/D/W/HOST_W/MMU_W state carry A and D to the host page', () => {
    const { vm } = setup();
    const ops: Record<string, (loc: number, s: number) => void> = {
      'mmuSpteClearTrackBits': (loc) => {
        mmuSpteClearTrackBits(vm, loc);
      },
      'mmuSpteUpdate clearing A, D and W': (loc, s) => {
        mmuSpteUpdate(vm, loc, s & ~(A | D | W));
      },
      'mmuSpteUpdate clearing D only': (loc, s) => {
        mmuSpteUpdate(vm, loc, s & ~D);
      },
      'spteWriteProtect (dirty log)': (loc) => {
        spteWriteProtect(vm, loc, false);
      },
      'spteWriteProtect (pt_protect)': (loc) => {
        spteWriteProtect(vm, loc, true);
      },
    };
    for (const [name, op] of Object.entries(ops)) {
      for (const s of states) {
        Atomics.store(vm.spt, 0, s);
        vm.pfnFlags[6] = 0;
        op(0, s);
        expect(checkAdCarried(s, vm.spt[0]!, vm.pfnFlags[6]!), `${name} of 0x${s.toString(16)}`).toBe('');
      }
    }
  });

  it('F5: an MMU-notifier zap of pages the guest wrote and read carries D and A', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    const hostW = touch(v!, 20, ACC_WRITE) >>> 12;
    const hostR = touch(v!, 21, ACC_READ) >>> 12;
    const [, sw] = spteOf(v!, 20);
    const [, sr] = spteOf(v!, 21);
    expect(sw & (A | D)).toBe(A | D); // the walk set them
    vm.pfnFlags[hostW] = 0;
    vm.pfnFlags[hostR] = 0;
    kvmMmuNotifierInvalidateRangeStart(kvm, RAM_GFN + 20, RAM_GFN + 22);
    kvmMmuNotifierInvalidateRangeEnd(kvm);
    expect(checkAdCarried(sw, 0, vm.pfnFlags[hostW]!)).toBe('');
    expect(checkAdCarried(sr, 0, vm.pfnFlags[hostR]!)).toBe('');
    expect(vm.pfnFlags[hostW]! & PFN_DIRTY).toBe(PFN_DIRTY);
  });

  it('F5: the checker reports a zap by plain store that drops A and D', () => {
    const { vm } = setup();
    const s = P | SPTE_READ | W | A | D | HW | MW | (6 << 12);
    Atomics.store(vm.spt, 0, s);
    vm.pfnFlags[6] = 0;
    Atomics.store(vm.spt, 0, 0);
    expect(checkAdCarried(s, 0, vm.pfnFlags[6]!)).toBe('AD');
    expect(checkAdCarried(s, s & ~D, PFN_ACCESSED)).toBe('D');
  });
});

describe('F6: pt_protect clears MMU_W; dirty-log protection never does', () => {
  it('F6: enabling logging, GET, CLEAR and ring reset keep MMU_W on every SPTE they protect', () => {
    for (const mode of ['get', 'clear', 'ring'] as const) {
      const { vm, kvm, vcpus: [v] } = setup();
      if (mode === 'clear') manualProtect(kvm);
      if (mode === 'ring') enableRing(kvm);
      for (let p = 0; p < 40; p++) touch(v!, p, ACC_WRITE);
      let before = Int32Array.from(vm.spt);
      setLogging(kvm, true);
      expect(checkMmuWritableKept(before, vm.spt), `${mode}: enable`).toEqual([]);
      kvmSetRunningVcpu(0);
      for (let p = 0; p < 40; p += 2) touch(v!, p, ACC_WRITE);
      kvmSetRunningVcpu(-1);
      before = Int32Array.from(vm.spt);
      if (mode === 'get') kvmGetDirtyLog(kvm, 0);
      if (mode === 'clear') clearPages(kvm, 0, 0, 64, Array.from({ length: 64 }, (_, i) => i));
      if (mode === 'ring') {
        kvmDirtyRingHarvest(vm, 0, { fetchIndex: 0 });
        expect(kvmResetDirtyRings(kvm)).toBe(20);
      }
      const lostW = leafSptes(vm).filter((l) => (before[l.loc]! & W) !== 0 && (l.spte & W) === 0);
      expect(lostW.length, mode).toBe(20);
      expect(checkMmuWritableKept(before, vm.spt), mode).toEqual([]);
    }
  });

  it('F6: a shadowed guest page table is mapped without W and MMU_W, so the fast path cannot make it writable', () => {
    const { vm, vcpus: [v] } = setup();
    const root = RAM + 0x10000;
    const l1 = RAM + 0x11000;
    map4k(vm, root, l1, 0x40_0000, RAM + 0x20000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    for (const pa of [root, l1]) v!.mmu.translate(pa, ACC_WRITE, PRV_M, 0, 0); // writable through the direct map
    expect(checkShadowedTablesProtected(vm)).toEqual([]); // nothing shadowed yet
    v!.mmu.translate(0x40_0000, ACC_READ, PRV_S, satpFor(root), 0); // shadowing write-protects both tables
    expect(checkShadowedTablesProtected(vm)).toEqual([]);
    const [loc, before] = leafSpte(vm, v!.mmu.nonpagingRoot, l1);
    expect(before & (W | MW | HW)).toBe(HW);
    expect(fastPageFault(v!.mmu, v!.mmu.nonpagingRoot, l1)).not.toBe(RET_PF_RETRY); // slow path
    expect(vm.spt[loc]).toBe(before);
    expect(v!.mmu.translate(l1, ACC_WRITE, PRV_M, 0, 0)).toBe(XLATE_EMULATE); // the write is emulated
    expect(vm.spt[loc]! & (W | MW)).toBe(0);
    expect(checkShadowedTablesProtected(vm)).toEqual([]);
  });

  it('F6: the checkers report MMU_W cleared by a dirty-log protection, and a shadowed table left MMU-writable', () => {
    const { vm, vcpus: [v] } = setup();
    const root = RAM + 0x10000;
    const l1 = RAM + 0x11000;
    map4k(vm, root, l1, 0x40_0000, RAM + 0x20000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    v!.mmu.translate(l1, ACC_WRITE, PRV_M, 0, 0);
    const [loc] = leafSpte(vm, v!.mmu.nonpagingRoot, l1);
    const before = Int32Array.from(vm.spt);
    spteWriteProtect(vm, loc, true); // pt_protect where dirty logging must not use it
    expect(checkMmuWritableKept(before, vm.spt)).toEqual([loc]);
    v!.mmu.translate(0x40_0000, ACC_READ, PRV_S, satpFor(root), 0);
    Atomics.or(vm.spt, loc, MW); // MMU_W back on a shadowed table ...
    expect(checkShadowedTablesProtected(vm)).toEqual([l1 / 4096]);
    expect(fastPageFault(v!.mmu, v!.mmu.nonpagingRoot, l1)).toBe(RET_PF_RETRY); // ... and the fast path makes it writable
    expect(vm.spt[loc]! & W).toBe(W);
  });
});
