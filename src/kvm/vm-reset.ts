// Reset guest memory (a program reload): every page of every memslot goes back
// to the host pool, so the next touch finds a fresh zero-filled page, and every
// shadow page is zapped. The memslots themselves stay.
//
// It is done as a host invalidation of all of guest memory: inside an
// MMU-notifier range (count raised, then seq bumped), so a page fault that
// looked up a pfn before the reset retries instead of mapping a freed page.
// The VMM calls it with the vCPUs stopped; any that still hold roots reload
// them (KVM_REQ_MMU_RELOAD) when they next enter the guest.

import {
  KVM_MEM_SLOTS_NUM, KVM_MMU_NOTIFIER_COUNT, KVM_MMU_NOTIFIER_SEQ, MEMSLOT_DIRTY_BASE, MEMSLOT_NPAGES,
  MEMSLOT_TABLE_BASE, MEMSLOT_WORDS,
} from './fields.ts';
import type { Kvm } from './kvm-host.ts';
import { kvmMmuZapAll } from './mmu-page.ts';
import { releaseTableRange } from './set-memory-region.ts';

/** Free all guest RAM and zap every shadow page. Takes slots_lock and mmu_lock. */
export function kvmResetGuestMemory(kvm: Kvm): void {
  const vm = kvm.vm;
  kvm.slotsLock.lock();
  kvm.mmuLock.lock();
  try {
    Atomics.add(vm.kvm, KVM_MMU_NOTIFIER_COUNT, 1);
    kvmMmuZapAll(kvm);
    for (let i = 0; i < KVM_MEM_SLOTS_NUM; i++) {
      const b = i * MEMSLOT_WORDS;
      const npages = vm.memslots[b + MEMSLOT_NPAGES]!;
      if (npages === 0) continue;
      releaseTableRange(vm, vm.memslots[b + MEMSLOT_TABLE_BASE]!, npages);
      const bitmap = vm.memslots[b + MEMSLOT_DIRTY_BASE]!;
      vm.dirtyBitmap.fill(0, bitmap, bitmap + 2 * Math.ceil(npages / 32));
    }
    Atomics.add(vm.kvm, KVM_MMU_NOTIFIER_SEQ, 1);
    Atomics.sub(vm.kvm, KVM_MMU_NOTIFIER_COUNT, 1);
  } finally {
    kvm.mmuLock.unlock();
    kvm.slotsLock.unlock();
  }
}
