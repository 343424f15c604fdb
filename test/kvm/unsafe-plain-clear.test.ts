// The 'plain-clear' switch (§2.5, F4/F5): a volatile SPTE zapped or
// write-protected with a plain load + store instead of an exchange. The race
// of locking.txt is replayed exactly (spteRaceHooks): between the zapper's
// read and its store, the vCPU's fast path sets W and its "hardware" walk
// sets D while the guest writes. With the exchange the zapper sees D and
// marks the host page dirty; with the plain store D is lost and the host page
// stays clean although the guest wrote it (a host that trusted the mark would
// drop the write on swap-out).
import { afterEach, describe, expect, it } from 'vitest';
import { ACC_READ, ACC_WRITE, PRV_M } from '../../src/cpu/memory.ts';
import { kvmGetDirtyLog } from '../../src/kvm/dirtylog.ts';
import { KVM_MEM_LOG_DIRTY_PAGES, PFN_DIRTY } from '../../src/kvm/fields.ts';
import { kvmSwapOutPage } from '../../src/kvm/host-ops.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import { kvmSetUserMemoryRegion } from '../../src/kvm/set-memory-region.ts';
import {
  SPTE_ACCESSED, SPTE_DIRTY, SPTE_HOST_WRITEABLE, SPTE_MMU_WRITEABLE, SPTE_PRESENT, SPTE_WRITABLE, mmuSpteClearTrackBits, mmuSpteSet,
  spteHasVolatileBits, spteRaceHooks,
} from '../../src/kvm/spte.ts';
import { kvmSetUnsafe, UNSAFE_PLAIN_SPTE_CLEAR } from '../../src/kvm/unsafe.ts';
import { RAM, RAM_GFN, leafSpte, makeVcpu, makeVm, pfnOf, type TestVcpu } from './mmu-helpers.ts';
import type { VmShared } from '../../src/kvm/shm.ts';
import { startWorker } from './threads.ts';

const PAGE = 0x40;
const GPA = RAM + PAGE * 4096;

afterEach(() => {
  spteRaceHooks.afterRead = null;
});

interface Setup {
  vm: VmShared;
  host: Kvm;
  v: TestVcpu;
  pfn: number;
}

/** Slot 0 logged; the page read once (writable SPTE, D clear), then collected: W=0, A=1, D=0, MMU_W. */
function setup(unsafe: number, collect: boolean): Setup {
  const vm = makeVm();
  const host = new Kvm(vm);
  kvmSetUserMemoryRegion(host, { slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM, memorySize: 16 << 20 });
  kvmSetUnsafe(vm, unsafe);
  const v = makeVcpu(vm, 0);
  v.mmu.translate(GPA, ACC_READ, PRV_M, 0, 0);
  if (collect) kvmGetDirtyLog(host, 0);
  const pfn = pfnOf(vm, RAM_GFN + PAGE);
  Atomics.and(vm.pfnFlags, pfn, ~PFN_DIRTY); // the host has just cleaned the page
  return { vm, host, v, pfn };
}

/** At the zapper's read, once: the guest writes the page (fast path and/or hardware D). */
function raceGuestWrite(s: Setup, value: number): () => boolean {
  let fired = false;
  spteRaceHooks.afterRead = () => {
    if (fired) return;
    fired = true;
    const at = s.v.mmu.translate(GPA, ACC_WRITE, PRV_M, 0, 0);
    Atomics.store(s.vm.ramI32, at >>> 2, value);
  };
  return () => fired;
}

function hostDirty(s: Setup): boolean {
  return (Atomics.load(s.vm.pfnFlags, s.pfn) & PFN_DIRTY) !== 0;
}

