// A vCPU on its own thread that writes its pages again and again through a
// software TLB that only a TLB flush request clears (as the hart's does),
// while the test's thread collects the dirty log. Word 0 of each page gets
// the iteration number, so a checker can see which pages changed.
//
// mode 'write'        the real path: a TLB miss (or a write through a
//                     read-only entry) calls translate(): walk, fast page
//                     fault or slow path.
// mode 'check'        the same, and after each fault it handled, the vCPU
//                     leaves guest mode, takes mmu_lock and checks F3/I2 for
//                     its own page: SPTE writable ⇒ dirty bit set.
// mode 'broken-fast'  as 'check', but a write-protected, locklessly
//                     modifiable SPTE is fixed by a *broken* fast path that
//                     sets W and never marks the page dirty: 'check' must
//                     catch it.
//
// The worker stays up: each message is one job (a VM, the shared words, a
// mode); it answers when the job has stopped, so a test file spawns it once.
import { parentPort } from 'node:worker_threads';
import { ACC_WRITE, PRV_M } from '../../../../src/cpu/memory.ts';
import { kvmSetRunningVcpu } from '../../../../src/kvm/dirty-ring.ts';
import { Kvm } from '../../../../src/kvm/kvm-host.ts';
import { KvmVcpuRequests } from '../../../../src/kvm/requests.ts';
import { attachVm } from '../../../../src/kvm/shm.ts';
import { SPTE_PRESENT, SPTE_WRITABLE, spteIsLocklesslyModifiable } from '../../../../src/kvm/spte.ts';
import { KvmVcpuMmu } from '../../../../src/kvm/vcpu-mmu.ts';
import { dirtyBit, loggedPage } from '../checkers.ts';
import { FIRST_BAD, FIXES, ITERATIONS, PAGE_BASE, PAGES_PER_VCPU, RAM, READY, STOP, VIOLATIONS, type VcpuJob } from './words.ts';

type Mode = 'write' | 'check' | 'broken-fast';
interface Job extends VcpuJob {
  mode: Mode;
  ring: boolean;
}

function runJob({ hv, ram, vcpuId, shared, mode, ring }: Job): void {
  const s = new Int32Array(shared);
  const vm = attachVm(hv, ram);
  kvmSetRunningVcpu(ring ? vcpuId : -1);
  const kvm = new Kvm(vm, vcpuId);
  const req = new KvmVcpuRequests(vm, vcpuId);
  const mmu = new KvmVcpuMmu(kvm, req, { load: () => 0, store: () => undefined, error: false });
  const tlb = new Int32Array(PAGES_PER_VCPU).fill(-1);
  mmu.attachHart({ tlbFlush: () => tlb.fill(-1) });
  const ramI32 = vm.ramI32;
  const gfnOf = (p: number): number => RAM / 4096 + PAGE_BASE + vcpuId * PAGES_PER_VCPU + p;

  /** The leaf SPTE location of gfn in the shared direct map, or -1. */
  const sptLoc = (gfn: number): number => {
    const root = mmu.nonpagingRoot;
    if (root < 0) return -1;
    const l2 = Atomics.load(vm.spt, root * 1024 + ((gfn * 4096) >>> 22));
    return (l2 & SPTE_PRESENT) === 0 ? -1 : (l2 >>> 12) * 1024 + (gfn & 0x3ff);
  };

  /** The broken fast page fault: cmpxchg W in, no markPageDirty. */
  const brokenFastFix = (gfn: number): void => {
    const loc = sptLoc(gfn);
    if (loc < 0) return;
    const spte = Atomics.load(vm.spt, loc);
    if ((spte & SPTE_PRESENT) === 0 || (spte & SPTE_WRITABLE) !== 0 || !spteIsLocklesslyModifiable(spte)) return;
    if (Atomics.compareExchange(vm.spt, loc, spte, spte | SPTE_WRITABLE) === spte) Atomics.add(s, FIXES + vcpuId, 1);
  };

  /** F3/I2 for our own page, under mmu_lock and outside guest mode (GET may be waiting for us). */
  const checkOwnPage = (gfn: number): void => {
    req.vmExit();
    kvm.mmuLock.lock();
    try {
      const loc = sptLoc(gfn);
      const spte = loc < 0 ? 0 : Atomics.load(vm.spt, loc);
      const p = loggedPage(vm, gfn);
      if (p !== null && (spte & (SPTE_PRESENT | SPTE_WRITABLE)) === (SPTE_PRESENT | SPTE_WRITABLE) && !dirtyBit(vm, p.slot, p.page)) {
        if (Atomics.add(s, VIOLATIONS, 1) === 0) Atomics.store(s, FIRST_BAD, gfn);
      }
    } finally {
      kvm.mmuLock.unlock();
      req.vmEntry();
    }
  };

  const hostPage = (p: number): number => {
    if (tlb[p]! >= 0) return tlb[p]!;
    const gfn = gfnOf(p);
    // After a broken fix the hardware walk finds W: translate() only fills the TLB.
    if (mode === 'broken-fast') brokenFastFix(gfn);
    const h = mmu.translate(gfn * 4096, ACC_WRITE, PRV_M, 0, 0);
    if (h < 0) throw new Error(`vCPU ${vcpuId}: translate of gfn 0x${gfn.toString(16)} failed (${h})`);
    if (mode !== 'write') checkOwnPage(gfn);
    tlb[p] = h;
    return h;
  };

  req.vcpuEnterGuest();
  Atomics.add(s, READY, 1);
  let it = 0;
  while (Atomics.load(s, STOP) === 0) {
    it++;
    for (let p = 0; p < PAGES_PER_VCPU; p++) {
      Atomics.store(ramI32, hostPage(p) >>> 2, it);
      if ((p & 3) === 3) req.vcpuCheckRequests(); // a poll point: a pending flush empties the TLB here
    }
    Atomics.store(s, ITERATIONS + vcpuId, it);
  }
  req.vcpuExitGuest();
  kvmSetRunningVcpu(-1);
}

parentPort!.on('message', (job: Job) => {
  runJob(job);
  parentPort!.postMessage('done');
});
