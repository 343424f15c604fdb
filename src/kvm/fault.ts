// The KVM page-fault paths, run on the faulting vCPU's thread after its
// "hardware" walk (vcpu-mmu.ts) found no usable SPTE.
//
// kvmMmuPageFault
//   1. fastPageFault (§2.3), only for a write to a present SPTE that denies
//      nothing but write: lock-free, cmpxchg of the W bit;
//   2. the slow path, under mmu_lock:
//        nonpagingPageFault  guest-physical access (satp bare, M-mode): the
//                            direct map (KVM's nonpaging_map / __direct_map);
//        pagingPageFault     Sv32: walk the guest's tables (walk.ts), then
//                            build the shadow path (FNAME(page_fault) + fetch).
//      Both follow the MMU-notifier protocol (§2.9): read mmu_notifier_seq,
//      gfn_to_pfn outside the lock, take mmu_lock, retry if the sequence or
//      count says a host invalidation ran meanwhile.
// Result: RET_PF_RETRY (walk again: the SPTE was fixed, or the fault must be
// retried), or XLATE_FAULT / XLATE_MMIO / XLATE_EMULATE for the hart, with the
// vCPU's faultCause / mmioAddr / hostAddr set.

import { ACC_WRITE, XLATE_EMULATE, XLATE_FAULT, XLATE_MMIO } from '../cpu/memory.ts';
import { CAUSE_FETCH_ACCESS, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS } from '../cpu/causes.ts';
import {
  HOST_PTE_WRITABLE, KVCPU_STAT_FAST_PF_FAILED, KVCPU_STAT_FAST_PF_FIXED, KVCPU_STAT_FAST_PF_SPURIOUS,
  KVCPU_STAT_FAST_PF_TO_SLOW, KVCPU_STAT_GPTE_CHANGED, KVCPU_STAT_PF_EMULATE, KVCPU_STAT_PF_FIXED,
  KVCPU_STAT_PF_GUEST, KVCPU_STAT_PF_RETRY, ROLE_ACCESS_SHIFT, ROLE_DIRECT, ROLE_NONPAGING, SP_META_WORDS,
  SP_ROLE,
} from './fields.ts';
import { EV_FAST_PF_FAILED, EV_FAST_PF_FIXED, EV_GUEST_FAULT, EV_SLOW_PF, kvmEvent } from './events.ts';
import { kvmReleasePfnClean } from './hostmem.ts';
import { PFN_NOSLOT, gfnToPfnProt, kvmVcpuMarkPageDirty, memslotsGeneration } from './memslot.ts';
import {
  kvmMmuGetPage, kvmMmuPageGetGfn, linkShadowPage, makeMmuPagesAvailable, clearSpWriteFlooding, spRole,
} from './mmu-page.ts';
import { mmuNotifierRetry, mmuNotifierSeq, mmuSetMmioSpte, mmuSetSpte, rootIsInvalid, validateDirectSpte } from './mmu.ts';
import { PAGE_WORDS, type VmShared } from './shm.ts';
import {
  ACC_ALL, SPTE_WRITABLE, isLastSpte, isRmapSpte, isShadowPresentPte, isWritablePte, spteIsLocklesslyModifiable,
  spteToPfn,
} from './spte.ts';
import { walkAddr } from './walk.ts';
import { kvmUnsafe, UNSAFE_INDIRECT_FAST_PF, UNSAFE_NO_NOTIFIER_RETRY } from './unsafe.ts';
import type { KvmVcpuMmu } from './vcpu-mmu.ts';
import {
  RACE_ARMED, RACE_FLAG_PIN_INDIRECT, RACE_FLAGS, RP_FAST_PF_BEFORE_CMPXCHG, RP_FAST_PF_BEFORE_MARK, RP_SLOW_PF_AFTER_PFN,
  racePoint,
} from './race/pause-points.ts';
import { raceWalkBegin, raceWalkEnd } from './race/walk-record.ts';

/** Walk again: the mapping was fixed, changed, or the fault must start over. */
export const RET_PF_RETRY = 1;
/** fastPageFault only: not for the fast path, take the slow one. */
const RET_PF_INVALID = 0;

