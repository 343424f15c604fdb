// Shadow pages (struct kvm_mmu_page): the pool, the gfn hash, getting a page
// for a (gfn, role), linking pages into a tree, and zapping them.
//
// A shadow page is 1024 SPTEs in region 'spt' (page i = words i*1024..) plus
// SP_META_WORDS of metadata in 'sp-meta' and 1024 gfns in 'sp-gfns' (fields.ts):
//   SP_GFN, SP_ROLE   what it maps. Roles as in KVM:
//     indirect  shadows one guest Sv32 page-table page, keyed by that table's
//               gfn and level (2: the root table, 1: a leaf table). Its leaf
//               SPTEs' gfns come from guest PTEs, so they are kept in sp-gfns
//               (sp->gfns). Creating one write-protects its gfn everywhere.
//     direct    maps a fixed gfn range: gfn = SP_GFN + index (level 1) or
//               SP_GFN + index * 1024 (level 2). Used for guest-physical
//               accesses (ROLE_NONPAGING: one level-2 root over the 32-bit
//               physical space with level-1 children per 4 MiB) and for a guest
//               4 MiB megapage (a level-1 page of 4 KiB SPTEs; the role carries
//               the megapage's permissions, W only if its D bit is set, so a
//               change of permissions gets a different page).
//   SP_ROOT_COUNT    vCPUs using it as a root; a zapped root stays allocated
//                    (ROLE_INVALID) until the last of them lets go.
//   SP_PARENT_PTES   the non-leaf SPTEs pointing at it (a pte list).
//   SP_HASH_NEXT     chain of the hash bucket of SP_GFN ('sp-hash').
//   SP_LIST_NEXT     free list, or the invalid list between prepare and commit.
//
// Everything here runs under mmu_lock. Lock-free readers (the hardware walk,
// the fast page fault) only follow SPTEs; a page they might be reading is
// freed only after kvmFlushRemoteTlbs has been acknowledged by every vCPU that
// was in guest mode or walking (kvmMmuCommitZapPage, §2.8, §6.2 F7).

import { KvmError } from './errors.ts';
import type { Kvm } from './kvm-host.ts';
import {
  FLUSH_CAUSE_SP_WRITE_PROTECT, FLUSH_CAUSE_ZAP, KVM_DESC_FREE_COUNT, KVM_N_USED_MMU_PAGES, KVM_REQ_MMU_RELOAD,
  KVM_SP_CREATED, KVM_SP_FREE_COUNT, KVM_SP_FREE_HEAD, ROLE_ACCESS_SHIFT, ROLE_DIRECT, ROLE_INVALID, ROLE_LEVEL_MASK,
  ROLE_NONPAGING,
  SP_FLAGS, SP_FLAG_IN_USE, SP_FLAG_ON_ZAP_LIST, SP_GFN, SP_HASH_NEXT, SP_LIST_NEXT, SP_META_WORDS, SP_NIL,
  SP_PARENT_PTES, SP_ROLE, SP_ROOT_COUNT, SP_WRITE_FLOODING, STAT_MMU_CACHE_MISS, STAT_MMU_RELOAD,
  STAT_MMU_RECYCLED, STAT_MMU_SHADOW_ZAPPED, STAT_MMU_ZAP_ALL,
} from './fields.ts';
import { EV_ZAP, kvmEvent } from './events.ts';
import { dropSpte, pteListAdd, pteListFirst, pteListRemove, rmapWriteProtect } from './rmap.ts';
import { kvmFlushRemoteTlbs } from './requests.ts';
import type { VmShared } from './shm.ts';
import { PAGE_WORDS } from './shm.ts';
import {
  ACC_ALL, SPTE_PRESENT, isLastSpte, isMmioSpte, isShadowPresentPte, mmuSpteClearNoTrack, mmuSpteSet, spteToPfn,
} from './spte.ts';

/** Free shadow pages / pte_list_descs a fault may need; below this, zap all first. */
const SP_RESERVE = 4;
const DESC_RESERVE = 8;
/** Emulated writes to a shadowed page table, with no fault through it, before it is zapped. */
const WRITE_FLOODING_LIMIT = 3;

