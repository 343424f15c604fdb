// The MMU side of the MMU-notifier protocol (§2.9): what the host calls
// around taking pages away from the guest (swap-out, KSM merge, migration;
// those host operations come later and use these two entry points).
//
//   invalidate_range_start  under mmu_lock: mmu_notifier_count++, zap every
//                           SPTE mapping the range (through the rmaps, so A/D
//                           reach the host pages), flush remote TLBs;
//   ... the host changes the gfn->pfn entries and frees or reuses pages ...
//   invalidate_range_end    under mmu_lock: mmu_notifier_seq++, then
//                           mmu_notifier_count--.
// A page fault reads the sequence before gfn_to_pfn and, under mmu_lock,
// retries if the count is non-zero or the sequence moved (mmuNotifierRetry),
// so between start and end no SPTE for the range is installed (T4), and a
// fault that looked up a pfn before the change never maps it after.
//
// Ranges are in gfns here: our "host virtual addresses" are the gfn->pfn
// table entries, one per memslot page.

import { FLUSH_CAUSE_MMU_NOTIFIER, KVM_MMU_NOTIFIER_COUNT, KVM_MMU_NOTIFIER_SEQ, STAT_NOTIFIER_INVALIDATE } from './fields.ts';
import type { Kvm } from './kvm-host.ts';
import { kvmFlushRemoteTlbs } from './requests.ts';
import { kvmUnmapRmapp } from './rmap.ts';
import { RACE_ARMED, RP_NOTIFIER_AFTER_START, racePoint } from './race/pause-points.ts';

/** kvm_mmu_notifier_invalidate_range_start for gfns [start, end). Takes mmu_lock. */
export function kvmMmuNotifierInvalidateRangeStart(kvm: Kvm, start: number, end: number): void {
  const vm = kvm.vm;
  kvm.mmuLock.lock();
  try {
    Atomics.add(vm.kvm, KVM_MMU_NOTIFIER_COUNT, 1);
    Atomics.add(vm.stats, STAT_NOTIFIER_INVALIDATE, 1);
    let zapped = false;
    for (let gfn = start; gfn < end; gfn++) zapped = kvmUnmapRmapp(kvm, gfn) || zapped;
    if (zapped) kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_MMU_NOTIFIER);
  } finally {
    kvm.mmuLock.unlock();
  }
  if (vm.race[RACE_ARMED] !== 0) racePoint(vm, RP_NOTIFIER_AFTER_START, start); // race lab
}

/** kvm_mmu_notifier_invalidate_range_end. Takes mmu_lock. */
export function kvmMmuNotifierInvalidateRangeEnd(kvm: Kvm): void {
  const vm = kvm.vm;
  kvm.mmuLock.lock();
  try {
    Atomics.add(vm.kvm, KVM_MMU_NOTIFIER_SEQ, 1);
    Atomics.sub(vm.kvm, KVM_MMU_NOTIFIER_COUNT, 1);
  } finally {
    kvm.mmuLock.unlock();
  }
}