/** Guest physical addresses reach 34 bits under Sv32; nothing is mapped above 4 GiB. */
const ACCESS_FAULT = [CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS, CAUSE_FETCH_ACCESS];
const MAX_GFN_32 = (1 << 20) - 1;

/**
 * kvm_mmu_page_fault. `nonpaging`: the access is guest-physical (vaddr is the
 * guest physical address). `writeProtected`: the walk found a present SPTE
 * that denied only write (the error code a fast page fault needs).
 */
export function kvmMmuPageFault(
  vcpu: KvmVcpuMmu, vaddr: number, access: number, priv: number, satp: number, mstatus: number,
  nonpaging: boolean, writeProtected: boolean,
): number {
  const root = nonpaging ? vcpu.nonpagingRoot : vcpu.root;
  if (writeProtected && access === ACC_WRITE) {
    const r = fastPageFault(vcpu, root, vaddr);
    if (r !== RET_PF_INVALID) return r;
  }
  return nonpaging
    ? nonpagingPageFault(vcpu, vaddr, access)
    : pagingPageFault(vcpu, vaddr, access, priv, satp, mstatus);
}

/**
 * fast_page_fault (§2.3): fix a write fault on a present, write-protected
 * SPTE without mmu_lock, if HOST_W and MMU_W are both set in the value we
 * read and the SPTE is in a *direct* shadow page (its gfn is fixed by its
 * place, so the cmpxchg cannot succeed for a different gfn: the ABA problem
 * of locking.txt, §2.4). The walk runs in READING_SHADOW_PAGE_TABLES mode so
 * nobody frees a page under it. Returns RET_PF_RETRY when handled (fixed, lost
 * the race, spurious, or the mapping changed) or RET_PF_INVALID for the slow path.
 *
 * 3.6 calls it only from direct MMUs (nonpaging_map, tdp_page_fault). Here it
 * also serves direct pages shadowing guest megapages, which give the same
 * guarantee; indirect pages always take the slow path (unless the unsafe
 * 'indirect-fast' switch is on: unsafe.ts, test/kvm/unsafe-indirect-fast.test.ts).
 */
export function fastPageFault(vcpu: KvmVcpuMmu, root: number, vaddr: number): number {
  const vm = vcpu.kvm.vm;
  const spt = vm.spt;
  let ret = RET_PF_INVALID;
  vcpu.requests.walkShadowPageLocklessBegin();
  const l2 = Atomics.load(spt, root * PAGE_WORDS + (vaddr >>> 22));
  if (!isShadowPresentPte(l2)) {
    ret = RET_PF_RETRY; // the mapping changed under us: fault again
  } else {
    const sp = spteToPfn(l2);
    const index = (vaddr >>> 12) & 0x3ff;
    if (vm.race[RACE_ARMED] !== 0) raceWalkBegin(vm, sp, sp * PAGE_WORDS + index); // race lab
    const spte = Atomics.load(spt, sp * PAGE_WORDS + index);
    if (!isRmapSpte(spte)) {
      ret = RET_PF_RETRY;
    } else if (!isLastSpte(spte, 1)) {
      ret = RET_PF_INVALID;
    } else if (isWritablePte(spte)) {
      vcpu.stat(KVCPU_STAT_FAST_PF_SPURIOUS); // lazy TLB: already fixed by someone
      ret = RET_PF_RETRY;
    } else if (!spteIsLocklesslyModifiable(spte) || !fastPfAllowedOn(vm, sp)) {
      ret = RET_PF_INVALID;
    } else {
      fastPfFixDirectSpte(vcpu, sp, index, spte);
      ret = RET_PF_RETRY;
    }
  }
  if (vm.race[RACE_ARMED] !== 0) raceWalkEnd(vm); // race lab
  vcpu.requests.walkShadowPageLocklessEnd();
  if (ret === RET_PF_INVALID) vcpu.stat(KVCPU_STAT_FAST_PF_TO_SLOW);
  return ret;
}

/**
 * F2: only direct shadow pages, unless the 'indirect-fast' switch is on (then
 * an indirect page's SPTE is fixed too, with the gfn read from sp->gfns before
 * the cmpxchg and nothing pinning it: the ABA of §2.4). Read only once the SPTE
 * is already known to be a fast-path candidate, so off the common path.
 */
