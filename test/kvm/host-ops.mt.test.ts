// Host memory operations against vCPUs on real threads: two vCPU workers keep
// writing and re-reading their pages through a TLB that only flush requests
// clear, while this thread (the VMM) swaps, migrates and KSM-merges those
// pages. Any lost write (a translation that outlived its host page) counts as
// a violation. At the end the pfn refcounts, the pool and the swap area must
// add up exactly.
import { afterEach, describe, expect, it } from 'vitest';
import {
  HOST_PTE_PRESENT, HOST_PTE_SWAPPED, HOSTOP_KSM_COW_COPIES, HOSTOP_KSM_COW_REUSES, HOSTOP_KSM_MERGES,
} from '../../src/kvm/fields.ts';
import { kvmPoolFreeCount } from '../../src/kvm/hostmem.ts';
import { kvmKsmMergePages, kvmMigratePage, kvmSwapOutPage } from '../../src/kvm/host-ops.ts';
import { KvmError } from '../../src/kvm/errors.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import { createVm } from '../../src/kvm/shm.ts';
import { swapUsed } from '../../src/kvm/swap-store.ts';
import { FIRST_BAD, ITERATIONS, PAGE_BASE, READY, STOP, VIOLATIONS, WORDS } from './workers/host-ops-words.ts';
import { TestThreads } from './threads.ts';

const threads = new TestThreads();
afterEach(() => threads.terminate());

describe('host memory operations against running vCPUs', () => {
  it('swap, migrate and KSM merge lose no write, and the books balance', async () => {
    const vm = createVm({ memBytes: 1 << 20, vcpus: 2 });
    const shared = new SharedArrayBuffer(WORDS * 4);
    const s = new Int32Array(shared);
    const done = [0, 1].map((vcpuId) => threads.spawn('host-ops-worker.ts', { hv: vm.hv, ram: vm.ram, vcpuId, shared }));
    while (Atomics.load(s, READY) < 2) await new Promise((r) => setTimeout(r, 5));
    const host = new Kvm(vm);
    const base = (0x8000_0000 >>> 12) + PAGE_BASE;
    let ops = 0;
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      const gfn = base + rnd(4);
      try {
        switch (rnd(3)) {
          case 0: kvmSwapOutPage(host, gfn); break;
          case 1: kvmMigratePage(host, gfn); break;
          default: kvmKsmMergePages(host, gfn & ~1, gfn | 1); break;
        }
        ops++;
      } catch (e) {
        // Pages that differ at that moment, or changed under the merge: expected.
        if (!(e instanceof KvmError) || (e.code !== 'EINVAL' && e.code !== 'EAGAIN')) throw e;
      }
      if ((ops & 15) === 0) await new Promise((r) => setTimeout(r, 0)); // let the workers' messages through
    }
    Atomics.store(s, STOP, 1);
    await Promise.all(done);

    expect(Atomics.load(s, VIOLATIONS), `first bad iterations ${s[FIRST_BAD]}, ${s[FIRST_BAD + 1]}`).toBe(0);
    expect(s[ITERATIONS]).toBeGreaterThan(100);
    expect(s[ITERATIONS + 1]).toBeGreaterThan(100);
    expect(ops).toBeGreaterThan(100);
    // Some merges happened and some writes broke them (timing-dependent counts, so just > 0).
    const map = vm.view('swap-map');
    expect(map[HOSTOP_KSM_MERGES]).toBeGreaterThan(0);
    expect(map[HOSTOP_KSM_COW_COPIES]! + map[HOSTOP_KSM_COW_REUSES]!).toBeGreaterThan(0);

    // The books: every pfn's refcount is the number of host PTEs naming it
    // (no fault is in flight any more), the pool count matches the bitmap,
    // and every used swap slot belongs to exactly one swapped-out gfn.
    const refs = new Int32Array(vm.config.poolPfns);
    let swapped = 0;
    for (const pte of vm.gfnTable) {
      if ((pte & HOST_PTE_PRESENT) !== 0) refs[pte >>> 12]!++;
      else if ((pte & HOST_PTE_SWAPPED) !== 0) swapped++;
    }
    let free = 0;
    for (let p = 0; p < vm.config.poolPfns; p++) {
      const isFree = (vm.pfnFree[p >>> 5]! & (1 << (p & 31))) !== 0;
      if (isFree) free++;
      expect(vm.pfnRefcount[p], `pfn ${p}`).toBe(refs[p]);
      expect(isFree, `pfn ${p} free bit`).toBe(refs[p] === 0);
    }
    expect(kvmPoolFreeCount(vm)).toBe(free);
    expect(swapUsed(vm)).toBe(swapped);
  }, 20_000);
});
