// The vCPU memslot cache (vcpu->last_used_slot) behind the fast page fault's
// markPageDirty: it must give the same answers as a fresh memslot scan, and
// notice every memslot change through the generation.
import { describe, expect, it } from 'vitest';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import { kvmVcpuMarkPageDirty, MemslotCache } from '../../src/kvm/memslot.ts';
import { kvmSetUserMemoryRegion } from '../../src/kvm/set-memory-region.ts';
import { KVM_MEM_LOG_DIRTY_PAGES, MEMSLOT_DIRTY_BASE, MEMSLOT_WORDS } from '../../src/kvm/fields.ts';
import { makeVm, RAM_GFN } from './mmu-helpers.ts';

const region = (slot: number, gpa: number, size: number, flags = 0) => ({ slot, flags, guestPhysAddr: gpa, memorySize: size });
const dirtyWord = (vm: ReturnType<typeof makeVm>, slot: number, rel: number) =>
  vm.dirtyBitmap[vm.memslots[slot * MEMSLOT_WORDS + MEMSLOT_DIRTY_BASE]! + (rel >>> 5)]!;

describe('kvmVcpuMarkPageDirty with a memslot cache', () => {
  it('marks the page of the slot that holds the gfn, only while that slot logs', () => {
    const vm = makeVm({ memBytes: 4 << 20 });
    const kvm = new Kvm(vm);
    const cache = new MemslotCache();
    kvmVcpuMarkPageDirty(vm, cache, RAM_GFN + 3); // logging off: nothing, but the cache is filled
    expect(cache.slot).toBe(0);
    expect(vm.dirtyBitmap.every((w) => w === 0)).toBe(true);

    // Turning logging on changes the slot's flags: the cached flags must not be used.
    kvmSetUserMemoryRegion(kvm, region(0, 0x8000_0000, 4 << 20, KVM_MEM_LOG_DIRTY_PAGES));
    kvmVcpuMarkPageDirty(vm, cache, RAM_GFN + 3);
    kvmVcpuMarkPageDirty(vm, cache, RAM_GFN + 33);
    expect(dirtyWord(vm, 0, 3)).toBe(1 << 3);
    expect(dirtyWord(vm, 0, 33)).toBe(1 << 1);

    // And off again: no more bits.
    kvmSetUserMemoryRegion(kvm, region(0, 0x8000_0000, 4 << 20, 0));
    const before = vm.dirtyBitmap.slice();
    kvmVcpuMarkPageDirty(vm, cache, RAM_GFN + 5);
    expect(vm.dirtyBitmap).toEqual(before);
  });

  it('follows a gfn into another slot, and ignores MMIO', () => {
    const vm = makeVm({ memBytes: 4 << 20 });
    const kvm = new Kvm(vm);
    kvmSetUserMemoryRegion(kvm, region(0, 0x8000_0000, 4 << 20, KVM_MEM_LOG_DIRTY_PAGES));
    kvmSetUserMemoryRegion(kvm, region(1, 0x9000_0000, 64 * 4096, KVM_MEM_LOG_DIRTY_PAGES));
    const cache = new MemslotCache();
    kvmVcpuMarkPageDirty(vm, cache, RAM_GFN + 1);
    kvmVcpuMarkPageDirty(vm, cache, 0x90000 + 40); // outside the cached range: a scan
    expect(cache.slot).toBe(1);
    expect(dirtyWord(vm, 1, 40)).toBe(1 << 8);
    expect(dirtyWord(vm, 0, 1)).toBe(1 << 1);
    const before = vm.dirtyBitmap.slice();
    kvmVcpuMarkPageDirty(vm, cache, 0x10000); // the UART: in no slot
    expect(vm.dirtyBitmap).toEqual(before);
  });
});