function fastPfAllowedOn(vm: VmShared, sp: number): boolean {
  if ((vm.spMeta[sp * SP_META_WORDS + SP_ROLE]! & ROLE_DIRECT) !== 0) return true;
  return (kvmUnsafe(vm) & UNSAFE_INDIRECT_FAST_PF) !== 0;
}

/**
 * fast_pf_fix_direct_spte: cmpxchg the exact value we read to the same value
 * with W set; only if that succeeded, mark the gfn dirty (F1-F3). A failed
 * cmpxchg changes nothing: the vCPU simply faults again.
 */
function fastPfFixDirectSpte(vcpu: KvmVcpuMmu, sp: number, index: number, spte: number): void {
  const kvm = vcpu.kvm;
  const vm = kvm.vm;
  const loc = sp * PAGE_WORDS + index;
  const gfn = kvmMmuPageGetGfn(vm, sp, index);
  if (kvm.hookBeforeFastCmpxchg !== null) kvm.hookBeforeFastCmpxchg(loc);
  // race lab (race/pause-points.ts): one plain load when unarmed.
  const pin = vm.race[RACE_ARMED] !== 0 ? raceFastPfPin(vm, sp, gfn, loc) : -1;
  if (Atomics.compareExchange(vm.spt, loc, spte, spte | SPTE_WRITABLE) === spte) {
    if (vm.race[RACE_ARMED] !== 0) racePoint(vm, RP_FAST_PF_BEFORE_MARK, loc); // race lab
    kvmVcpuMarkPageDirty(vm, vcpu.slotCache, gfn); // the vCPU's memslot cache: no slot scan
    vcpu.stat(KVCPU_STAT_FAST_PF_FIXED);
    kvmEvent(kvm.events, EV_FAST_PF_FIXED, kvm.self, gfn, spte | SPTE_WRITABLE, 0);
  } else {
    vcpu.stat(KVCPU_STAT_FAST_PF_FAILED);
    kvmEvent(kvm.events, EV_FAST_PF_FAILED, kvm.self, gfn, spte, 0);
  }
  if (pin >= 0) kvmReleasePfnClean(vm, pin);
}

/**
 * Race lab only (a VM with RACE_ARMED set): with RACE_FLAG_PIN_INDIRECT, an
 * indirect page's gfn is pinned first (gfn_to_pfn_atomic, locking.txt's
 * documented alternative to "direct only"), so its pfn cannot be freed and
 * reused for another gfn before the cmpxchg. Then the pause point before the
 * cmpxchg. Returns the pinned pfn to release, or -1.
 */
function raceFastPfPin(vm: VmShared, sp: number, gfn: number, loc: number): number {
  let pin = -1;
  const indirect = (vm.spMeta[sp * SP_META_WORDS + SP_ROLE]! & ROLE_DIRECT) === 0;
  if (indirect && (Atomics.load(vm.race, RACE_FLAGS) & RACE_FLAG_PIN_INDIRECT) !== 0) {
    const host = gfnToPfnProt(vm, gfn, false);
    if (host !== PFN_NOSLOT) pin = host >>> 12;
  }
  racePoint(vm, RP_FAST_PF_BEFORE_CMPXCHG, loc);
  return pin;
}

/** Under mmu_lock: has anything happened since the fault looked its pfn up? */
function mustRetry(vcpu: KvmVcpuMmu, mmuSeq: number, slotsGen: number, root: number): boolean {
  const vm = vcpu.kvm.vm;
  // 'no-notifier-retry' (unsafe.ts) is read only once the notifier said retry.
  if ((mmuNotifierRetry(vm, mmuSeq) && (kvmUnsafe(vm) & UNSAFE_NO_NOTIFIER_RETRY) === 0) || memslotsGeneration(vm) !== slotsGen) {
    vcpu.stat(KVCPU_STAT_PF_RETRY);
    return true;
  }
  // The root was zapped (KVM_REQ_MMU_RELOAD is pending): never build under it.
  return rootIsInvalid(vm, root);
}

/**
 * nonpaging_map: a guest-physical access to RAM. The direct map gives every
 * page all permissions (a bare or M-mode access is checked by PMP only, which
 * this platform does not have); the SPTE is writable unless the gfn holds a
 * guest page table we shadow, in which case a write is emulated.
 */
