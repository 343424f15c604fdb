// The KVM-style API: the ioctls of Documentation/virtual/kvm/api.txt that this
// hypervisor implements, with their names, numbers and errno-style errors.
//
//   KVM_CREATE_VM              kvmCreateVm(cfg)            system ioctl
//   KVM_CREATE_VCPU            vm.createVcpu(id)           VM ioctl
//   KVM_SET_USER_MEMORY_REGION vm.setUserMemoryRegion(r)   VM ioctl
//   KVM_RUN                    vm.run()                    (all vCPUs; returns at once)
//   KVM_SET_GUEST_DEBUG        vm.step(vcpu)               single-step one vCPU
//   KVM_GET_REGS               vm.getRegs(vcpu)
//   KVM_GET_DIRTY_LOG          vm.ioctl(nr, slot)          dirty bitmap of a slot (3.6 order)
//   KVM_CLEAR_DIRTY_LOG        vm.ioctl(nr, log)           manual protect
//   KVM_ENABLE_CAP             vm.ioctl(nr, cap)           manual protect (168), dirty ring (192)
//   KVM_RESET_DIRTY_RINGS      vm.ioctl(nr)
//   (reset, pause)             vm.reset(), vm.pause()      what QEMU's monitor would do
//
// vm.ioctl(nr, arg) dispatches by number, so scripts can use the numbers
// api.txt gives; an ioctl this VM does not implement answers ENOTTY, as the
// kernel's ioctl dispatch does. Every failure is a KvmError: errno name plus a
// sentence naming the problem.
//
// In this implementation a VM's vCPU threads start with the VM (their number
// is fixed at creation, because the shared layout depends on it); createVcpu
// checks the id and marks the vCPU created, as KVM_CREATE_VCPU would.
import { Vmm, type VcpuSpawner } from './vmm.ts';
import { check, KvmError } from './errors.ts';
import { kvmSetUserMemoryRegion, type KvmUserspaceMemoryRegion } from './set-memory-region.ts';
import type { KvmClearDirtyLog, KvmEnableCap } from './dirtylog.ts';

const KVMIO = 0xae;
const IOC_WRITE = 1;
const IOC_READ = 2;
const ioc = (dir: number, nr: number, size: number) => ((dir << 30) | (size << 16) | (KVMIO << 8) | nr) >>> 0;

// Numbers as on x86/powerpc Linux (the struct sizes are the kernel's).
export const KVM_CREATE_VM = ioc(0, 0x01, 0);
export const KVM_CREATE_VCPU = ioc(0, 0x41, 0);
export const KVM_SET_USER_MEMORY_REGION = ioc(IOC_WRITE, 0x46, 32);
export const KVM_RUN = ioc(0, 0x80, 0);
export const KVM_GET_REGS = ioc(IOC_READ, 0x81, 144);
export const KVM_SET_GUEST_DEBUG = ioc(IOC_WRITE, 0x9b, 72);
export const KVM_GET_DIRTY_LOG = ioc(IOC_WRITE, 0x42, 16);
export const KVM_PPC_ALLOCATE_HTAB = ioc(IOC_READ | IOC_WRITE, 0xa7, 4);
export const KVM_CLEAR_DIRTY_LOG = ioc(IOC_READ | IOC_WRITE, 0xc0, 24);
export const KVM_ENABLE_CAP = ioc(IOC_WRITE, 0xa3, 104);
export const KVM_RESET_DIRTY_RINGS = ioc(0, 0xc7, 0);

export interface KvmVmConfig {
  /** Guest RAM in MiB (slot 0 at 0x8000_0000), 1..1024. */
  memMiB: number;
  /** vCPUs, 1..8. */
  vcpus: number;
}

/**
 * KVM_CREATE_VM's argument checks, in the units a user gives (MiB, vCPUs), before
 * they become bytes: the API and the app's VMM service both call this.
 */
