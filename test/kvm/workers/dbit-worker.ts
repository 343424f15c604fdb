// Worker for unsafe-plain-clear.test.ts: the "hardware" of another CPU. It
// keeps setting the D bit of one SPTE with a compareExchange of the value it
// read, as vcpu-mmu.ts's walk does on a write, whenever the SPTE is present,
// writable and clean, and counts every D bit it really set.
import { parentPort, workerData } from 'node:worker_threads';
import { attachVm } from '../../../src/kvm/shm.ts';
import { SPTE_DIRTY, SPTE_PRESENT, SPTE_WRITABLE } from '../../../src/kvm/spte.ts';

const { hv, ram, loc, shared } = workerData as { hv: SharedArrayBuffer; ram: SharedArrayBuffer; loc: number; shared: SharedArrayBuffer };
const s = new Int32Array(shared); // [0] stop, [1] D bits set, [2] ready
const spt = attachVm(hv, ram).spt;
let sets = 0;
Atomics.store(s, 2, 1);
while (Atomics.load(s, 0) === 0) {
  const v = Atomics.load(spt, loc);
  if ((v & (SPTE_PRESENT | SPTE_WRITABLE | SPTE_DIRTY)) === (SPTE_PRESENT | SPTE_WRITABLE) &&
    Atomics.compareExchange(spt, loc, v, v | SPTE_DIRTY) === v) sets++;
}
Atomics.store(s, 1, sets);
parentPort!.postMessage('done');