function nonpagingPageFault(vcpu: KvmVcpuMmu, gpa: number, access: number): number {
  const kvm = vcpu.kvm;
  const vm = kvm.vm;
  const write = access === ACC_WRITE;
  const gfn = gpa >>> 12;
  const mmuSeq = mmuNotifierSeq(vm);
  const slotsGen = memslotsGeneration(vm);
  const host = gfnToPfnProt(vm, gfn, write);
  if (host === PFN_NOSLOT) {
    vcpu.mmioAddr = gpa; // the slot went away since translate() checked
    return XLATE_MMIO;
  }
  const pfn = host >>> 12;
  if (kvm.hookAfterGfnToPfn !== null) kvm.hookAfterGfnToPfn(gfn);
  if (vm.race[RACE_ARMED] !== 0) racePoint(vm, RP_SLOW_PF_AFTER_PFN, gfn); // race lab
  kvm.mmuLock.lock();
  try {
    const root = vcpu.nonpagingRoot;
    if (mustRetry(vcpu, mmuSeq, slotsGen, root) || makeMmuPagesAvailable(kvm)) return RET_PF_RETRY;
    const l2loc = root * PAGE_WORDS + (gfn >>> 10);
    const childGfn = gfn & ~0x3ff;
    const role = spRole(1, ROLE_DIRECT | ROLE_NONPAGING | ((ACC_ALL >>> 1) << ROLE_ACCESS_SHIFT));
    let child: number;
    if (validateDirectSpte(kvm, l2loc, childGfn, role)) {
      child = kvmMmuGetPage(kvm, childGfn, role);
      linkShadowPage(kvm, l2loc, child);
    } else {
      child = spteToPfn(Atomics.load(vm.spt, l2loc));
    }
    const emulate = mmuSetSpte(kvm, child, gfn & 0x3ff, ACC_ALL, gfn, pfn, (host & HOST_PTE_WRITABLE) !== 0, write);
    vcpu.stat(KVCPU_STAT_PF_FIXED);
    kvmEvent(kvm.events, EV_SLOW_PF, kvm.self, gfn, Atomics.load(vm.spt, child * PAGE_WORDS + (gfn & 0x3ff)), 0);
    if (emulate) return emulateWrite(vcpu, gfn, pfn, gpa & 0xfff);
    return RET_PF_RETRY;
  } finally {
    kvm.mmuLock.unlock();
    kvmReleasePfnClean(vm, pfn);
  }
}

/**
 * FNAME(page_fault) for Sv32: walk the guest's tables, then (under mmu_lock)
 * FNAME(fetch): make sure the root's SPTE for vpn[1] links the right child (an
 * indirect page for the guest's level-1 table, or a direct page for a
 * megapage) and install the leaf for vpn[0].
 */
function pagingPageFault(
  vcpu: KvmVcpuMmu, vaddr: number, access: number, priv: number, satp: number, mstatus: number,
): number {
  const kvm = vcpu.kvm;
  const vm = kvm.vm;
  const w = vcpu.walker;
  const write = access === ACC_WRITE;
  // Read the notifier sequence before the walk (KVM reads it after): the walk
  // itself reads guest page tables through pfns, which a host invalidation
  // could free, so it must be covered too.
  const mmuSeq = mmuNotifierSeq(vm);
  const slotsGen = memslotsGeneration(vm);
  if (!walkAddr(w, vm, vaddr, access, priv, satp, mstatus)) {
    vcpu.faultCause = w.faultCause;
    vcpu.stat(KVCPU_STAT_PF_GUEST);
    kvmEvent(kvm.events, EV_GUEST_FAULT, kvm.self, vaddr, w.faultCause, 0);
    return XLATE_FAULT;
  }
  const gfn = w.gfn;
  if (gfn > MAX_GFN_32) {
    // A 34-bit physical address above 4 GiB: no RAM and no device there.
    vcpu.faultCause = ACCESS_FAULT[access]!;
    vcpu.stat(KVCPU_STAT_PF_GUEST);
    kvmEvent(kvm.events, EV_GUEST_FAULT, kvm.self, vaddr, vcpu.faultCause, 0);
    return XLATE_FAULT;
  }
  const host = gfnToPfnProt(vm, gfn, write);
  if (kvm.hookAfterGfnToPfn !== null) kvm.hookAfterGfnToPfn(gfn);
  if (vm.race[RACE_ARMED] !== 0) racePoint(vm, RP_SLOW_PF_AFTER_PFN, gfn); // race lab
  kvm.mmuLock.lock();
  try {
    if (mustRetry(vcpu, mmuSeq, slotsGen, vcpu.root) || makeMmuPagesAvailable(kvm)) return RET_PF_RETRY;
    return fetch(vcpu, vaddr, host, write);
  } finally {
    kvm.mmuLock.unlock();
    if (host !== PFN_NOSLOT) kvmReleasePfnClean(vm, host >>> 12);
  }
}

