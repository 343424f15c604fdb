// Worker for locks.mt.test.ts: bump a shared counter non-atomically under
// mmu_lock. Without mutual exclusion, increments would be lost. The workers
// start together (word 1 of `counter` counts arrivals up to `parties`):
// started one by one, each could finish before the next is up and the lock
// would never be contended.
import { parentPort, workerData } from 'node:worker_threads';
import { attachVm } from '../../../src/kvm/shm.ts';
import { Kvm } from '../../../src/kvm/kvm-host.ts';

const { hv, ram, id, iterations, counter, parties } = workerData as {
  hv: SharedArrayBuffer; ram: SharedArrayBuffer; id: number; iterations: number; counter: SharedArrayBuffer; parties: number;
};
const kvm = new Kvm(attachVm(hv, ram), id);
const c = new Int32Array(counter);
Atomics.add(c, 1, 1);
while (Atomics.load(c, 1) < parties); // spin: the others are compiling and will be here in milliseconds
let junk = 0;
for (let i = 0; i < iterations; i++) {
  kvm.mmuLock.lock();
  const v = c[0]!; // a plain read-modify-write with work in between: a race without the lock
  for (let k = 0; k < 20; k++) junk = (junk * 31 + k) | 0;
  c[0] = v + 1;
  kvm.mmuLock.unlock();
}
parentPort!.postMessage(junk);
