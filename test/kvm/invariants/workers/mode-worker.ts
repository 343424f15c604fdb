// A vCPU on its own thread for the TLB-flush invariants T2 and T3. Its "TLB"
// caches the word TLB_GEN (standing for an SPTE) until a flush request clears
// it; while in guest mode, every "instruction" checks that the cached value is
// not older than CHECKPOINT, the generation of the last flush the requester
// saw complete. A violation is a guest access through a translation the
// requester believed flushed.
//
// mode 'guest'         enter guest mode once, poll requests every 200 instructions
// mode 'enter-exit'    enter and leave guest mode over and over (the real
//                      vcpuEnterGuest: store IN_GUEST_MODE, then load requests)
// mode 'broken-enter'  the same with the Dekker order broken: load requests,
//                      then store IN_GUEST_MODE, with no second look
// mode 'walker'        lockless shadow-page walks (READING_SHADOW_PAGE_TABLES)
//                      that last a while; WALKING + id is odd during a walk
//
// The worker stays up: each message is one job (a VM, the shared words, a
// mode); it answers when the job has stopped, so a test file spawns it once.
import { parentPort } from 'node:worker_threads';
import {
  IN_GUEST_MODE, KVCPU_FLUSH_ACK, KVCPU_MODE, KVCPU_REQUESTS, KVCPU_WORDS, KVM_REQ_TLB_FLUSH, OUTSIDE_GUEST_MODE,
} from '../../../../src/kvm/fields.ts';
import { KvmVcpuRequests } from '../../../../src/kvm/requests.ts';
import { attachVm } from '../../../../src/kvm/shm.ts';
import { CHECKPOINT, FIRST_BAD, FLUSHES, ITERATIONS, READY, STOP, TLB_GEN, VIOLATIONS, WALKING, type VcpuJob } from './words.ts';

type Mode = 'guest' | 'enter-exit' | 'broken-enter' | 'walker';
interface Job extends VcpuJob {
  mode: Mode;
}

let junk = 0;

function dawdle(n: number): void {
  for (let k = 0; k < n; k++) junk = (junk * 31 + k) | 0;
}

function runJob({ hv, ram, vcpuId, shared, mode }: Job): void {
  const s = new Int32Array(shared);
  const vm = attachVm(hv, ram);
  const words = vm.kvmVcpu;
  const base = vcpuId * KVCPU_WORDS;
  const req = new KvmVcpuRequests(vm, vcpuId);
  let tlb = -1;
  const flush = (): void => {
    tlb = -1;
    Atomics.add(s, FLUSHES + vcpuId, 1);
  };
  req.hart = { tlbFlush: flush };

  /** Some guest instructions using the TLB. */
  const runGuest = (n: number): void => {
    for (let i = 0; i < n; i++) {
      if (tlb === -1) tlb = Atomics.load(s, TLB_GEN);
      const cp = Atomics.load(s, CHECKPOINT);
      if (tlb < cp && Atomics.add(s, VIOLATIONS, 1) === 0) Atomics.store(s, FIRST_BAD, cp - tlb);
    }
  };

  /** The broken vCPU's request processing, on the raw words (flush, then ack as the real one does). */
  const brokenProcess = (): void => {
    const r = Atomics.exchange(words, base + KVCPU_REQUESTS, 0);
    if ((r & KVM_REQ_TLB_FLUSH) !== 0) flush();
    if (r !== 0) {
      Atomics.add(words, base + KVCPU_FLUSH_ACK, 1);
      Atomics.notify(words, base + KVCPU_FLUSH_ACK);
    }
  };

  Atomics.add(s, READY, 1);
  let it = 0;
  if (mode === 'guest') req.vcpuEnterGuest();
  while (Atomics.load(s, STOP) === 0) {
    it++;
    switch (mode) {
      case 'guest':
        runGuest(200);
        req.vcpuCheckRequests();
        break;
      case 'enter-exit':
        req.vcpuEnterGuest();
        runGuest(100);
        req.vcpuCheckRequests();
        runGuest(100);
        req.vcpuExitGuest();
        dawdle(200);
        break;
      case 'broken-enter':
        brokenProcess(); // look at the requests first ...
        dawdle(2000); // (a preempted thread, or just a slow one)
        Atomics.store(words, base + KVCPU_MODE, IN_GUEST_MODE); // ... then enter, without looking again
        runGuest(100);
        brokenProcess(); // a poll point
        runGuest(100);
        Atomics.store(words, base + KVCPU_MODE, OUTSIDE_GUEST_MODE);
        brokenProcess();
        dawdle(200);
        break;
      case 'walker':
        req.walkShadowPageLocklessBegin();
        Atomics.store(s, WALKING + vcpuId, 2 * it + 1);
        dawdle(20000);
        Atomics.store(s, WALKING + vcpuId, 2 * it + 2);
        req.walkShadowPageLocklessEnd();
        req.vcpuCheckRequests(); // the fault returns: pending requests are processed (and acked)
        dawdle(500);
        break;
    }
    Atomics.store(s, ITERATIONS + vcpuId, it);
  }
  if (mode === 'guest') req.vcpuExitGuest();
  Atomics.store(words, base + KVCPU_MODE, OUTSIDE_GUEST_MODE);
}

parentPort!.on('message', (job: Job) => {
  runJob(job);
  parentPort!.postMessage(junk);
});