/** The role word of a shadow page at `level` with ROLE_* `flags`. */
export function spRole(level: number, flags: number): number {
  return (level & ROLE_LEVEL_MASK) | flags;
}

/** The roots' roles: the guest-physical map (satp bare, M-mode) and a guest Sv32 table. */
export const NONPAGING_ROOT_ROLE = spRole(2, ROLE_DIRECT | ROLE_NONPAGING | ((ACC_ALL >>> 1) << ROLE_ACCESS_SHIFT));
export const PAGING_ROOT_ROLE = spRole(2, 0);

/** The level of a shadow page (1 or 2). */
export function spLevel(vm: VmShared, sp: number): number {
  return vm.spMeta[sp * SP_META_WORDS + SP_ROLE]! & ROLE_LEVEL_MASK;
}

/** kvm_mmu_page_get_gfn: the gfn the SPTE at `index` of `sp` maps (or would). */
export function kvmMmuPageGetGfn(vm: VmShared, sp: number, index: number): number {
  const m = sp * SP_META_WORDS;
  const role = vm.spMeta[m + SP_ROLE]!;
  if ((role & ROLE_DIRECT) === 0) return vm.spGfns[sp * PAGE_WORDS + index]!;
  return vm.spMeta[m + SP_GFN]! + ((role & ROLE_LEVEL_MASK) === 1 ? index : index * PAGE_WORDS);
}

/** kvm_mmu_page_set_gfn: remember the gfn of an indirect page's leaf SPTE. */
export function kvmMmuPageSetGfn(vm: VmShared, sp: number, index: number, gfn: number): void {
  vm.spGfns[sp * PAGE_WORDS + index] = gfn;
}

function hashBucket(vm: VmShared, gfn: number): number {
  return Math.imul(gfn, 0x9e3779b1 | 0) >>> (Math.clz32(vm.config.spHashBuckets) + 1);
}

/** First shadow page in gfn's hash bucket (then follow spHashNext); any gfn may be in it. */
export function spHashFirst(vm: VmShared, gfn: number): number {
  return vm.spHash[hashBucket(vm, gfn)]!;
}

export function spHashNext(vm: VmShared, sp: number): number {
  return vm.spMeta[sp * SP_META_WORDS + SP_HASH_NEXT]!;
}

/** A valid shadow page for exactly (gfn, role), or SP_NIL. */
export function kvmMmuLookupPage(vm: VmShared, gfn: number, role: number): number {
  const meta = vm.spMeta;
  for (let sp = spHashFirst(vm, gfn); sp !== SP_NIL; sp = meta[sp * SP_META_WORDS + SP_HASH_NEXT]!) {
    const m = sp * SP_META_WORDS;
    if (meta[m + SP_GFN] === gfn && meta[m + SP_ROLE] === role) return sp;
  }
  return SP_NIL;
}

/**
 * mmu_need_write_protect: is gfn a guest page table we shadow (a valid
 * indirect page of any level keyed by it)? Then no SPTE may make it writable:
 * a guest write to it must fault so it can be emulated. mmu_lock held.
 */
export function mmuNeedWriteProtect(kvm: Kvm, gfn: number): boolean {
  const vm = kvm.vm;
  const meta = vm.spMeta;
  for (let sp = spHashFirst(vm, gfn); sp !== SP_NIL; sp = meta[sp * SP_META_WORDS + SP_HASH_NEXT]!) {
    const m = sp * SP_META_WORDS;
    if (meta[m + SP_GFN] === gfn && (meta[m + SP_ROLE]! & (ROLE_DIRECT | ROLE_INVALID)) === 0) return true;
  }
  return false;
}

