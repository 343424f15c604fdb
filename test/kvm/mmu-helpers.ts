// Shared fixtures for the shadow-MMU tests: a small VM, a vCPU memory object
// with a fake bus and hart, and helpers to write guest memory and Sv32 tables
// without going through the MMU (as a loader would).
import { createVm, type VmConfig, type VmShared } from '../../src/kvm/shm.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import { KvmVcpuRequests } from '../../src/kvm/requests.ts';
import { KvmVcpuMmu, type MmioBus } from '../../src/kvm/vcpu-mmu.ts';
import { gfnToPfn } from '../../src/kvm/memslot.ts';
import { kvmReleasePfnClean } from '../../src/kvm/hostmem.ts';
import { rmapSptes } from '../../src/kvm/rmap.ts';
import { kvmMmuZapAll } from '../../src/kvm/mmu-page.ts';
import { readLockStats } from '../../src/kvm/locks.ts';
import { MMU_LOCK, SP_GFN, SP_META_WORDS, SP_ROLE } from '../../src/kvm/fields.ts';
import { PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X } from '../../src/cpu/sv32-walk.ts';

export { PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X };
export const RAM = 0x8000_0000;
export const RAM_GFN = RAM / 4096;
export const SATP_SV32 = 0x8000_0000 | 0;

export class FakeBus implements MmioBus {
  error = false;
  readonly accesses: string[] = [];
  load(paddr: number, size: number): number {
    this.accesses.push(`load ${paddr.toString(16)}/${size}`);
    this.error = (paddr >>> 0) !== 0x1000_0000;
    return this.error ? 0 : 0x5a;
  }
  store(paddr: number, size: number, value: number): void {
    this.accesses.push(`store ${paddr.toString(16)}/${size}=${value}`);
    this.error = (paddr >>> 0) !== 0x1000_0000;
  }
}

export class FakeHart {
  flushes = 0;
  tlbFlush(): void {
    this.flushes++;
  }
}

export interface TestVcpu {
  mmu: KvmVcpuMmu;
  kvm: Kvm;
  req: KvmVcpuRequests;
  hart: FakeHart;
  bus: FakeBus;
}

export function makeVm(cfg: VmConfig = {}): VmShared {
  return createVm({ memBytes: 16 << 20, ...cfg });
}

export function makeVcpu(vm: VmShared, id = 0): TestVcpu {
  const kvm = new Kvm(vm, id);
  const req = new KvmVcpuRequests(vm, id);
  const bus = new FakeBus();
  const mmu = new KvmVcpuMmu(kvm, req, bus);
  const hart = new FakeHart();
  mmu.attachHart(hart);
  return { mmu, kvm, req, hart, bus };
}

/** The host pfn backing gfn (allocated on first touch), without keeping a pin. */
export function pfnOf(vm: VmShared, gfn: number): number {
  const pfn = gfnToPfn(vm, gfn);
  if (pfn >= 0) kvmReleasePfnClean(vm, pfn);
  return pfn;
}

/** Write a word of guest physical memory behind the MMU's back (a loader's write). */
export function writePhys(vm: VmShared, gpa: number, value: number): void {
  const pfn = pfnOf(vm, Math.floor(gpa / 4096));
  Atomics.store(vm.ramI32, pfn * 1024 + ((gpa & 0xfff) >>> 2), value);
}

export function readPhys(vm: VmShared, gpa: number): number {
  const pfn = pfnOf(vm, Math.floor(gpa / 4096));
  return Atomics.load(vm.ramI32, pfn * 1024 + ((gpa & 0xfff) >>> 2));
}

/** A guest Sv32 PTE for physical address `pa` with flag bits. */
export function gpte(pa: number, flags: number): number {
  return (((pa >>> 12) << 10) | flags) | 0;
}

/** A pointer PTE to the next-level table at `pa`. */
export function gptr(pa: number): number {
  return gpte(pa, PTE_V);
}

export function satpFor(rootPa: number): number {
  return SATP_SV32 | (rootPa >>> 12);
}

/** Map 4 KiB page va -> pa in a two-level table rooted at rootPa, using l1Pa for the leaf table. */
export function map4k(vm: VmShared, rootPa: number, l1Pa: number, va: number, pa: number, flags: number): void {
  writePhys(vm, rootPa + (va >>> 22) * 4, gptr(l1Pa));
  writePhys(vm, l1Pa + ((va >>> 12) & 0x3ff) * 4, gpte(pa, flags));
}

export function spMeta(vm: VmShared, sp: number): { gfn: number; role: number } {
  return { gfn: vm.spMeta[sp * SP_META_WORDS + SP_GFN]!, role: vm.spMeta[sp * SP_META_WORDS + SP_ROLE]! };
}

/** The SPTE a walk of `root` would use for va: [location, value], or [-1, 0]. */
export function leafSpte(vm: VmShared, root: number, va: number): [number, number] {
  const l2 = vm.spt[root * 1024 + (va >>> 22)]!;
  if ((l2 & 1) === 0) return [-1, 0];
  const loc = (l2 >>> 12) * 1024 + ((va >>> 12) & 0x3ff);
  return [loc, vm.spt[loc]!];
}

export function childOf(vm: VmShared, root: number, va: number): number {
  const l2 = vm.spt[root * 1024 + (va >>> 22)]!;
  return (l2 & 1) === 0 ? -1 : l2 >>> 12;
}

export function mmuLockAcquired(vm: VmShared): number {
  return readLockStats(vm.locks, MMU_LOCK).acquired;
}

export function rmapOf(kvm: Kvm, gfn: number): number[] {
  kvm.mmuLock.lock();
  try {
    return rmapSptes(kvm, gfn).sort((a, b) => a - b);
  } finally {
    kvm.mmuLock.unlock();
  }
}

/** kvm_mmu_zap_all as a host thread calls it: under mmu_lock. */
export function zapAll(kvm: Kvm): void {
  kvm.mmuLock.lock();
  try {
    kvmMmuZapAll(kvm);
  } finally {
    kvm.mmuLock.unlock();
  }
}
