import { describe, expect, it } from 'vitest';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import {
  gfnToMemslot, gfnToPfn, gfnToPfnProt, kvmReadGuest, kvmWriteGuest, markPageDirty, PFN_NOSLOT,
} from '../../src/kvm/memslot.ts';
import { kvmGetMemslot, kvmSetUserMemoryRegion } from '../../src/kvm/set-memory-region.ts';
import { kvmAllocPfn, kvmPoolFreeCount, kvmReleasePfnClean } from '../../src/kvm/hostmem.ts';
import {
  HOST_PTE_PRESENT, HOST_PTE_WRITABLE, KVM_MEM_LOG_DIRTY_PAGES, MEMSLOT_DIRTY_BASE, STAT_MMU_ZAP_ALL,
} from '../../src/kvm/fields.ts';
import { kvmResetGuestMemory } from '../../src/kvm/vm-reset.ts';
import { ACC_WRITE, PRV_M } from '../../src/cpu/memory.ts';
import { makeVcpu, makeVm, pfnOf, RAM_GFN } from './mmu-helpers.ts';
import { errnoOf } from './errno.ts';

const region = (slot: number, gpa: number, size: number, flags = 0) => ({ slot, flags, guestPhysAddr: gpa, memorySize: size });

describe('KVM_SET_USER_MEMORY_REGION', () => {
  it('checks ids, alignment, flags, range, overlap and resizing', () => {
    const vm = makeVm({ memBytes: 4 << 20 });
    const kvm = new Kvm(vm);
    expect(errnoOf(() => kvmSetUserMemoryRegion(kvm, region(32, 0x9000_0000, 4096)))).toBe('EINVAL');
    expect(errnoOf(() => kvmSetUserMemoryRegion(kvm, region(-1, 0x9000_0000, 4096)))).toBe('EINVAL');
    expect(errnoOf(() => kvmSetUserMemoryRegion(kvm, region(1, 0x9000_0800, 4096)))).toBe('EINVAL');
    expect(errnoOf(() => kvmSetUserMemoryRegion(kvm, region(1, 0x9000_0000, 100)))).toBe('EINVAL');
    expect(errnoOf(() => kvmSetUserMemoryRegion(kvm, region(1, 0x9000_0000, 4096, 2)))).toBe('EINVAL');
    expect(errnoOf(() => kvmSetUserMemoryRegion(kvm, region(1, 0xffff_f000, 8192)))).toBe('EINVAL');
    // Slot 0 is RAM at 0x8000_0000..0x8040_0000.
    expect(errnoOf(() => kvmSetUserMemoryRegion(kvm, region(1, 0x803f_f000, 8192)))).toBe('EEXIST');
    expect(errnoOf(() => kvmSetUserMemoryRegion(kvm, region(0, 0x8000_0000, 8 << 20)))).toBe('EINVAL');
    // The table budget (2 x memBytes by default) is finite.
    expect(errnoOf(() => kvmSetUserMemoryRegion(kvm, region(2, 0x1_0000_0000 - (16 << 20), 16 << 20)))).toBe('ENOMEM');
    // Nothing above changed anything.
    expect(kvmGetMemslot(vm, 1)).toBeNull();
    expect(kvmGetMemslot(vm, 0)?.npages).toBe(1024);
  });

  it('creates, finds, moves and deletes slots; deleting an empty slot is a no-op', () => {
    const vm = makeVm({ memBytes: 4 << 20 });
    const kvm = new Kvm(vm);
    kvmSetUserMemoryRegion(kvm, region(3, 0x9000_0000, 64 << 10));
    expect(gfnToMemslot(vm, 0x90000)).toBe(3);
    expect(gfnToMemslot(vm, 0x9000f)).toBe(3);
    expect(gfnToMemslot(vm, 0x90010)).toBe(-1);
    expect(gfnToMemslot(vm, RAM_GFN + 5)).toBe(0);
    const s = kvmGetMemslot(vm, 3)!;
    expect(s.tableBase % 32).toBe(0);
    expect(s.tableBase).toBeGreaterThanOrEqual(1024); // after slot 0's range

    // Contents follow a moved slot.
    expect(kvmWriteGuest(vm, 0x9000_1004, new Uint8Array([1, 2, 3, 4]))).toBe(true);
    const zaps = vm.stats[STAT_MMU_ZAP_ALL]!;
    kvmSetUserMemoryRegion(kvm, region(3, 0xa000_0000, 64 << 10));
    expect(vm.stats[STAT_MMU_ZAP_ALL]).toBe(zaps + 1); // kvm_arch_flush_shadow
    expect(gfnToMemslot(vm, 0x90001)).toBe(-1);
    expect(Array.from(kvmReadGuest(vm, 0xa000_1004, 4)!)).toEqual([1, 2, 3, 4]);

    const free = kvmPoolFreeCount(vm);
    kvmSetUserMemoryRegion(kvm, region(3, 0, 0));
    expect(gfnToMemslot(vm, 0xa0001)).toBe(-1);
    expect(kvmPoolFreeCount(vm)).toBe(free + 1); // its one touched page went back
    kvmSetUserMemoryRegion(kvm, region(3, 0, 0)); // no-op
    expect(kvmGetMemslot(vm, 3)).toBeNull();
  });
});

