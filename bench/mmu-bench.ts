// Shadow-MMU costs measured on one thread, without workers: a fault is a call
// of translate() on a TLB miss, as the hart makes it.
//   fault.fast_ns   write fault on a dirty-log write-protected SPTE: the
//                   lock-free cmpxchg of the W bit (fastPageFault)
//   fault.slow_ns   write fault with no SPTE: mmu_lock, gfn->pfn, install
//   dirtylog.get_ms KVM_GET_DIRTY_LOG of a slot with a given dirty fraction
import { createVm } from '../src/kvm/shm.ts';
import { Kvm } from '../src/kvm/kvm-host.ts';
import { KvmVcpuRequests } from '../src/kvm/requests.ts';
import { KvmVcpuMmu, type MmioBus } from '../src/kvm/vcpu-mmu.ts';
import { ACC_WRITE, PRV_M } from '../src/cpu/memory.ts';
import { kvmMmuZapAll } from '../src/kvm/mmu-page.ts';
import { kvmSetUserMemoryRegion } from '../src/kvm/set-memory-region.ts';
import { kvmGetDirtyLog } from '../src/kvm/dirtylog.ts';
import { markPageDirty } from '../src/kvm/memslot.ts';
import { KVM_MEM_LOG_DIRTY_PAGES } from '../src/kvm/fields.ts';
import type { Row } from './bench.ts';

const RAM = 0x8000_0000;
const noBus: MmioBus = { error: true, load: () => 0, store: () => {} };

function vcpuOn(memBytes: number) {
  const vm = createVm({ memBytes });
  const kvm = new Kvm(vm, 0);
  const req = new KvmVcpuRequests(vm, 0);
  const mmu = new KvmVcpuMmu(kvm, req, noBus);
  mmu.attachHart({ tlbFlush() {} });
  return { vm, kvm, mmu, vmm: new Kvm(vm) };
}

function writeAll(mmu: KvmVcpuMmu, pages: number): number {
  const t0 = performance.now();
  for (let i = 0; i < pages; i++) mmu.translate(RAM + i * 4096, ACC_WRITE, PRV_M, 0, 0);
  return ((performance.now() - t0) * 1e6) / pages;
}

export function benchFaults(scale = 1): Row[] {
  const pages = Math.max(1024, Math.round(8192 * scale));
  const { vm, mmu, vmm } = vcpuOn(64 << 20);
  writeAll(mmu, pages); // back the pages and warm the code up
  const log = (on: boolean) => kvmSetUserMemoryRegion(vmm, { slot: 0, flags: on ? KVM_MEM_LOG_DIRTY_PAGES : 0, guestPhysAddr: RAM, memorySize: vm.config.memBytes });
  let fast = Infinity;
  let slow = Infinity;
  for (let round = 0; round < 5; round++) {
    log(false);
    log(true); // write-protects every SPTE: the next writes take the fast path
    fast = Math.min(fast, writeAll(mmu, pages));
    vmm.mmuLock.lock();
    kvmMmuZapAll(vmm);
    vmm.mmuLock.unlock();
    slow = Math.min(slow, writeAll(mmu, pages)); // no SPTE: the slow path
  }
  return [
    { name: 'fault.fast_ns', value: fast, unit: 'ns' },
    { name: 'fault.slow_ns', value: slow, unit: 'ns' },
    { name: 'fault.fast_over_slow', value: fast / slow, unit: 'ratio', note: 'target <= 0.2' },
  ];
}

export function benchGetDirtyLog(): Row[] {
  const rows: Row[] = [];
  for (const [mib, fraction] of [[64, 0.1], [1024, 0.01], [1024, 0.1]] as const) {
    const { vm, mmu, vmm } = vcpuOn(mib << 20);
    const pages = vm.config.memPages;
    kvmSetUserMemoryRegion(vmm, { slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM, memorySize: mib << 20 });
    const step = Math.round(1 / fraction);
    const dirty = (): void => {
      for (let i = 0; i < pages; i += step) markPageDirty(vm, RAM / 4096 + i);
    };
    // Map the pages that will be dirty, so GET has SPTEs to write-protect.
    for (let i = 0; i < pages; i += step) mmu.translate(RAM + i * 4096, ACC_WRITE, PRV_M, 0, 0);
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      dirty();
      const t0 = performance.now();
      kvmGetDirtyLog(vmm, 0);
      best = Math.min(best, performance.now() - t0);
    }
    rows.push({ name: `dirtylog.get_ms.${mib}MiB.${fraction * 100}pct`, value: best, unit: 'ms', note: mib === 1024 && fraction === 0.1 ? 'target <= 10' : undefined });
  }
  return rows;
}
