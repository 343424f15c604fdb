// The 'no-mode-order' switch (§2.8, T2/T3, I3): the requester reads vcpu->mode
// before it publishes KVM_REQ_TLB_FLUSH. The race is replayed exactly: a vCPU
// is in a fault handler (outside guest mode) when GET_DIRTY_LOG's flush
// starts, and re-enters guest mode between the two halves of the requester's
// handshake (requestRaceHooks). With KVM's order it finds the request at entry
// and flushes; with the order broken it runs guest code with a stale writable
// TLB entry after GET_DIRTY_LOG returned, and its next write is in no log.
import { afterEach, describe, expect, it } from 'vitest';
import { ACC_WRITE, PRV_M } from '../../src/cpu/memory.ts';
import { kvmGetDirtyLog } from '../../src/kvm/dirtylog.ts';
import { IN_GUEST_MODE, KVCPU_MODE, KVCPU_REQUESTS, KVM_MEM_LOG_DIRTY_PAGES, KVM_REQ_TLB_FLUSH } from '../../src/kvm/fields.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import { requestRaceHooks } from '../../src/kvm/requests.ts';
import { kvmSetUserMemoryRegion } from '../../src/kvm/set-memory-region.ts';
import { kvmSetUnsafe, UNSAFE_NO_MODE_ORDER } from '../../src/kvm/unsafe.ts';
import { RAM, makeVcpu, makeVm, readPhys } from './mmu-helpers.ts';

const PAGE = 0x40; // page of slot 0 the vCPU writes
const GPA = RAM + PAGE * 4096;

afterEach(() => {
  requestRaceHooks.betweenRequestAndMode = null;
});

interface Outcome {
  /** Right after GET returned: the vCPU in guest mode, the flush still pending and its TLB unflushed (I3 broken). */
  staleAfterGet: boolean;
  /** The write made after GET #1 appears in GET #2. */
  loggedAfterGet: boolean;
  valueInMemory: number;
}

function replay(unsafe: number): Outcome {
  const vm = makeVm();
  const host = new Kvm(vm);
  kvmSetUserMemoryRegion(host, { slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM, memorySize: 16 << 20 });
  kvmSetUnsafe(vm, unsafe);
  const v = makeVcpu(vm, 0);
  // The hart's TLB, reduced to one entry for our page: a host address, or -1.
  let tlb = -1;
  let flushes = 0;
  v.mmu.attachHart({ tlbFlush() { tlb = -1; flushes++; } });
  const store = (value: number): void => {
    if (tlb < 0) tlb = v.mmu.translate(GPA, ACC_WRITE, PRV_M, 0, 0);
    Atomics.store(vm.ramI32, tlb >>> 2, value);
  };

  v.req.vcpuEnterGuest();
  store(1); // slow fault: writable SPTE, page logged
  v.req.vmExit(); // a fault on some other page: outside guest mode while the VMM collects
  let fired = false;
  requestRaceHooks.betweenRequestAndMode = (id) => {
    if (fired || id !== 0) return;
    fired = true;
    v.req.vmEntry(); // ...and the vCPU goes back into the guest right now
  };
  const bit = (bm: Uint32Array): boolean => ((bm[PAGE >>> 5]! >>> (PAGE & 31)) & 1) === 1;
  const flushesBefore = flushes;
  const first = kvmGetDirtyLog(host, 0);
  expect(fired).toBe(true);
  expect(bit(first)).toBe(true);
  const w = vm.kvmVcpu;
  const staleAfterGet = Atomics.load(w, KVCPU_MODE) === IN_GUEST_MODE && flushes === flushesBefore &&
    (Atomics.load(w, KVCPU_REQUESTS) & KVM_REQ_TLB_FLUSH) !== 0 && tlb >= 0;

  store(2); // through the TLB if it still holds the writable entry
  v.req.vcpuCheckRequests(); // the next poll point: a late flush
  v.req.vmExit(); // outside guest mode again, so the single-threaded GET needs no ack
  const second = kvmGetDirtyLog(host, 0);
  return { staleAfterGet, loggedAfterGet: bit(second), valueInMemory: readPhys(vm, GPA) };
}

describe("unsafe 'no-mode-order': the request/mode handshake of a remote TLB flush", () => {
  it('with KVM order the re-entering vCPU finds the request, flushes, and its next write is logged', () => {
    const r = replay(0);
    expect(r.staleAfterGet).toBe(false);
    expect(r.valueInMemory).toBe(2);
    expect(r.loggedAfterGet).toBe(true);
  });

  it('with the mode read before the request, the vCPU keeps a writable TLB entry and the write is lost from the log', () => {
    const r = replay(UNSAFE_NO_MODE_ORDER);
    expect(r.staleAfterGet).toBe(true); // I3 detected at once
    expect(r.valueInMemory).toBe(2); // the write happened...
    expect(r.loggedAfterGet).toBe(false); // ...and no collection reports it
  });
});
