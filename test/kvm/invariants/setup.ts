// Fixtures shared by the invariant tests: a small VM with a VMM-side Kvm and
// vCPUs on this thread (mmu-helpers.ts), guest accesses through the real
// translate(), and real worker_threads for the concurrent invariants.
import { Worker } from 'node:worker_threads';
import { nodeBoot } from '../threads.ts';
export { errnoOf } from '../errno.ts';
import { PRV_M } from '../../../src/cpu/memory.ts';
import { KVM_CAP_DIRTY_LOG_RING } from '../../../src/kvm/dirty-ring.ts';
import {
  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE, kvmClearDirtyLog, kvmEnableCap,
} from '../../../src/kvm/dirtylog.ts';
import { KVM_MEM_LOG_DIRTY_PAGES } from '../../../src/kvm/fields.ts';
import { Kvm } from '../../../src/kvm/kvm-host.ts';
import { kvmSetUserMemoryRegion } from '../../../src/kvm/set-memory-region.ts';
import type { VmShared } from '../../../src/kvm/shm.ts';
import { RAM, RAM_GFN, leafSpte, makeVcpu, makeVm, type TestVcpu } from '../mmu-helpers.ts';

export { RAM, RAM_GFN };
export const RAM_PAGES = (16 << 20) / 4096; // makeVm's slot 0
/** A second, small slot: 100 pages, not a multiple of 64 (or 32). */
export const SLOT1 = 0x4000_0000;
export const SLOT1_GFN = SLOT1 / 4096;
export const SLOT1_PAGES = 100;

export interface Setup {
  vm: VmShared;
  /** The VMM thread's struct kvm. */
  kvm: Kvm;
  /** vCPUs driven on this thread; they never enter guest mode, so flushes never wait. */
  vcpus: TestVcpu[];
}

export function setup(vcpus = 1): Setup {
  const vm = makeVm({ vcpus });
  return { vm, kvm: new Kvm(vm), vcpus: Array.from({ length: vcpus }, (_, i) => makeVcpu(vm, i)) };
}

export function setLogging(kvm: Kvm, on: boolean, slot = 0): void {
  const [gpa, pages] = slot === 0 ? [RAM, RAM_PAGES] : [SLOT1, SLOT1_PAGES];
  kvmSetUserMemoryRegion(kvm, { slot, flags: on ? KVM_MEM_LOG_DIRTY_PAGES : 0, guestPhysAddr: gpa, memorySize: pages * 4096 });
}

export function slotGfn(slot: number): number {
  return slot === 0 ? RAM_GFN : SLOT1_GFN;
}

/** A guest access to page `page` of a slot through the direct (M-mode) map; the host byte address. */
export function touch(v: TestVcpu, page: number, access: number, slot = 0): number {
  return v.mmu.translate((slotGfn(slot) + page) * 4096, access, PRV_M, 0, 0);
}

/** [location, value] of the leaf SPTE mapping page `page` of a slot in v's direct map. */
export function spteOf(v: TestVcpu, page: number, slot = 0): [number, number] {
  return leafSpte(v.kvm.vm, v.mmu.nonpagingRoot, (slotGfn(slot) + page) * 4096);
}

export function manualProtect(kvm: Kvm, bits = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE): void {
  kvmEnableCap(kvm, { cap: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, flags: 0, args: [bits] });
}

export function enableRing(kvm: Kvm, bytes = 4096): void {
  kvmEnableCap(kvm, { cap: KVM_CAP_DIRTY_LOG_RING, flags: 0, args: [bytes] });
}

/** KVM_CLEAR_DIRTY_LOG of `pages` (slot page numbers) within [first, first + num). */
export function clearPages(kvm: Kvm, slot: number, first: number, num: number, pages: readonly number[]): void {
  const bitmap = new Uint32Array(Math.max(1, Math.ceil(num / 32)));
  for (const p of pages) bitmap[(p - first) >>> 5]! |= 1 << ((p - first) & 31);
  kvmClearDirtyLog(kvm, { slot, firstPage: first, numPages: num, bitmap });
}


/** A small deterministic PRNG (tests must replay the same way). */
export function prng(seed: number): (n: number) => number {
  let x = seed >>> 0;
  return (n) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
}

// ── real threads ─────────────────────────────────────────────────────────────

/**
 * vCPU workers that stay up for a whole test file: each run() posts one job
 * (workerData-like fields) to each worker and resolves when every one has
 * answered. Spawning a worker (tsx compiles the sources in it) is the slow
 * part, so the tests of a file share them.
 */
export class WorkerPool {
  private readonly workers: Worker[] = [];

  constructor(private readonly name: string, private readonly size: number) {}

  run(job: (i: number) => Record<string, unknown>): Promise<unknown[]> {
    const entry = new URL(`./workers/${this.name}`, import.meta.url).href;
    while (this.workers.length < this.size) this.workers.push(new Worker(nodeBoot, { workerData: { entry } }));
    return Promise.all(this.workers.map((w, i) => new Promise((resolve, reject) => {
      const onMessage = (m: unknown): void => {
        w.off('error', onError);
        resolve(m);
      };
      const onError = (e: unknown): void => {
        w.off('message', onMessage);
        reject(e);
      };
      w.once('message', onMessage);
      w.once('error', onError);
      w.postMessage(job(i));
    })));
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait (without blocking the event loop) until word `i` of `s` reaches `n`, at most `ms`. */
export async function waitFor(s: Int32Array, i: number, n: number, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (Atomics.load(s, i) < n) {
    if (Date.now() > until) throw new Error(`timed out waiting for word ${i} to reach ${n} (it is ${Atomics.load(s, i)})`);
    await sleep(5);
  }
}
