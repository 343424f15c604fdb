// vCPU requests and the remote TLB flush with fake vCPUs on this thread.
import { describe, expect, it } from 'vitest';
import { KvmError } from '../../src/kvm/errors.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import {
  EXITING_GUEST_MODE, FLUSH_CAUSE_REMOTE_FENCE, IN_GUEST_MODE, KVCPU_FLUSH_ACK, KVCPU_REQUESTS, KVCPU_WORDS,
  KVM_REQ_EVENT, KVM_REQ_KICK, KVM_REQ_TLB_FLUSH, OUTSIDE_GUEST_MODE, STAT_FLUSH_CAUSE, STAT_REMOTE_TLB_FLUSH,
} from '../../src/kvm/fields.ts';
import { KvmVcpuRequests, kvmFlushRemoteTlbs, kvmMakeRequest, kvmVcpuKick } from '../../src/kvm/requests.ts';
import { FakeHart, makeVm } from './mmu-helpers.ts';

function setup() {
  const vm = makeVm({ memBytes: 1 << 20, vcpus: 2 });
  const kvm = new Kvm(vm);
  const req = new KvmVcpuRequests(vm, 1);
  const hart = new FakeHart();
  req.hart = hart;
  const word = (f: number): number => Atomics.load(vm.kvmVcpu, KVCPU_WORDS + f);
  return { vm, kvm, req, hart, word };
}

describe('kvmFlushRemoteTlbs', () => {
  it('does not wait for a vCPU outside guest mode; the vCPU flushes when it next looks', () => {
    const { vm, kvm, req, hart, word } = setup();
    kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_REMOTE_FENCE);
    expect(vm.stats[STAT_REMOTE_TLB_FLUSH]).toBe(1);
    expect(vm.stats[STAT_FLUSH_CAUSE + FLUSH_CAUSE_REMOTE_FENCE]).toBe(1);
    expect(word(KVCPU_REQUESTS)).toBe(KVM_REQ_TLB_FLUSH);
    expect(hart.flushes).toBe(0);
    // Entering guest mode processes it first (mode stored, then requests loaded).
    expect(req.vcpuEnterGuest()).toBe(0);
    expect(hart.flushes).toBe(1);
    expect(word(KVCPU_FLUSH_ACK)).toBe(1);
    expect(word(KVCPU_REQUESTS)).toBe(0);
    expect(req.currentMode).toBe(IN_GUEST_MODE);
  });

  it('gives up with a clear EBUSY when a vCPU in guest mode never answers', () => {
    const { kvm, req } = setup();
    req.vcpuEnterGuest();
    kvm.flushTimeoutMs = 30;
    let err: unknown;
    try {
      kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_REMOTE_FENCE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KvmError);
    expect((err as KvmError).code).toBe('EBUSY');
    expect((err as KvmError).message).toMatch(/vCPU 1 did not acknowledge/);
    expect(req.currentMode).toBe(EXITING_GUEST_MODE); // the requester kicked it out
  });

  it('refuses to wait while the requesting vCPU is itself in guest mode', () => {
    const { vm } = setup();
    const self = new KvmVcpuRequests(vm, 0);
    self.vcpuEnterGuest();
    expect(() => kvmFlushRemoteTlbs(new Kvm(vm, 0), FLUSH_CAUSE_REMOTE_FENCE)).toThrow(/outside guest mode/);
    self.vcpuExitGuest();
    kvmFlushRemoteTlbs(new Kvm(vm, 0), FLUSH_CAUSE_REMOTE_FENCE); // fine once outside
  });
});

describe('the vCPU side', () => {
  it('flushes and acks at a poll point, and hands other requests to the run loop', () => {
    const { vm, req, hart, word } = setup();
    req.vcpuEnterGuest();
    expect(req.vcpuCheckRequests()).toBe(0);
    kvmMakeRequest(vm, 1, KVM_REQ_EVENT | KVM_REQ_KICK);
    expect(req.vcpuCheckRequests()).toBe(KVM_REQ_EVENT);
    expect(hart.flushes).toBe(0);
    kvmMakeRequest(vm, 1, KVM_REQ_TLB_FLUSH);
    expect(req.vcpuCheckRequests()).toBe(0);
    expect(hart.flushes).toBe(1);
    expect(word(KVCPU_FLUSH_ACK)).toBe(2);
    expect(req.currentMode).toBe(IN_GUEST_MODE);
    req.vcpuExitGuest();
    expect(req.currentMode).toBe(OUTSIDE_GUEST_MODE);
  });

  it('wakes from WFI on a kick, and times out without one', () => {
    const { vm, req } = setup();
    const seq = req.wakeSequence();
    kvmVcpuKick(vm, 1);
    expect(req.vcpuBlock(seq, 1000)).toBe(true); // the kick came after seq was read
    expect(req.vcpuBlock(req.wakeSequence(), 5)).toBe(false);
  });
});

describe('nested exits', () => {
  it('stays outside guest mode until the outermost vmEntry', () => {
    const { vm, req } = setup();
    req.vcpuEnterGuest();
    req.vmExit(); // an SBI call ...
    req.vmExit(); // ... that flushes remote TLBs
    expect(req.currentMode).toBe(OUTSIDE_GUEST_MODE);
    kvmFlushRemoteTlbs(new Kvm(vm, 1), FLUSH_CAUSE_REMOTE_FENCE);
    req.vmEntry();
    expect(req.currentMode).toBe(OUTSIDE_GUEST_MODE);
    kvmFlushRemoteTlbs(new Kvm(vm, 1), FLUSH_CAUSE_REMOTE_FENCE); // still allowed
    req.vmEntry();
    expect(req.currentMode).toBe(IN_GUEST_MODE);
  });
});