describe("unsafe 'plain-clear': volatile SPTEs changed without an atomic exchange", () => {
  it.each([
    ['exchange (KVM)', 0, true],
    ['plain store (unsafe)', UNSAFE_PLAIN_SPTE_CLEAR, false],
  ] as const)('zap by swap-out racing a fast-path write, %s: host page dirty = %s', (_, unsafe, dirty) => {
    const s = setup(unsafe, true);
    const spte = leafSpte(s.vm, s.v.mmu.nonpagingRoot, GPA)[1];
    expect(spte & (SPTE_WRITABLE | SPTE_ACCESSED | SPTE_DIRTY)).toBe(SPTE_ACCESSED);
    expect(spteHasVolatileBits(spte)).toBe(true); // the fast path may set W
    const fired = raceGuestWrite(s, 0x1234);
    expect(kvmSwapOutPage(s.host, RAM_GFN + PAGE)).toBe(true);
    expect(fired()).toBe(true);
    expect(hostDirty(s)).toBe(dirty); // F5: the guest wrote, so the host page must be dirty
  });

  it.each([
    ['exchange (KVM)', 0, true],
    ['plain store (unsafe)', UNSAFE_PLAIN_SPTE_CLEAR, false],
  ] as const)('GET_DIRTY_LOG write-protect racing a hardware D update, %s: host page dirty = %s', (_, unsafe, dirty) => {
    const s = setup(unsafe, false);
    const [loc, spte] = leafSpte(s.vm, s.v.mmu.nonpagingRoot, GPA);
    expect(spte & (SPTE_WRITABLE | SPTE_DIRTY)).toBe(SPTE_WRITABLE); // W=1, D=0: hardware may set D
    const fired = raceGuestWrite(s, 0x5678);
    kvmGetDirtyLog(s.host, 0);
    expect(fired()).toBe(true);
    expect(Atomics.load(s.vm.spt, loc) & SPTE_WRITABLE).toBe(0);
    expect(hostDirty(s)).toBe(dirty); // D cleared by the update must reach the host page
  });
});

// The same race between real threads: a worker sets D (the hardware of another
// CPU) while this thread installs a volatile SPTE (W=1, D=0) and zaps it with
// mmuSpteClearTrackBits, again and again. Every D bit the worker set must come
// back to the zapper (F5): with the exchange the two counts are equal; with
// the plain store some D bits vanish between the zapper's read and its store.
describe("unsafe 'plain-clear' between real threads", () => {
  const entry = new URL('./workers/dbit-worker.ts', import.meta.url);

  async function hammer(unsafe: number, maxMs: number): Promise<{ rounds: number; set: number; seen: number }> {
    const vm = makeVm();
    kvmSetUnsafe(vm, unsafe);
    const loc = 5 * 1024 + 7; // some SPTE slot; no shadow page structure is needed for the primitives
    const pfn = 3;
    const shared = new SharedArrayBuffer(16);
    const s = new Int32Array(shared);
    const { worker: w, done } = startWorker(entry, { hv: vm.hv, ram: vm.ram, loc, shared });
    try {
      while (Atomics.load(s, 2) === 0) await new Promise((r) => setTimeout(r, 2));
      const volatile = SPTE_PRESENT | SPTE_WRITABLE | SPTE_ACCESSED | SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE | (pfn << 12);
      let rounds = 0;
      let seen = 0;
      const end = Date.now() + maxMs;
      for (;;) {
        for (let i = 0; i < 20_000; i++, rounds++) {
          mmuSpteSet(vm.spt, loc, volatile);
          if ((mmuSpteClearTrackBits(vm, loc) & SPTE_DIRTY) !== 0) seen++;
        }
        if (Date.now() >= end) break;
        await new Promise((r) => setTimeout(r, 0)); // let the worker's start-up messages through
      }
      Atomics.store(s, 0, 1);
      await done;
      return { rounds, set: Atomics.load(s, 1), seen };
    } finally {
      await w.terminate();
    }
  }

  it('exchange: every D bit the other thread set reaches the zapper', async () => {
    const r = await hammer(0, 700);
    expect(r.rounds).toBeGreaterThan(10_000);
    expect(r.seen).toBe(r.set);
  }, 15_000);

  it('plain store: D bits set between the read and the store are lost', async () => {
    // Detection needs the two threads to overlap; give it up to 5 s on a busy machine.
    let r = { rounds: 0, set: 0, seen: 0 };
    for (let t = 0; t < 5 && r.set === r.seen; t++) r = await hammer(UNSAFE_PLAIN_SPTE_CLEAR, 1000);
    expect(r.set).toBeGreaterThan(r.seen);
  }, 15_000);
});