export function kvmCheckVmConfig(cfg: KvmVmConfig): void {
  check(Number.isInteger(cfg.memMiB) && cfg.memMiB >= 1 && cfg.memMiB <= 1024, 'EINVAL',
    `KVM_CREATE_VM: memory must be a whole number of MiB in 1..1024, got ${cfg.memMiB}`);
  check(Number.isInteger(cfg.vcpus) && cfg.vcpus >= 1 && cfg.vcpus <= 8, 'EINVAL',
    `KVM_CREATE_VM: vcpus must be 1..8, got ${cfg.vcpus}`);
}

/** KVM_CREATE_VM: a VM with its RAM memslot and its vCPU threads. */
export async function kvmCreateVm(cfg: KvmVmConfig, spawn: VcpuSpawner): Promise<KvmVm> {
  kvmCheckVmConfig(cfg);
  return new KvmVm(await Vmm.create({ memBytes: cfg.memMiB << 20, vcpus: cfg.vcpus }, spawn));
}

export class KvmVm {
  private readonly created = new Set<number>();

  constructor(readonly vmm: Vmm) {}

  /** KVM_CREATE_VCPU: EINVAL for an id outside the VM, EEXIST if already created. */
  createVcpu(id: number): number {
    check(Number.isInteger(id) && id >= 0 && id < this.vmm.vcpus, 'EINVAL', `KVM_CREATE_VCPU: vCPU id ${id} is not in 0..${this.vmm.vcpus - 1}`);
    check(!this.created.has(id), 'EEXIST', `KVM_CREATE_VCPU: vCPU ${id} already exists`);
    this.created.add(id);
    return id;
  }

  /** KVM_SET_USER_MEMORY_REGION (the VM must not be running: memslot changes zap every shadow page). */
  setUserMemoryRegion(r: KvmUserspaceMemoryRegion): void {
    this.vmm.pause();
    kvmSetUserMemoryRegion(this.vmm.kvm, r);
  }

  run(): void {
    this.vmm.run();
  }
  pause(): void {
    this.vmm.pause();
  }
  step(vcpu: number): void {
    this.vmm.step(vcpu);
  }
  reset(): void {
    this.vmm.reset();
  }
  getRegs(vcpu: number) {
    return this.vmm.getRegs(vcpu);
  }
  loadElf(bytes: Uint8Array, name: string) {
    return this.vmm.loadElf(bytes, name);
  }
  destroy(): Promise<void> {
    return this.vmm.destroy();
  }

  /** Dispatch by ioctl number, as a script would call the kernel. */
  ioctl(nr: number, arg?: unknown): unknown {
    switch (nr >>> 0) {
      case KVM_CREATE_VCPU:
        return this.createVcpu(arg as number);
      case KVM_SET_USER_MEMORY_REGION:
        return this.setUserMemoryRegion(arg as KvmUserspaceMemoryRegion);
      case KVM_RUN:
        return this.run();
      case KVM_GET_REGS:
        return this.getRegs(arg as number);
      case KVM_SET_GUEST_DEBUG:
        return this.step(arg as number);
      case KVM_GET_DIRTY_LOG:
        return this.vmm.getDirtyLog(arg as number);
      case KVM_CLEAR_DIRTY_LOG:
        return this.vmm.clearDirtyLog(arg as KvmClearDirtyLog);
      case KVM_ENABLE_CAP:
        return this.vmm.enableCap(arg as KvmEnableCap);
      case KVM_RESET_DIRTY_RINGS:
        return this.vmm.resetDirtyRings();
      case KVM_PPC_ALLOCATE_HTAB:
        // api.txt: without Book3S-HV style virtualization "the capability
        // doesn't exist and the ioctl returns an ENOTTY error". This VM uses
        // shadow paging, not a hashed page table.
        throw new KvmError('ENOTTY', 'KVM_PPC_ALLOCATE_HTAB: this VM has no hashed page table (not a Book3S-HV VM)');
      default:
        throw new KvmError('ENOTTY', `ioctl 0x${(nr >>> 0).toString(16)}: not a VM ioctl this hypervisor implements`);
    }
  }
}