/** kvm_mmu_alloc_page: take a zeroed page off the free list. mmu_lock held. */
function kvmMmuAllocPage(kvm: Kvm, gfn: number, role: number): number {
  const vm = kvm.vm;
  const k = vm.kvm;
  const sp = k[KVM_SP_FREE_HEAD]!;
  if (sp === SP_NIL) {
    throw new KvmError('ENOMEM', `shadow MMU: all ${vm.config.shadowPages} shadow pages in use (makeMmuPagesAvailable should have made room)`);
  }
  const meta = vm.spMeta;
  const m = sp * SP_META_WORDS;
  k[KVM_SP_FREE_HEAD] = meta[m + SP_LIST_NEXT]!;
  k[KVM_SP_FREE_COUNT]--;
  k[KVM_N_USED_MMU_PAGES]++;
  k[KVM_SP_CREATED]++;
  // Freed pages were emptied by kvmMmuPrepareZapPage; clear anyway, cheaply,
  // before the page becomes reachable (its first link is an Atomics.store).
  vm.spt.fill(0, sp * PAGE_WORDS, sp * PAGE_WORDS + PAGE_WORDS);
  meta[m + SP_GFN] = gfn;
  meta[m + SP_ROLE] = role;
  meta[m + SP_ROOT_COUNT] = 0;
  meta[m + SP_PARENT_PTES] = 0;
  meta[m + SP_LIST_NEXT] = SP_NIL;
  meta[m + SP_WRITE_FLOODING] = 0;
  meta[m + SP_FLAGS] = SP_FLAG_IN_USE;
  const bucket = hashBucket(vm, gfn);
  meta[m + SP_HASH_NEXT] = vm.spHash[bucket]!;
  vm.spHash[bucket] = sp;
  return sp;
}

/** kvm_mmu_free_page: unhash and return to the free list. mmu_lock held. */
function kvmMmuFreePage(kvm: Kvm, sp: number): void {
  const vm = kvm.vm;
  const meta = vm.spMeta;
  const m = sp * SP_META_WORDS;
  const bucket = hashBucket(vm, meta[m + SP_GFN]!);
  if (vm.spHash[bucket] === sp) vm.spHash[bucket] = meta[m + SP_HASH_NEXT]!;
  else {
    let p = vm.spHash[bucket]!;
    while (meta[p * SP_META_WORDS + SP_HASH_NEXT] !== sp) p = meta[p * SP_META_WORDS + SP_HASH_NEXT]!;
    meta[p * SP_META_WORDS + SP_HASH_NEXT] = meta[m + SP_HASH_NEXT]!;
  }
  const k = vm.kvm;
  meta[m + SP_HASH_NEXT] = SP_NIL;
  meta[m + SP_FLAGS] = 0;
  meta[m + SP_ROLE] = 0;
  meta[m + SP_GFN] = 0;
  meta[m + SP_LIST_NEXT] = k[KVM_SP_FREE_HEAD]!;
  k[KVM_SP_FREE_HEAD] = sp;
  k[KVM_SP_FREE_COUNT]++;
  k[KVM_N_USED_MMU_PAGES]--;
}

/**
 * kvm_mmu_get_page: the shadow page for (gfn, role), created if needed. A new
 * indirect page write-protects its gfn (rmapWriteProtect with pt_protect) and
 * flushes remote TLBs before returning, so from then on every guest write to
 * that page table faults and is emulated. The caller links the page with
 * linkShadowPage. mmu_lock held.
 */
export function kvmMmuGetPage(kvm: Kvm, gfn: number, role: number): number {
  kvm.mmuLock.assertHeld('kvmMmuGetPage');
  const vm = kvm.vm;
  const found = kvmMmuLookupPage(vm, gfn, role);
  if (found !== SP_NIL) {
    clearSpWriteFlooding(vm, found);
    return found;
  }
  Atomics.add(vm.stats, STAT_MMU_CACHE_MISS, 1);
  const sp = kvmMmuAllocPage(kvm, gfn, role);
  if ((role & ROLE_DIRECT) === 0 && rmapWriteProtect(kvm, gfn)) {
    kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_SP_WRITE_PROTECT);
  }
  return sp;
}

