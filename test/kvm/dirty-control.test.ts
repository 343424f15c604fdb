// The app's switchable dirty-log collection (src/kvm/dirty-control.ts) over a
// single-threaded VM: bitmap and clear modes collect and re-arm, CLEAR of a
// range keeps its EINVAL checks, and the ring is only for a VM that has not run
// and cannot be left again. A fake VMM forwards to the real ioctls.
import { afterEach, describe, expect, it } from 'vitest';
import { kvmDirtyRingSize, kvmSetRunningVcpu } from '../../src/kvm/dirty-ring.ts';
import { kvmClearDirtyLog, kvmEnableCap, kvmGetDirtyLog, kvmResetDirtyRings } from '../../src/kvm/dirtylog.ts';
import { VmDirtyControl } from '../../src/kvm/dirty-control.ts';
import { KVM_MEM_LOG_DIRTY_PAGES } from '../../src/kvm/fields.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import { markPageDirty } from '../../src/kvm/memslot.ts';
import { kvmSetUserMemoryRegion } from '../../src/kvm/set-memory-region.ts';
import type { VmShared } from '../../src/kvm/shm.ts';
import type { Vmm } from '../../src/kvm/vmm.ts';
import { RAM, RAM_GFN, makeVm } from './mmu-helpers.ts';

function fakeVmm(vm: VmShared): Vmm {
  const kvm = new Kvm(vm);
  return {
    vm, kvm, vcpus: vm.config.vcpus,
    enableCap: (c: Parameters<Vmm['enableCap']>[0]) => kvmEnableCap(kvm, c),
    getDirtyLog: (slot: number) => kvmGetDirtyLog(kvm, slot),
    clearDirtyLog: (log: Parameters<Vmm['clearDirtyLog']>[0]) => kvmClearDirtyLog(kvm, log),
    resetDirtyRings: () => kvmResetDirtyRings(kvm),
  } as unknown as Vmm;
}

function logging(vm: VmShared): void {
  kvmSetUserMemoryRegion(new Kvm(vm), { slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM, memorySize: vm.config.memBytes });
}

const pagesOf = (b: Uint32Array): number[] => {
  const out: number[] = [];
  b.forEach((w, i) => {
    for (let j = 0; j < 32; j++) if ((w >>> j) & 1) out.push(i * 32 + j);
  });
  return out;
};

afterEach(() => kvmSetRunningVcpu(-1));

describe('VmDirtyControl', () => {
  it('bitmap mode: collect returns the dirty pages and the next round starts empty', () => {
    const vm = makeVm();
    const ctl = new VmDirtyControl(fakeVmm(vm));
    logging(vm);
    markPageDirty(vm, RAM_GFN + 3);
    markPageDirty(vm, RAM_GFN + 40);
    expect(pagesOf(ctl.collect())).toEqual([3, 40]);
    expect(pagesOf(ctl.collect())).toEqual([]);
  });

  it('clear mode: GET only copies; collect clears what it got; clearRange checks alignment', () => {
    const vm = makeVm();
    const vmm = fakeVmm(vm);
    const ctl = new VmDirtyControl(vmm);
    ctl.setMode('clear', false);
    logging(vm);
    markPageDirty(vm, RAM_GFN + 5);
    expect(pagesOf(vmm.getDirtyLog(0))).toEqual([5]);
    expect(pagesOf(vmm.getDirtyLog(0))).toEqual([5]); // manual protect: still set
    expect(pagesOf(ctl.collect())).toEqual([5]);
    expect(pagesOf(vmm.getDirtyLog(0))).toEqual([]);
    markPageDirty(vm, RAM_GFN + 70);
    expect(() => ctl.clearRange(3, 64)).toThrow(/EINVAL: .*first_page must be a multiple of 64/);
    ctl.clearRange(64, 64);
    expect(pagesOf(vmm.getDirtyLog(0))).toEqual([]);
    ctl.setMode('bitmap', false); // back to GET clearing, any time
    markPageDirty(vm, RAM_GFN + 9);
    expect(pagesOf(vmm.getDirtyLog(0))).toEqual([9]);
    expect(pagesOf(vmm.getDirtyLog(0))).toEqual([]);
  });

  it('ring mode: only before the first run, harvested per vCPU, and for good', () => {
    const vm = makeVm({ vcpus: 2 });
    const ctl = new VmDirtyControl(fakeVmm(vm));
    expect(() => ctl.setMode('ring', false)).toThrow(/EBUSY: .*before the vCPUs first run/);
    expect(kvmDirtyRingSize(vm)).toBe(0);
    ctl.setMode('ring', true);
    logging(vm);
    kvmSetRunningVcpu(1);
    markPageDirty(vm, RAM_GFN + 7);
    kvmSetRunningVcpu(0);
    markPageDirty(vm, RAM_GFN + 2);
    expect(pagesOf(ctl.collect())).toEqual([2, 7]);
    expect(pagesOf(ctl.collect())).toEqual([]);
    expect(() => ctl.setMode('bitmap', true)).toThrow(/EINVAL: .*set once per VM/);
    expect(ctl.mode).toBe('ring');
    expect(new VmDirtyControl(fakeVmm(vm)).mode).toBe('ring');
    expect(() => ctl.setMode('bogus' as 'ring', true)).toThrow(/unknown mode 'bogus'/);
  });
});
