// Host memory operations on guest pages, through the MMU-notifier protocol
// (§2.9): what the host kernel does behind KVM's back and what makes the
// gfn->pfn ABA of locking.txt (§2.4) possible.
//
//   kvmSwapOutPage    contents to the swap area (swap-store.ts), pfn back to
//                     the pool; the next touch swaps it in (gfnToPfnProt).
//   kvmKsmMergePages  two gfns with identical contents share one read-only
//                     pfn; a write fault breaks the sharing (kvmKsmBreakCow,
//                     called by gfnToPfnProt with writeFault).
//   kvmMigratePage    contents to a fresh pfn, the old one freed.
//
// Each one, for every gfn whose host PTE changes:
//   invalidate_range_start [gfn, gfn + 1)   count++, zap the gfn's SPTEs via
//                                            the rmap (mmuSpteClearTrackBits:
//                                            A/D reach the old host page),
//                                            remote TLB flush (cause MMU notifier);
//   change the host PTE and the pfn refcounts, under mmu_lock;
//   invalidate_range_end                     seq++, count--.
// A page fault that looked its pfn up before the start sees count != 0 or a
// new seq under mmu_lock and retries (mmuNotifierRetry), so it never installs
// an SPTE for the old pfn, which may be back in the pool by then.
//
// mmu_lock also serialises the host PTE changes themselves (our stand-in for
// the host's page-table lock): without it, the KSM "last mapping, reuse in
// place" decision could race a merge adding a second mapping. The only host
// PTE changes made without it are first-touch allocation (0 -> present) and
// swap-in (swapped -> present, under the entry's LOCKED bit), which never
// touch a present entry.
//
// KSM and change_pte: 3.6's KSM re-points SPTEs read-only to the merged page
// (kvm_set_spte_hva: clear W and HOST_WRITEABLE, new pfn). We zap them
// instead, inside the same notifier range; the next fault maps the shared pfn
// with HOST_PTE_WRITABLE clear, so the SPTE it builds has neither W nor
// SPTE_HOST_WRITEABLE (setSpte) and the fast path leaves it alone. The end
// state is the same, one fault per page later (Linux 6.9 dropped change_pte
// for exactly this reason: it was always followed by an invalidation).
//
// Entry points are for the VMM thread only (not reentrant with each other);
// vCPUs fault concurrently. kvmKsmBreakCow runs on whichever thread faults.
// Errors are KvmErrors: EFAULT for a gfn in no memslot, EINVAL for bad
// arguments, ENOSPC / ENOMEM when the swap area or the pool is full; all are
// raised before anything changes.

import { kvmGetRunningVcpu } from './dirty-ring.ts';
import { check, KvmError } from './errors.ts';
import {
  HOST_PTE_LOCKED, HOST_PTE_PRESENT, HOST_PTE_SWAPPED, HOST_PTE_WRITABLE, HOSTOP_KSM_COW_COPIES,
  HOSTOP_KSM_COW_REUSES, HOSTOP_KSM_MERGES, HOSTOP_MIGRATIONS, LOCK_OWNER, LOCK_STATE, LOCK_WORDS, MMU_LOCK,
} from './fields.ts';
import { kvmAllocPfn, kvmPoolFreeCount, kvmReleasePfnClean } from './hostmem.ts';
import { Kvm } from './kvm-host.ts';
import { gfnToTableIndex } from './memslot.ts';
import { kvmMmuNotifierInvalidateRangeEnd, kvmMmuNotifierInvalidateRangeStart } from './mmu-notifier.ts';
import type { VmShared } from './shm.ts';
import { PAGE_SHIFT, PAGE_WORDS } from './shm.ts';
import { swapAllocSlot, swapFreeSlot, swapSlotCount, swapWriteSlot } from './swap-store.ts';
import { RACE_ARMED, RP_NOTIFIER_BEFORE_END, racePoint } from './race/pause-points.ts';

const MAX_GFN = (1 << 20) - 1;

/** gfn's index in 'gfn-table', or EFAULT naming the gfn if it is in no memslot. */
function tableIndexOrFault(vm: VmShared, gfn: number, op: string): number {
  check(Number.isInteger(gfn), 'EINVAL', `${op}: gfn ${String(gfn)} is not an integer`);
  const idx = gfn >= 0 && gfn <= MAX_GFN ? gfnToTableIndex(vm, gfn) : -1;
  if (idx < 0) {
    throw new KvmError('EFAULT', `${op}: gfn 0x${gfn.toString(16)} (guest physical 0x${(gfn * 4096).toString(16)}) is in no memslot`);
  }
  return idx;
}

function copyPage(vm: VmShared, from: number, to: number): void {
  const ram = vm.ramI32;
  ram.copyWithin(to * PAGE_WORDS, from * PAGE_WORDS, from * PAGE_WORDS + PAGE_WORDS);
}

/** Do two host pages hold the same bytes? */
export function pagesSame(vm: VmShared, a: number, b: number): boolean {
  const ram = vm.ramI32;
  const pa = a * PAGE_WORDS;
  const pb = b * PAGE_WORDS;
  for (let i = 0; i < PAGE_WORDS; i++) if (ram[pa + i] !== ram[pb + i]) return false;
  return true;
}