/** link_shadow_page: point the non-leaf SPTE at parentLoc to `child`. mmu_lock held. */
export function linkShadowPage(kvm: Kvm, parentLoc: number, child: number): void {
  const vm = kvm.vm;
  mmuSpteSet(vm.spt, parentLoc, (child << 12) | SPTE_PRESENT);
  pteListAdd(kvm, vm.spMeta, child * SP_META_WORDS + SP_PARENT_PTES, parentLoc);
}

/** drop_parent_pte: unlink `child` from the non-leaf SPTE at parentLoc. mmu_lock held. */
export function dropParentPte(kvm: Kvm, child: number, parentLoc: number): void {
  pteListRemove(kvm, kvm.vm.spMeta, child * SP_META_WORDS + SP_PARENT_PTES, parentLoc);
  mmuSpteClearNoTrack(kvm.vm.spt, parentLoc);
}

/**
 * mmu_page_zap_pte: clear SPTE `index` of `sp`: a leaf is dropped (A/D carried
 * to the host page, rmap updated), a link is cut, an MMIO SPTE is cleared.
 * Returns true if a present SPTE went away (so TLBs must be flushed). mmu_lock held.
 */
export function mmuPageZapPte(kvm: Kvm, sp: number, index: number): boolean {
  const vm = kvm.vm;
  const loc = sp * PAGE_WORDS + index;
  const spte = Atomics.load(vm.spt, loc);
  if (isShadowPresentPte(spte)) {
    if (isLastSpte(spte, spLevel(vm, sp))) dropSpte(kvm, loc, kvmMmuPageGetGfn(vm, sp, index));
    else dropParentPte(kvm, spteToPfn(spte), loc);
    return true;
  }
  if (isMmioSpte(spte)) mmuSpteClearNoTrack(vm.spt, loc);
  return false;
}

/**
 * kvm_mmu_prepare_zap_page: empty the page, unlink it from its parents and mark
 * it invalid. Unless it is some vCPU's root it goes on kvm.invalidList, to be
 * freed by kvmMmuCommitZapPage after the TLB flush; a root stays until its last
 * user drops it, and every vCPU is asked to reload (KVM_REQ_MMU_RELOAD).
 * Returns false if the page was already invalid. mmu_lock held.
 */
export function kvmMmuPrepareZapPage(kvm: Kvm, sp: number): boolean {
  kvm.mmuLock.assertHeld('kvmMmuPrepareZapPage');
  const vm = kvm.vm;
  const meta = vm.spMeta;
  const m = sp * SP_META_WORDS;
  if ((meta[m + SP_ROLE]! & ROLE_INVALID) !== 0) return false;
  for (let i = 0; i < PAGE_WORDS; i++) mmuPageZapPte(kvm, sp, i);
  const parents = m + SP_PARENT_PTES;
  for (let p = pteListFirst(kvm, meta, parents); p >= 0; p = pteListFirst(kvm, meta, parents)) dropParentPte(kvm, sp, p);
  meta[m + SP_ROLE] = meta[m + SP_ROLE]! | ROLE_INVALID;
  Atomics.add(vm.stats, STAT_MMU_SHADOW_ZAPPED, 1);
  kvmEvent(kvm.events, EV_ZAP, kvm.self, sp, meta[m + SP_GFN]!, meta[m + SP_ROLE]!);
  if (meta[m + SP_ROOT_COUNT] === 0) queueForFree(kvm, sp);
  else kvm.reloadRemoteMmus = true;
  return true;
}

function queueForFree(kvm: Kvm, sp: number): void {
  const meta = kvm.vm.spMeta;
  const m = sp * SP_META_WORDS;
  meta[m + SP_FLAGS] = meta[m + SP_FLAGS]! | SP_FLAG_ON_ZAP_LIST;
  meta[m + SP_LIST_NEXT] = kvm.invalidList;
  kvm.invalidList = sp;
}

/**
 * kvm_mmu_commit_zap_page: flush remote TLBs (and ask for root reloads if a
 * root was zapped), wait for the acknowledgements, and only then free the
 * pages on kvm.invalidList: no vCPU can still be walking them (§2.8). mmu_lock held.
 */
