// Real threads (worker_threads through workers/node-boot.mjs, which registers
// tsx so the workers run the same TypeScript): mmu_lock's mutual exclusion and
// statistics, and the remote TLB flush protocol against polling vCPUs.
import { afterEach, describe, expect, it } from 'vitest';
import { createVm } from '../../src/kvm/shm.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import { readLockStats } from '../../src/kvm/locks.ts';
import { kvmFlushRemoteTlbs } from '../../src/kvm/requests.ts';
import {
  FLUSH_CAUSE_REMOTE_FENCE, IN_GUEST_MODE, KVCPU_MODE, KVCPU_WORDS, MMU_LOCK, STAT_FLUSH_IPIS, STAT_REMOTE_TLB_FLUSH,
} from '../../src/kvm/fields.ts';
import { CHECKPOINT, FLUSHES, READY, SPTE, STOP, VIOLATIONS, WORDS } from './workers/flush-words.ts';
import { TestThreads } from './threads.ts';

const threads = new TestThreads();
afterEach(() => threads.terminate());

describe('mmu_lock across threads', () => {
  it('serialises critical sections and counts acquisitions', async () => {
    const vm = createVm({ memBytes: 1 << 20, vcpus: 3 });
    const counter = new SharedArrayBuffer(8); // the count, the start barrier
    const iterations = 20_000; // enough overlap that some acquisitions are contended
    await Promise.all([0, 1, 2].map((id) => threads.spawn('lock-worker.ts', { hv: vm.hv, ram: vm.ram, id, iterations, counter, parties: 3 })));
    expect(new Int32Array(counter)[0]).toBe(3 * iterations);
    const s = readLockStats(vm.locks, MMU_LOCK);
    expect(s.acquired).toBe(3 * iterations);
    expect(s.held).toBe(false);
    expect(s.owner).toBe(0);
    expect(s.contended).toBeLessThanOrEqual(s.acquired);
    expect(s.holdNs).toBeGreaterThan(0);
    expect(s.contended).toBeGreaterThan(0);
    expect(s.waitNs).toBeGreaterThan(0);
  }, 60_000);
});

describe('kvmFlushRemoteTlbs against running vCPUs', () => {
  it('returns only when no vCPU can still use a translation from before the flush', async () => {
    const vm = createVm({ memBytes: 1 << 20, vcpus: 2 });
    const shared = new SharedArrayBuffer(WORDS * 4);
    const s = new Int32Array(shared);
    const done = [0, 1].map((vcpuId) => threads.spawn('vcpu-worker.ts', { hv: vm.hv, ram: vm.ram, vcpuId, shared }));
    while (Atomics.load(s, READY) < 2) Atomics.wait(s, READY, Atomics.load(s, READY), 100);
    for (let v = 0; v < 2; v++) expect(Atomics.load(vm.kvmVcpu, v * KVCPU_WORDS + KVCPU_MODE)).toBe(IN_GUEST_MODE);

    const kvm = new Kvm(vm);
    const rounds = 200;
    for (let k = 1; k <= rounds; k++) {
      Atomics.store(s, SPTE, k); // "change an SPTE" ...
      kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_REMOTE_FENCE); // ... flush ...
      Atomics.store(s, CHECKPOINT, k); // ... and rely on it
    }
    Atomics.store(s, STOP, 1);
    await Promise.all(done);
    expect(Atomics.load(s, VIOLATIONS)).toBe(0);
    expect(vm.stats[STAT_REMOTE_TLB_FLUSH]).toBe(rounds);
    expect(vm.stats[STAT_FLUSH_IPIS]).toBeGreaterThan(0); // it did wait for vCPUs in guest mode
    for (let v = 0; v < 2; v++) expect(Atomics.load(s, FLUSHES + v)).toBeGreaterThan(0);
  }, 60_000);
});