describe('gfnToPfn', () => {
  it('allocates a zero-filled page on first touch and returns the same page after', () => {
    const vm = makeVm({ memBytes: 4 << 20 });
    // Dirty a pool page, free it, and make sure the next first touch clears it.
    const junk = kvmAllocPfn(vm);
    vm.ramI32.fill(-1, junk * 1024, junk * 1024 + 1024);
    kvmReleasePfnClean(vm, junk);
    const free = kvmPoolFreeCount(vm);
    const pte = gfnToPfnProt(vm, RAM_GFN + 7, false);
    expect(pte & (HOST_PTE_PRESENT | HOST_PTE_WRITABLE)).toBe(HOST_PTE_PRESENT | HOST_PTE_WRITABLE);
    const pfn = pte >>> 12;
    expect(kvmPoolFreeCount(vm)).toBe(free - 1);
    expect(vm.ramI32.subarray(pfn * 1024, pfn * 1024 + 1024).every((w) => w === 0)).toBe(true);
    expect(vm.pfnRefcount[pfn]).toBe(2); // the table's reference + our pin
    kvmReleasePfnClean(vm, pfn);
    expect(vm.pfnRefcount[pfn]).toBe(1);
    expect(pfnOf(vm, RAM_GFN + 7)).toBe(pfn);
    expect(kvmPoolFreeCount(vm)).toBe(free - 1);
    expect(gfnToPfn(vm, 0x1000)).toBe(PFN_NOSLOT); // MMIO
  });

  it('reports ENOMEM when the host pool runs dry', () => {
    const vm = makeVm({ memBytes: 64 << 10, slotBytes: 1 << 20 });
    const kvm = new Kvm(vm);
    kvmSetUserMemoryRegion(kvm, region(1, 0x9000_0000, 512 << 10)); // more than the pool
    expect(errnoOf(() => {
      for (let g = 0; g < 128; g++) pfnOf(vm, 0x90000 + g);
    })).toBe('ENOMEM');
    expect(kvmPoolFreeCount(vm)).toBe(0);
  });
});

describe('markPageDirty', () => {
  it('sets bit (gfn - base) of the slot bitmap, only when the slot logs dirty pages', () => {
    const vm = makeVm({ memBytes: 4 << 20 });
    const kvm = new Kvm(vm);
    markPageDirty(vm, RAM_GFN + 33);
    expect(vm.dirtyBitmap.every((w) => w === 0)).toBe(true);
    kvmSetUserMemoryRegion(kvm, region(0, 0x8000_0000, 4 << 20, KVM_MEM_LOG_DIRTY_PAGES));
    markPageDirty(vm, RAM_GFN + 33);
    markPageDirty(vm, RAM_GFN + 33);
    markPageDirty(vm, RAM_GFN);
    const base = vm.memslots[MEMSLOT_DIRTY_BASE]!;
    expect(vm.dirtyBitmap[base]).toBe(1);
    expect(vm.dirtyBitmap[base + 1]).toBe(2);
    expect(vm.dirtyBitmap.reduce((n, w) => n + (w === 0 ? 0 : 1), 0)).toBe(2);
  });

  it('is what kvmWriteGuest does for each page it writes', () => {
    const vm = makeVm({ memBytes: 4 << 20 });
    const kvm = new Kvm(vm);
    kvmSetUserMemoryRegion(kvm, region(0, 0x8000_0000, 4 << 20, KVM_MEM_LOG_DIRTY_PAGES));
    expect(kvmWriteGuest(vm, 0x8000_0ffe, new Uint8Array([9, 9, 9]))).toBe(true);
    expect(vm.dirtyBitmap[vm.memslots[MEMSLOT_DIRTY_BASE]!]).toBe(0b11);
    expect(kvmWriteGuest(vm, 0x7fff_fffe, new Uint8Array([1, 1, 1]))).toBe(false);
    expect(kvmReadGuest(vm, 0x1000_0000, 4)).toBeNull();
  });
});

describe('kvmResetGuestMemory', () => {
  it('returns every guest page to the pool and zaps the shadow pages', () => {
    const vm = makeVm({ memBytes: 4 << 20 });
    const free = kvmPoolFreeCount(vm);
    const { mmu } = makeVcpu(vm);
    const host = mmu.translate(0x8000_2000, ACC_WRITE, PRV_M, 0, 0);
    vm.ramI32[host >>> 2] = 1234;
    expect(kvmPoolFreeCount(vm)).toBe(free - 1);
    kvmResetGuestMemory(new Kvm(vm));
    expect(kvmPoolFreeCount(vm)).toBe(free);
    expect(Array.from(kvmReadGuest(vm, 0x8000_2000, 4)!)).toEqual([0, 0, 0, 0]);
    const again = mmu.translate(0x8000_2000, ACC_WRITE, PRV_M, 0, 0);
    expect(vm.ramI32[again >>> 2]).toBe(0);
  });
});