/** FNAME(gpte_changed): did the guest PTE the walk used at `level` change since? */
function gpteChanged(vcpu: KvmVcpuMmu, level: number): boolean {
  const w = vcpu.walker;
  if (Atomics.load(vcpu.kvm.vm.ramI32, w.pteIndex[level]!) === w.ptes[level]) return false;
  vcpu.stat(KVCPU_STAT_GPTE_CHANGED);
  return true;
}

function fetch(vcpu: KvmVcpuMmu, vaddr: number, host: number, write: boolean): number {
  const kvm = vcpu.kvm;
  const vm = kvm.vm;
  const w = vcpu.walker;
  const root = vcpu.root;
  clearSpWriteFlooding(vm, root);
  const l2loc = root * PAGE_WORDS + (vaddr >>> 22);
  let childGfn: number;
  let role: number;
  if (w.level === 2) {
    // A megapage: a direct page of 4 KiB SPTEs, its role carrying the access
    // (write only once the guest's D bit is set).
    childGfn = w.gfn & ~0x3ff;
    role = spRole(1, ROLE_DIRECT | ((w.pteAccess >>> 1) << ROLE_ACCESS_SHIFT));
  } else {
    childGfn = w.tableGfn[1]!;
    role = spRole(1, 0);
  }
  let child: number;
  if (validateDirectSpte(kvm, l2loc, childGfn, role)) {
    // Getting an indirect page write-protects its table; only from then on can
    // we trust that re-reading the guest PTEs tells us about every change.
    child = kvmMmuGetPage(kvm, childGfn, role);
    if (gpteChanged(vcpu, 2) || (w.level === 1 && gpteChanged(vcpu, 1))) return RET_PF_RETRY;
    linkShadowPage(kvm, l2loc, child);
  } else {
    child = spteToPfn(Atomics.load(vm.spt, l2loc));
    clearSpWriteFlooding(vm, child);
    if (gpteChanged(vcpu, 2) || (w.level === 1 && gpteChanged(vcpu, 1))) return RET_PF_RETRY;
  }
  const index = (vaddr >>> 12) & 0x3ff;
  const gfn = w.gfn;
  if (host === PFN_NOSLOT) {
    mmuSetMmioSpte(kvm, child, index, gfn, w.pteAccess);
    vcpu.mmioAddr = gfn * 4096 + (vaddr & 0xfff);
    return XLATE_MMIO;
  }
  const pfn = host >>> 12;
  const emulate = mmuSetSpte(kvm, child, index, w.pteAccess, gfn, pfn, (host & HOST_PTE_WRITABLE) !== 0, write);
  vcpu.stat(KVCPU_STAT_PF_FIXED);
  kvmEvent(kvm.events, EV_SLOW_PF, kvm.self, gfn, Atomics.load(vm.spt, child * PAGE_WORDS + index), 0);
  if (emulate) return emulateWrite(vcpu, gfn, pfn, vaddr & 0xfff);
  return RET_PF_RETRY;
}

/** A write to a shadowed guest page table: the hart does it at hostAddr, then afterEmulatedWrite(). */
function emulateWrite(vcpu: KvmVcpuMmu, gfn: number, pfn: number, offset: number): number {
  vcpu.hostAddr = pfn * 4096 + offset;
  vcpu.emulateGfn = gfn;
  vcpu.emulatePfn = pfn;
  vcpu.emulateOffset = offset;
  vcpu.stat(KVCPU_STAT_PF_EMULATE);
  return XLATE_EMULATE;
}
