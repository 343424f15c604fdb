// Installing and invalidating SPTEs under mmu_lock: set_spte/mmu_set_spte, MMIO
// SPTEs, roots, the emulated guest page-table write (kvm_mmu_pte_write), and
// the MMU-notifier retry check the page fault makes.
//
// The pieces below this: spte.ts (the word and its atomic updates), rmap.ts
// (who maps a gfn), mmu-page.ts (shadow pages). Above it: fault.ts (the fault
// paths) and vcpu-mmu.ts (the "hardware" walk and the HartMemory object).

import type { Kvm } from './kvm-host.ts';
import {
  FLUSH_CAUSE_SPTE_UPDATE, FLUSH_CAUSE_ZAP, KVM_MMU_NOTIFIER_COUNT, KVM_MMU_NOTIFIER_SEQ, ROLE_DIRECT, ROLE_INVALID,
  SP_GFN, SP_META_WORDS, SP_NIL, SP_ROLE, SP_ROOT_COUNT, STAT_MMU_FLOODED, STAT_MMU_PTE_WRITE,
} from './fields.ts';
import { markPageDirty } from './memslot.ts';
import {
  detectWriteFlooding, dropParentPte, kvmMmuCommitZapPage, kvmMmuGetPage, kvmMmuPageGetGfn, kvmMmuPageSetGfn,
  kvmMmuPrepareZapPage, mmuNeedWriteProtect, mmuPageZapPte, spHashFirst, spHashNext,
} from './mmu-page.ts';
import { kvmFlushRemoteTlbs } from './requests.ts';
import { dropSpte, rmapAdd } from './rmap.ts';
import type { VmShared } from './shm.ts';
import { PAGE_WORDS } from './shm.ts';
import {
  ACC_ALL, ACC_WRITE_MASK, SPTE_ACCESSED, SPTE_EXEC, SPTE_HOST_WRITEABLE, SPTE_MMIO, SPTE_MMU_WRITEABLE,
  SPTE_PRESENT, SPTE_READ, SPTE_USER, SPTE_WRITABLE, isLastSpte, isMmioSpte, isShadowPresentPte,
  mmuSpteClearNoTrack, mmuSpteUpdate, spteToPfn,
} from './spte.ts';

/** The largest gfn an MMIO SPTE can hold (20 bits); above it MMIO is not cached. */
const MMIO_SPTE_MAX_GFN = (1 << 20) - 1;

/** Read mmu_notifier_seq before looking up a pfn outside the lock (§2.9 step 1). */
export function mmuNotifierSeq(vm: VmShared): number {
  return Atomics.load(vm.kvm, KVM_MMU_NOTIFIER_SEQ);
}

/**
 * mmu_notifier_retry: under mmu_lock, must a fault that read `mmuSeq` before
 * its gfn_to_pfn start over? Yes while an invalidation is in progress (count
 * != 0), or if one completed since (seq moved): the pfn may have been freed.
 */
export function mmuNotifierRetry(vm: VmShared, mmuSeq: number): boolean {
  if (Atomics.load(vm.kvm, KVM_MMU_NOTIFIER_COUNT) !== 0) return true;
  return Atomics.load(vm.kvm, KVM_MMU_NOTIFIER_SEQ) !== mmuSeq;
}

/**
 * set_spte (§2.6): build the leaf SPTE for (pfn, pteAccess) and store it at loc.
 *  - HOST_WRITEABLE if the host page may be written (else no write access);
 *  - W | MMU_WRITEABLE if pteAccess allows writing (the caller already removed
 *    write for a clean guest PTE) and gfn is not a shadowed guest page table:
 *    if it is, W and MMU_W stay clear and a write fault must be emulated;
 *  - markPageDirty when the new SPTE grants write (the slow path's dirty log);
 *  - mmuSpteUpdate, and a remote flush if it took write access away.
 * Returns true if this write fault must be emulated. mmu_lock held.
 */
export function setSpte(
  kvm: Kvm, loc: number, pteAccess: number, gfn: number, pfn: number, hostWritable: boolean, writeFault: boolean,
): boolean {
  const vm = kvm.vm;
  let access = pteAccess;
  let spte = SPTE_PRESENT | SPTE_ACCESSED | (pfn << 12) | (access & (SPTE_READ | SPTE_EXEC | SPTE_USER));
  if (hostWritable) spte |= SPTE_HOST_WRITEABLE;
  else access &= ~ACC_WRITE_MASK;
  let protectedPt = false;
  if ((access & ACC_WRITE_MASK) !== 0) {
    spte |= SPTE_WRITABLE | SPTE_MMU_WRITEABLE;
    if (mmuNeedWriteProtect(kvm, gfn)) {
      protectedPt = true;
      spte &= ~(SPTE_WRITABLE | SPTE_MMU_WRITEABLE);
    }
  }
  if ((spte & SPTE_WRITABLE) !== 0) markPageDirty(vm, gfn);
  if (mmuSpteUpdate(vm, loc, spte)) kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_SPTE_UPDATE);
  return protectedPt && writeFault;
}

/**
 * mmu_set_spte: install the leaf at `index` of level-1 page `sp` mapping gfn to
 * pfn. An SPTE there for another page is dropped first (and TLBs flushed);
 * a new mapping is added to gfn's rmap. Returns true if the write fault must be
 * emulated (see setSpte). mmu_lock held.
 */