function hostOpStat(vm: VmShared, field: number): void {
  Atomics.add(vm.view('swap-map'), field, 1);
}

/** Run `body` inside invalidate_range_start/end for each gfn of `gfns`, body under mmu_lock. */
function underInvalidation<T>(kvm: Kvm, gfns: readonly number[], body: () => T): T {
  let started = 0;
  try {
    for (const g of gfns) {
      kvmMmuNotifierInvalidateRangeStart(kvm, g, g + 1);
      started++;
    }
    kvm.mmuLock.lock();
    try {
      return body();
    } finally {
      kvm.mmuLock.unlock();
    }
  } finally {
    if (kvm.vm.race[RACE_ARMED] !== 0) racePoint(kvm.vm, RP_NOTIFIER_BEFORE_END, gfns[0] ?? -1); // race lab
    for (let i = 0; i < started; i++) kvmMmuNotifierInvalidateRangeEnd(kvm);
  }
}

/**
 * Swap gfn's page out: its contents go to a swap slot, its pfn back to the
 * pool (once no in-flight fault pins it), its host PTE becomes "swapped".
 * Returns false, changing nothing, if the page is not resident (never touched,
 * or already swapped out). EFAULT outside every memslot; ENOSPC if the swap
 * area is full. VMM thread.
 */
export function kvmSwapOutPage(kvm: Kvm, gfn: number): boolean {
  const vm = kvm.vm;
  const idx = tableIndexOrFault(vm, gfn, 'swap-out');
  if ((Atomics.load(vm.gfnTable, idx) & HOST_PTE_PRESENT) === 0) return false;
  const slot = swapAllocSlot(vm);
  if (slot < 0) throw new KvmError('ENOSPC', `swap-out: swap area full (${swapSlotCount(vm)} slots) for gfn 0x${gfn.toString(16)}`);
  let done = false;
  try {
    underInvalidation(kvm, [gfn], () => {
      const table = vm.gfnTable;
      const pte = Atomics.load(table, idx);
      if ((pte & HOST_PTE_PRESENT) === 0) return;
      const pfn = pte >>> PAGE_SHIFT;
      const swapped = (slot << PAGE_SHIFT) | HOST_PTE_SWAPPED;
      // LOCKED while copying: a concurrent gfnToPfnProt waits instead of
      // swapping in a half-written slot.
      if (Atomics.compareExchange(table, idx, pte, swapped | HOST_PTE_LOCKED) !== pte) return;
      swapWriteSlot(vm, slot, pfn);
      Atomics.store(table, idx, swapped);
      kvmReleasePfnClean(vm, pfn); // the table's reference; a fault's pin may outlive it
      done = true;
    });
  } finally {
    if (!done) swapFreeSlot(vm, slot);
  }
  return done;
}

/**
 * KSM merge: if gfnA's and gfnB's pages hold identical bytes, map both to
 * gfnA's pfn, read-only (HOST_PTE_WRITABLE clear), and free gfnB's pfn.
 * Returns false if they already share a pfn. EFAULT outside every memslot;
 * EINVAL for the same gfn twice, a page not resident, or different contents
 * (also when the guest changed one between the check and the merge; its
 * SPTEs were zapped then, which only costs a fault). VMM thread.
 */
export function kvmKsmMergePages(kvm: Kvm, gfnA: number, gfnB: number): boolean {
  const vm = kvm.vm;
  const table = vm.gfnTable;
  const ia = tableIndexOrFault(vm, gfnA, 'ksm-merge');
  const ib = tableIndexOrFault(vm, gfnB, 'ksm-merge');
  check(gfnA !== gfnB, 'EINVAL', `ksm-merge: gfn 0x${gfnA.toString(16)} given twice`);
  const resident = (pte: number, gfn: number): number => {
    check((pte & HOST_PTE_PRESENT) !== 0, 'EINVAL', `ksm-merge: gfn 0x${gfn.toString(16)} is not resident (never touched or swapped out)`);
    return pte >>> PAGE_SHIFT;
  };
  const differ = (): KvmError =>
    new KvmError('EINVAL', `ksm-merge: gfns 0x${gfnA.toString(16)} and 0x${gfnB.toString(16)} have different contents`);
  const pa = resident(Atomics.load(table, ia), gfnA);
  const pb = resident(Atomics.load(table, ib), gfnB);
  if (pa === pb) return false;
  if (!pagesSame(vm, pa, pb)) throw differ();
  return underInvalidation(kvm, [gfnA, gfnB], () => {
    const pteA = Atomics.load(table, ia);
    const pteB = Atomics.load(table, ib);
    if (resident(pteA, gfnA) !== pa || resident(pteB, gfnB) !== pb) {
      throw new KvmError('EAGAIN', `ksm-merge: gfn 0x${gfnA.toString(16)} or 0x${gfnB.toString(16)} changed host page meanwhile; try again`);
    }
    if (!pagesSame(vm, pa, pb)) throw differ(); // written before the zap took effect
    Atomics.store(table, ia, pteA & ~HOST_PTE_WRITABLE);
    Atomics.add(vm.pfnRefcount, pa, 1); // gfnB's mapping
    Atomics.store(table, ib, (pa << PAGE_SHIFT) | HOST_PTE_PRESENT);
    kvmReleasePfnClean(vm, pb);
    hostOpStat(vm, HOSTOP_KSM_MERGES);
    return true;
  });
}

