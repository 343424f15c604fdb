// Worker for locks.mt.test.ts: a fake vCPU in guest mode. Its "TLB" caches the
// shared word SPTE until a TLB flush request clears it; every "instruction"
// checks that it is not using a value older than the last flush the requester
// saw complete (CHECKPOINT). Polls requests every 200 instructions.
import { parentPort, workerData } from 'node:worker_threads';
import { attachVm } from '../../../src/kvm/shm.ts';
import { KvmVcpuRequests } from '../../../src/kvm/requests.ts';
import { CHECKPOINT, FLUSHES, READY, SPTE, STOP, VIOLATIONS } from './flush-words.ts';

const { hv, ram, vcpuId, shared } = workerData as {
  hv: SharedArrayBuffer; ram: SharedArrayBuffer; vcpuId: number; shared: SharedArrayBuffer;
};
const s = new Int32Array(shared);
const req = new KvmVcpuRequests(attachVm(hv, ram), vcpuId);
let tlb = -1;
req.hart = {
  tlbFlush() {
    tlb = -1;
    Atomics.add(s, FLUSHES + vcpuId, 1);
  },
};
req.vcpuEnterGuest();
Atomics.add(s, READY, 1);
Atomics.notify(s, READY);
while (Atomics.load(s, STOP) === 0) {
  for (let i = 0; i < 200; i++) {
    if (tlb === -1) tlb = Atomics.load(s, SPTE);
    if (tlb < Atomics.load(s, CHECKPOINT)) Atomics.add(s, VIOLATIONS, 1);
  }
  req.vcpuCheckRequests();
}
req.vcpuExitGuest();
parentPort!.postMessage('done');