export function mmuSetSpte(
  kvm: Kvm, sp: number, index: number, pteAccess: number, gfn: number, pfn: number, hostWritable: boolean,
  writeFault: boolean,
): boolean {
  const vm = kvm.vm;
  const loc = sp * PAGE_WORDS + index;
  const old = Atomics.load(vm.spt, loc);
  let wasRmapped = false;
  if (isShadowPresentPte(old)) {
    const oldGfn = kvmMmuPageGetGfn(vm, sp, index);
    if (spteToPfn(old) !== pfn || oldGfn !== gfn) {
      dropSpte(kvm, loc, oldGfn);
      kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_SPTE_UPDATE);
    } else {
      wasRmapped = true;
    }
  } else if (isMmioSpte(old)) {
    mmuSpteClearNoTrack(vm.spt, loc);
  }
  if ((vm.spMeta[sp * SP_META_WORDS + SP_ROLE]! & ROLE_DIRECT) === 0) kvmMmuPageSetGfn(vm, sp, index, gfn);
  const emulate = setSpte(kvm, loc, pteAccess, gfn, pfn, hostWritable, writeFault);
  if (!wasRmapped) rmapAdd(kvm, loc, gfn);
  return emulate;
}

/**
 * mark_mmio_spte: remember that gfn (at `index` of level-1 page `sp`) is not
 * RAM, with the access the guest grants, so the next access is answered by the
 * walk without a fault. MMIO SPTEs are not in rmaps: memslot changes zap all.
 * mmu_lock held.
 */
export function mmuSetMmioSpte(kvm: Kvm, sp: number, index: number, gfn: number, pteAccess: number): void {
  const vm = kvm.vm;
  if (mmuPageZapPte(kvm, sp, index)) kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_ZAP);
  if (gfn < 0 || gfn > MMIO_SPTE_MAX_GFN) return;
  Atomics.store(vm.spt, sp * PAGE_WORDS + index, SPTE_MMIO | (gfn << 12) | (pteAccess & ACC_ALL));
}

/**
 * validate_direct_spte, for any child: if the non-leaf SPTE at loc points to a
 * page other than (gfn, role) (a megapage whose permissions or dirty state
 * changed gets a new direct page), unlink it and flush. Returns true if the
 * SPTE is now empty. mmu_lock held.
 */
export function validateDirectSpte(kvm: Kvm, loc: number, gfn: number, role: number): boolean {
  const vm = kvm.vm;
  const spte = Atomics.load(vm.spt, loc);
  if (!isShadowPresentPte(spte)) return true;
  if (isLastSpte(spte, 2)) return false; // never at level 2 here
  const child = spteToPfn(spte);
  const m = child * SP_META_WORDS;
  if (vm.spMeta[m + SP_ROLE] === role && vm.spMeta[m + SP_GFN] === gfn) return false;
  dropParentPte(kvm, child, loc);
  kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_ZAP);
  return true;
}

/** Get (or create) the root page for (gfn, role) and count one more user. mmu_lock held. */
export function kvmMmuGetRoot(kvm: Kvm, gfn: number, role: number): number {
  const sp = kvmMmuGetPage(kvm, gfn, role);
  kvm.vm.spMeta[sp * SP_META_WORDS + SP_ROOT_COUNT]++;
  return sp;
}

/** Is `sp` unusable as a root (never loaded, or zapped)? Lock-free. */
export function rootIsInvalid(vm: VmShared, sp: number): boolean {
  return sp === SP_NIL || (vm.spMeta[sp * SP_META_WORDS + SP_ROLE]! & ROLE_INVALID) !== 0;
}

/**
 * kvm_mmu_pte_write: the guest wrote `bytes` bytes at `offset` of gfn, a page
 * table we shadow (the write was emulated). Zap the SPTEs derived from the
 * guest PTEs it touched, in every shadow page of that gfn, and flush; a page
 * the guest keeps rewriting without using it is zapped whole (write flooding).
 * mmu_lock held.
 */
export function kvmMmuPteWrite(kvm: Kvm, gfn: number, offset: number, bytes: number): void {
  kvm.mmuLock.assertHeld('kvmMmuPteWrite');
  const vm = kvm.vm;
  const meta = vm.spMeta;
  const first = offset >>> 2;
  const last = Math.min(PAGE_WORDS - 1, (offset + bytes - 1) >>> 2);
  let flush = false;
  for (let sp = spHashFirst(vm, gfn); sp !== SP_NIL; sp = spHashNext(vm, sp)) {
    const m = sp * SP_META_WORDS;
    if (meta[m + SP_GFN] !== gfn || (meta[m + SP_ROLE]! & (ROLE_DIRECT | ROLE_INVALID)) !== 0) continue;
    if (detectWriteFlooding(vm, sp)) {
      kvmMmuPrepareZapPage(kvm, sp);
      Atomics.add(vm.stats, STAT_MMU_FLOODED, 1);
      continue;
    }
    for (let i = first; i <= last; i++) flush = mmuPageZapPte(kvm, sp, i) || flush;
  }
  Atomics.add(vm.stats, STAT_MMU_PTE_WRITE, 1);
  if (kvm.invalidList !== SP_NIL || kvm.reloadRemoteMmus) kvmMmuCommitZapPage(kvm);
  else if (flush) kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_ZAP);
}
