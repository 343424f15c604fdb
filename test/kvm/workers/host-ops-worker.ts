// Worker for host-ops.mt.test.ts: a vCPU that writes an iteration number into
// its two pages A and B (A first, then B, so between iterations they are
// identical and the host may KSM-merge them) and reads both back through a
// software "TLB" of translate() results that only a TLB flush request clears,
// as the hart's does. A read that does not return the value last written
// means a translation outlived its host page (swap-out, migration, merge,
// copy-on-write): a lost write.
import { parentPort, workerData } from 'node:worker_threads';
import { ACC_READ, ACC_WRITE, PRV_M } from '../../../src/cpu/memory.ts';
import { kvmSetRunningVcpu } from '../../../src/kvm/dirty-ring.ts';
import { Kvm } from '../../../src/kvm/kvm-host.ts';
import { KvmVcpuRequests } from '../../../src/kvm/requests.ts';
import { attachVm } from '../../../src/kvm/shm.ts';
import { KvmVcpuMmu } from '../../../src/kvm/vcpu-mmu.ts';
import { FIRST_BAD, ITERATIONS, PAGE_BASE, READY, STOP, VIOLATIONS } from './host-ops-words.ts';

const { hv, ram, vcpuId, shared } = workerData as {
  hv: SharedArrayBuffer; ram: SharedArrayBuffer; vcpuId: number; shared: SharedArrayBuffer;
};
const s = new Int32Array(shared);
const vm = attachVm(hv, ram);
kvmSetRunningVcpu(vcpuId);
const kvm = new Kvm(vm, vcpuId);
const req = new KvmVcpuRequests(vm, vcpuId);
const bus = { load: () => 0, store: () => undefined, error: false };
const mmu = new KvmVcpuMmu(kvm, req, bus);
// TLB: host page base per page (0 = A, 1 = B) and whether it allows writes.
const tlbBase = [-1, -1];
const tlbWrite = [false, false];
mmu.attachHart({
  tlbFlush() {
    tlbBase[0] = tlbBase[1] = -1;
  },
});
const ramI32 = vm.ramI32;
const gpa = (p: number): number => (0x8000_0000 + (PAGE_BASE + 2 * vcpuId + p) * 4096) >>> 0;

function host(p: number, write: boolean): number {
  if (tlbBase[p]! < 0 || (write && !tlbWrite[p])) {
    const h = mmu.translate(gpa(p), write ? ACC_WRITE : ACC_READ, PRV_M, 0, 0);
    if (h < 0) throw new Error(`vCPU ${vcpuId}: translate of page ${p} failed (${h})`);
    tlbBase[p] = h;
    tlbWrite[p] = write;
  }
  return tlbBase[p]!;
}

function check(ok: boolean, it: number): void {
  if (ok) return;
  if (Atomics.add(s, VIOLATIONS, 1) === 0 || s[FIRST_BAD + vcpuId] === 0) s[FIRST_BAD + vcpuId] = it;
}

req.vcpuEnterGuest();
Atomics.add(s, READY, 1);
let it = 0;
while (Atomics.load(s, STOP) === 0) {
  it++;
  Atomics.store(ramI32, host(0, true) / 4 + 5, it);
  check(Atomics.load(ramI32, host(1, false) / 4 + 5) === it - 1, it); // B still holds the last round
  Atomics.store(ramI32, host(1, true) / 4 + 5, it);
  check(Atomics.load(ramI32, host(0, false) / 4 + 5) === it, it);
  check(Atomics.load(ramI32, host(1, false) / 4 + 5) === it, it);
  Atomics.store(s, ITERATIONS + vcpuId, it);
  req.vcpuCheckRequests(); // a poll point: a pending TLB flush is done here
}
req.vcpuExitGuest();
parentPort!.postMessage('done');
