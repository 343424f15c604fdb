// Worker for locks.mt.test.ts: bump a shared counter non-atomically under
// mmu_lock. Without mutual exclusion, increments would be lost.
import { parentPort, workerData } from 'node:worker_threads';
import { attachVm } from '../../../src/kvm/shm.ts';
import { Kvm } from '../../../src/kvm/kvm-host.ts';

const { hv, ram, id, iterations, counter } = workerData as {
  hv: SharedArrayBuffer; ram: SharedArrayBuffer; id: number; iterations: number; counter: SharedArrayBuffer;
};
const kvm = new Kvm(attachVm(hv, ram), id);
const c = new Int32Array(counter);
let junk = 0;
for (let i = 0; i < iterations; i++) {
  kvm.mmuLock.lock();
  const v = c[0]!; // a plain read-modify-write with work in between: a race without the lock
  for (let k = 0; k < 20; k++) junk = (junk * 31 + k) | 0;
  c[0] = v + 1;
  kvm.mmuLock.unlock();
}
parentPort!.postMessage(junk);