/**
 * Migrate gfn's page to a fresh pfn (the host PTE keeps its flags; a KSM page
 * gets a private read-only copy). Returns the new pfn, or -1 (nothing changed)
 * if the page is not resident. EFAULT outside every memslot; ENOMEM if the
 * pool is empty. VMM thread.
 */
export function kvmMigratePage(kvm: Kvm, gfn: number): number {
  const vm = kvm.vm;
  const idx = tableIndexOrFault(vm, gfn, 'migrate');
  if ((Atomics.load(vm.gfnTable, idx) & HOST_PTE_PRESENT) === 0) return -1;
  if (kvmPoolFreeCount(vm) === 0) throw new KvmError('ENOMEM', `migrate: host page pool exhausted moving gfn 0x${gfn.toString(16)}`);
  return underInvalidation(kvm, [gfn], () => {
    const table = vm.gfnTable;
    const pte = Atomics.load(table, idx);
    if ((pte & HOST_PTE_PRESENT) === 0) return -1;
    const pfn = kvmAllocPfn(vm);
    if (pfn < 0) throw new KvmError('ENOMEM', `migrate: host page pool exhausted moving gfn 0x${gfn.toString(16)}`);
    const old = pte >>> PAGE_SHIFT;
    copyPage(vm, old, pfn);
    Atomics.store(table, idx, (pfn << PAGE_SHIFT) | (pte & ((1 << PAGE_SHIFT) - 1)));
    kvmReleasePfnClean(vm, old);
    hostOpStat(vm, HOSTOP_MIGRATIONS);
    return pfn;
  });
}

// ── copy-on-write, from gfnToPfnProt on any thread ───────────────────────────

/** This thread's Kvm handle for kvmKsmBreakCow (gfnToPfnProt only has the VmShared). */
const threadKvms = new WeakMap<VmShared, Kvm>();

function threadKvm(vm: VmShared): Kvm {
  const self = kvmGetRunningVcpu();
  let kvm = threadKvms.get(vm);
  if (kvm === undefined || kvm.self !== self) {
    kvm = new Kvm(vm, self);
    threadKvms.set(vm, kvm);
  }
  return kvm;
}

/**
 * Break KSM sharing for a write to gfn (do_wp_page under FOLL_WRITE): inside
 * an invalidation of [gfn, gfn + 1), give gfn a private writable copy of the
 * shared page, or, if gfn's is the last mapping, make it writable in place.
 * The seq bump makes the faulting path (and any other) retry, so no SPTE for
 * the shared pfn is installed after this. Does nothing if the host PTE is no
 * longer a read-only resident page. Throws ENOMEM if the pool is empty.
 * Must not be called with mmu_lock held (gfnToPfnProt never is).
 */
export function kvmKsmBreakCow(vm: VmShared, gfn: number): void {
  const kvm = threadKvm(vm);
  const lw = MMU_LOCK * LOCK_WORDS;
  if (Atomics.load(vm.locks, lw + LOCK_STATE) !== 0 && Atomics.load(vm.locks, lw + LOCK_OWNER) === kvm.mmuLock.owner && kvm.self >= 0) {
    throw new KvmError('EINVAL', `ksm copy-on-write of gfn 0x${gfn.toString(16)}: called with mmu_lock held by this vCPU (it would deadlock)`);
  }
  underInvalidation(kvm, [gfn], () => {
    const idx = gfnToTableIndex(vm, gfn);
    if (idx < 0) return;
    const table = vm.gfnTable;
    const pte = Atomics.load(table, idx);
    if ((pte & (HOST_PTE_PRESENT | HOST_PTE_WRITABLE)) !== HOST_PTE_PRESENT) return;
    const shared = pte >>> PAGE_SHIFT;
    if (Atomics.load(vm.pfnRefcount, shared) === 1) {
      // Only this gfn maps it (in-flight pins aside): reuse it.
      Atomics.store(table, idx, pte | HOST_PTE_WRITABLE);
      hostOpStat(vm, HOSTOP_KSM_COW_REUSES);
      return;
    }
    const pfn = kvmAllocPfn(vm);
    if (pfn < 0) throw new KvmError('ENOMEM', `ksm copy-on-write: host page pool exhausted for gfn 0x${gfn.toString(16)}`);
    copyPage(vm, shared, pfn);
    Atomics.store(table, idx, (pfn << PAGE_SHIFT) | HOST_PTE_PRESENT | HOST_PTE_WRITABLE);
    kvmReleasePfnClean(vm, shared);
    hostOpStat(vm, HOSTOP_KSM_COW_COPIES);
  });
}