export function kvmMmuCommitZapPage(kvm: Kvm): void {
  kvm.mmuLock.assertHeld('kvmMmuCommitZapPage');
  if (kvm.invalidList === SP_NIL && !kvm.reloadRemoteMmus) return;
  const reload = kvm.reloadRemoteMmus;
  kvm.reloadRemoteMmus = false;
  if (reload) Atomics.add(kvm.vm.stats, STAT_MMU_RELOAD, 1);
  kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_ZAP, -1, reload ? KVM_REQ_MMU_RELOAD : 0);
  const meta = kvm.vm.spMeta;
  for (let sp = kvm.invalidList; sp !== SP_NIL;) {
    const next = meta[sp * SP_META_WORDS + SP_LIST_NEXT]!;
    kvmMmuFreePage(kvm, sp);
    sp = next;
  }
  kvm.invalidList = SP_NIL;
}

/**
 * Drop one vCPU's use of root `sp` (part of mmu_free_roots). A zapped root
 * whose last user this was is queued for freeing; the caller commits.
 * mmu_lock held.
 */
export function kvmMmuPutRoot(kvm: Kvm, sp: number): void {
  const meta = kvm.vm.spMeta;
  const m = sp * SP_META_WORDS;
  const n = meta[m + SP_ROOT_COUNT]! - 1;
  meta[m + SP_ROOT_COUNT] = n;
  if (n === 0 && (meta[m + SP_ROLE]! & ROLE_INVALID) !== 0) queueForFree(kvm, sp);
}

/**
 * kvm_mmu_zap_all: zap every shadow page; vCPUs reload their roots. Used when
 * a pool runs low and when memslots change (kvm_arch_flush_shadow in 3.6).
 * mmu_lock held.
 */
export function kvmMmuZapAll(kvm: Kvm): void {
  kvm.mmuLock.assertHeld('kvmMmuZapAll');
  const vm = kvm.vm;
  const meta = vm.spMeta;
  for (let sp = 0; sp < vm.config.shadowPages; sp++) {
    if ((meta[sp * SP_META_WORDS + SP_FLAGS]! & SP_FLAG_IN_USE) !== 0) kvmMmuPrepareZapPage(kvm, sp);
  }
  Atomics.add(vm.stats, STAT_MMU_ZAP_ALL, 1);
  kvmMmuCommitZapPage(kvm);
}

/**
 * make_mmu_pages_available: keep enough free shadow pages and pte_list_descs
 * for one fault. When either runs low, zap everything (the simple policy this
 * VM uses instead of KVM's oldest-first reclaim) and return true: the caller's
 * root is gone and it must retry. mmu_lock held.
 */
export function makeMmuPagesAvailable(kvm: Kvm): boolean {
  const k = kvm.vm.kvm;
  if (k[KVM_SP_FREE_COUNT]! >= SP_RESERVE && k[KVM_DESC_FREE_COUNT]! >= DESC_RESERVE) return false;
  Atomics.add(kvm.vm.stats, STAT_MMU_RECYCLED, 1);
  kvmMmuZapAll(kvm);
  return true;
}

/** A fault went through `sp`: it is in use as a page table, not being rewritten. */
export function clearSpWriteFlooding(vm: VmShared, sp: number): void {
  vm.spMeta[sp * SP_META_WORDS + SP_WRITE_FLOODING] = 0;
}

/**
 * detect_write_flooding: the guest keeps writing this page table without
 * faulting through it (it is probably being reused for data, or torn down):
 * stop shadowing it. Roots are left alone. mmu_lock held.
 */
export function detectWriteFlooding(vm: VmShared, sp: number): boolean {
  const m = sp * SP_META_WORDS;
  if (vm.spMeta[m + SP_ROOT_COUNT]! > 0) return false;
  return ++vm.spMeta[m + SP_WRITE_FLOODING] >= WRITE_FLOODING_LIMIT;
}
