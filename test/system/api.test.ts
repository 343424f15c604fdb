// The KVM-style API over the real VMM and vCPU threads: ioctl numbers, the
// errors api.txt gives, and the run/step/regs cycle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KVM_CREATE_VCPU, KVM_GET_REGS, KVM_PPC_ALLOCATE_HTAB, KVM_RUN, KVM_SET_GUEST_DEBUG, KVM_SET_USER_MEMORY_REGION,
  kvmCreateVm, type KvmVm,
} from '../../src/kvm/api.ts';
import { errnoOf } from '../kvm/errno.ts';
import { spawnVcpuNode } from '../../workers/node-spawn.ts';
import { assemble } from '../../src/asm/assembler.ts';
import { writeElf } from '../../src/asm/elf.ts';

describe('KVM-style API', () => {
  let vm: KvmVm;
  beforeAll(async () => {
    vm = await kvmCreateVm({ memMiB: 16, vcpus: 2 }, spawnVcpuNode);
  });
  afterAll(async () => vm.destroy());

  it('uses the kernel ioctl numbers', () => {
    expect(KVM_RUN).toBe(0xae80);
    expect(KVM_CREATE_VCPU).toBe(0xae41);
    expect(KVM_SET_USER_MEMORY_REGION).toBe(0x4020ae46);
    expect(KVM_PPC_ALLOCATE_HTAB).toBe(0xc004aea7);
  });

  it('KVM_CREATE_VM rejects bad sizes with EINVAL', async () => {
    await expect(kvmCreateVm({ memMiB: 0, vcpus: 1 }, spawnVcpuNode)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(kvmCreateVm({ memMiB: 16, vcpus: 9 }, spawnVcpuNode)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('KVM_CREATE_VCPU: EINVAL outside the VM, EEXIST twice', () => {
    expect(vm.ioctl(KVM_CREATE_VCPU, 1)).toBe(1);
    expect(errnoOf(() => vm.ioctl(KVM_CREATE_VCPU, 1))).toBe('EEXIST');
    expect(errnoOf(() => vm.ioctl(KVM_CREATE_VCPU, 2))).toBe('EINVAL');
  });

  it('KVM_SET_USER_MEMORY_REGION: overlap is EEXIST, misalignment and bad ids EINVAL, a good slot works', () => {
    const r = (slot: number, guestPhysAddr: number, memorySize: number, flags = 0) => ({ slot, flags, guestPhysAddr, memorySize });
    expect(errnoOf(() => vm.ioctl(KVM_SET_USER_MEMORY_REGION, r(1, 0x8000_0000, 4096)))).toBe('EEXIST');
    expect(errnoOf(() => vm.ioctl(KVM_SET_USER_MEMORY_REGION, r(1, 0x4000_0100, 4096)))).toBe('EINVAL');
    expect(errnoOf(() => vm.ioctl(KVM_SET_USER_MEMORY_REGION, r(32, 0x4000_0000, 4096)))).toBe('EINVAL');
    expect(errnoOf(() => vm.ioctl(KVM_SET_USER_MEMORY_REGION, r(1, 0x4000_0000, 4096, 2)))).toBe('EINVAL');
    expect(errnoOf(() => vm.ioctl(KVM_SET_USER_MEMORY_REGION, r(1, 0x4000_0000, 8192)))).toBe('ok');
  });

  it('KVM_PPC_ALLOCATE_HTAB answers ENOTTY on a shadow-paging VM, as api.txt says; unknown ioctls too', () => {
    expect(errnoOf(() => vm.ioctl(KVM_PPC_ALLOCATE_HTAB, 18))).toBe('ENOTTY');
    expect(errnoOf(() => vm.ioctl(0xdead))).toBe('ENOTTY');
  });

  it('single-steps a vCPU and reads its registers', () => {
    const src = '  .text\n  .globl _start\n_start:\n  li a0, 42\n  addi a0, a0, 1\n1: j 1b\n';
    vm.loadElf(writeElf(assemble(src, 'step.S')), 'step.S');
    expect(errnoOf(() => vm.ioctl(KVM_SET_GUEST_DEBUG, 0))).toBe('ok');
    let regs = vm.ioctl(KVM_GET_REGS, 0) as { pc: number; x: number[]; priv: number };
    expect(regs.pc).toBe(0x80000004);
    expect(regs.x[10]).toBe(42);
    expect(regs.priv).toBe(1); // no tohost: an S-mode kernel
    vm.step(0);
    regs = vm.getRegs(0);
    expect(regs.x[10]).toBe(43);
    expect(errnoOf(() => vm.ioctl(KVM_GET_REGS, 5))).toBe('EINVAL');
  });

  it('run and pause keep the registers consistent; reset goes back to the entry', () => {
    vm.ioctl(KVM_RUN);
    vm.pause();
    expect(vm.getRegs(0).pc).toBe(0x80000008);
    vm.reset();
    expect(vm.getRegs(0).pc).toBe(0x80000000);
    expect(vm.getRegs(0).x[10]).toBe(0); // a0 = hart id 0
  });
});
