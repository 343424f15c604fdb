// The host page pool: the "host RAM" behind guest memory.
//
// `ram` holds poolPfns pages; pfn p is bytes [p * 4096, p * 4096 + 4096). A
// pfn is only ever guest data: the hypervisor's structures live in `hv`, so an
// SPTE can never hand the guest a page of them.
//
// Bookkeeping in hv (fields.ts):
//   pfn-free      bitmap, bit set = page free. Allocation is lock-free: find a
//                 word with a set bit and clear that bit with compareExchange;
//                 a lost race just tries again. A bitmap has no ABA problem,
//                 which a free-list stack shared by threads would have.
//   pfn-refcount  references to the page: 1 from the gfn->pfn table that owns
//                 it, +1 for every in-flight gfnToPfn user (the page fault
//                 path pins the page until the SPTE is installed, as gfn_to_pfn
//                 takes a page reference that kvm_release_pfn_clean drops).
//                 The page returns to the pool when the count reaches 0.
//   pfn-flags     PFN_ACCESSED / PFN_DIRTY: what the A/D bits of zapped SPTEs
//                 told us (kvm_set_pfn_accessed / kvm_set_pfn_dirty), for the
//                 host's page aging and swap (later issues).
// SPTEs hold no page reference: as in KVM, the MMU notifier protocol (hostmem
// ops zap the SPTEs through the rmap before freeing) keeps them honest.

import type { VmShared } from './shm.ts';
import { PAGE_WORDS } from './shm.ts';
import {
  KVM_POOL_FREE_COUNT, KVM_POOL_HINT, PFN_ACCESSED, PFN_DIRTY, STAT_PFN_ALLOC, STAT_PFN_FREE,
} from './fields.ts';

/**
 * Take a free host page, zero-filled, with refcount 1 and clear A/D flags.
 * Returns -1 when the pool is empty.
 */
export function kvmAllocPfn(vm: VmShared): number {
  const free = vm.pfnFree;
  const n = free.length;
  const start = Atomics.load(vm.kvm, KVM_POOL_HINT) % n;
  for (let k = 0; k < n; k++) {
    const i = (start + k) % n;
    let word = Atomics.load(free, i);
    while (word !== 0) {
      const bit = word & -word; // lowest free page in this word
      const seen = Atomics.compareExchange(free, i, word, word & ~bit);
      if (seen === word) {
        const pfn = i * 32 + (31 - Math.clz32(bit));
        if (k !== 0) Atomics.store(vm.kvm, KVM_POOL_HINT, i);
        Atomics.sub(vm.kvm, KVM_POOL_FREE_COUNT, 1);
        Atomics.add(vm.stats, STAT_PFN_ALLOC, 1);
        // Nobody else can reach the page until it is published (through a
        // seq-cst compareExchange of the gfn->pfn entry), so plain stores do.
        vm.ramI32.fill(0, pfn * PAGE_WORDS, pfn * PAGE_WORDS + PAGE_WORDS);
        Atomics.store(vm.pfnFlags, pfn, 0);
        Atomics.store(vm.pfnRefcount, pfn, 1);
        return pfn;
      }
      word = seen;
    }
  }
  return -1;
}

/** Return a page whose refcount reached 0 to the pool. */
function kvmFreePfn(vm: VmShared, pfn: number): void {
  Atomics.or(vm.pfnFree, pfn >>> 5, 1 << (pfn & 31));
  Atomics.add(vm.kvm, KVM_POOL_FREE_COUNT, 1);
  Atomics.add(vm.stats, STAT_PFN_FREE, 1);
}

/**
 * Take a reference unless the page is already being freed (refcount 0).
 * The caller must then check that the page still means what it thought (the
 * gfn->pfn entry is unchanged), since a freed page may be reused.
 */
export function kvmGetPfnUnlessZero(vm: VmShared, pfn: number): boolean {
  const rc = vm.pfnRefcount;
  let c = Atomics.load(rc, pfn);
  while (c > 0) {
    const seen = Atomics.compareExchange(rc, pfn, c, c + 1);
    if (seen === c) return true;
    c = seen;
  }
  return false;
}

/** Drop a reference (kvm_release_pfn_clean); the last one frees the page. */
export function kvmReleasePfnClean(vm: VmShared, pfn: number): void {
  if (Atomics.sub(vm.pfnRefcount, pfn, 1) === 1) kvmFreePfn(vm, pfn);
}

/** Drop a reference after writing the page (kvm_release_pfn_dirty). */
export function kvmReleasePfnDirty(vm: VmShared, pfn: number): void {
  kvmSetPfnDirty(vm, pfn);
  kvmReleasePfnClean(vm, pfn);
}

/** Record that the guest used the page (kvm_set_pfn_accessed). */
export function kvmSetPfnAccessed(vm: VmShared, pfn: number): void {
  if ((vm.pfnFlags[pfn]! & PFN_ACCESSED) === 0) Atomics.or(vm.pfnFlags, pfn, PFN_ACCESSED);
}

/** Record that the page's contents changed (kvm_set_pfn_dirty). */
export function kvmSetPfnDirty(vm: VmShared, pfn: number): void {
  if ((vm.pfnFlags[pfn]! & PFN_DIRTY) === 0) Atomics.or(vm.pfnFlags, pfn, PFN_DIRTY);
}

/** Free host pages right now. */
export function kvmPoolFreeCount(vm: VmShared): number {
  return Atomics.load(vm.kvm, KVM_POOL_FREE_COUNT);
}
