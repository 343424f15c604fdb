// Dirty logging at the KVM level (reference §2.6, §2.7, §2.12; invariants §6.1).
//
//   enable   KVM_SET_USER_MEMORY_REGION with KVM_MEM_LOG_DIRTY_PAGES: the
//            slot's bitmap is cleared (kvmCreateDirtyBitmap, before the slot is
//            published), then every present leaf SPTE of the slot is
//            write-protected with pt_protect = false (W cleared, MMU_WRITEABLE
//            kept, so the fast page fault may restore W and mark the page),
//            then remote TLBs are flushed (set-memory-region.ts calls these).
//   GET      kvmGetDirtyLog, in the 3.6 order: under mmu_lock, per nonzero
//            word: exchange it with 0 into the scratch half, write-protect its
//            pages; flush, still under mmu_lock; return the snapshot.
//   manual   KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (kvmEnableCap): GET only copies;
//            kvmClearDirtyLog clears chosen bits and re-protects exactly the
//            pages whose bits were set. INITIALLY_SET starts the bitmap full
//            and skips the write protection at enable time (lazy).
//   ring     KVM_CAP_DIRTY_LOG_RING (dirty-ring.ts): GET and CLEAR answer
//            ENXIO; kvmResetDirtyRings re-protects the harvested pages.
//
// Our bitmap words are 32 bits (Int32Array 'dirty-bitmap'); KVM's are 64-bit
// longs. The ABI checks that mention 64 (CLEAR's first_page / num_pages) keep
// the kernel's 64, which is a whole number of our words.
//
// Locks: slots_lock outside mmu_lock, as in the kernel. markPageDirty and the
// fast page fault set bits without any lock (Atomics.or), which is why every
// clearing here is an atomic exchange or fetch-and-not (I4).

import {
  KVM_CAP_DIRTY_LOG_RING, kvmDirtyRingResetNext, kvmDirtyRingSize, kvmUseDirtyBitmap, kvmVmIoctlEnableDirtyLogRing,
} from './dirty-ring.ts';
import { hweight32 } from './bitops.ts';
import { check, KvmError } from './errors.ts';
import {
  FLUSH_CAUSE_DIRTY_LOG, KVM_MANUAL_DIRTY_LOG_PROTECT, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_SLOTS_NUM, STAT_DIRTY_COLLECT,
  STAT_DIRTY_COLLECT_PAGES, STAT_DIRTY_COLLECT_US, STAT_DIRTY_WRPROT_PAGES,
} from './fields.ts';
import {
  DIRTY_OP_CLEAR, DIRTY_OP_GET, DIRTY_OP_RING_RESET, EV_DIRTY_COLLECT, EV_WRITE_PROTECT, kvmEvent, WP_CAUSE_DIRTY_LOG,
} from './events.ts';
import { nowMs } from './locks.ts';
import { kvmUnsafe, UNSAFE_NO_FLUSH_AFTER_WRPROT } from './unsafe.ts';
import type { Kvm } from './kvm-host.ts';
import { RACE_ARMED, RP_GET_AFTER_FLUSH, RP_GET_AFTER_XCHG, RP_GET_BEFORE_FLUSH, racePoint } from './race/pause-points.ts';
import { kvmFlushRemoteTlbs } from './requests.ts';
import { pteListCollect } from './rmap.ts';
// A call-time cycle (set-memory-region.ts calls into this file): no top-level use either way.
import { kvmGetMemslot, type KvmMemslotInfo } from './set-memory-region.ts';
import type { VmShared } from './shm.ts';
import { spteWriteProtect } from './spte.ts';

/** KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (v5.2; the v5.0 cap 163 is not offered). */
export const KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 = 168;
/** args[0] bit 0: GET_DIRTY_LOG stops clearing and protecting; CLEAR_DIRTY_LOG does it. */
export const KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE = 1 << 0;
/** args[0] bit 1: a newly logged slot starts all-dirty, with no write protection. */
export const KVM_DIRTY_LOG_INITIALLY_SET = 1 << 1;
export const KVM_DIRTY_LOG_MANUAL_CAPS = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET;

/** struct kvm_enable_cap (args beyond args[0] are ignored by the caps here). */
export interface KvmEnableCap {
  cap: number;
  flags: number;
  args: readonly number[];
}

/** struct kvm_clear_dirty_log; bit i of `bitmap` is page firstPage + i. */
export interface KvmClearDirtyLog {
  slot: number;
  firstPage: number;
  numPages: number;
  bitmap: Uint32Array;
}

/** A memslot record as dirty logging uses it: kvmGetMemslot's, plus its bitmap's length. */
export interface DirtySlot extends KvmMemslotInfo {
  /** Words of the live bitmap (from dirtyBase); the scratch half follows at + words. */
  words: number;
}

/** Read slot `id`'s record (stable: the callers hold slots_lock). Null if empty. */
function idToMemslot(vm: VmShared, id: number): DirtySlot | null {
  const slot = kvmGetMemslot(vm, id);
  return slot === null ? null : { ...slot, words: Math.ceil(slot.npages / 32) };
}

/** kvm->manual_dirty_log_protect: the args[0] last given to the cap (0 = off). */
export function kvmManualDirtyLogProtect(vm: VmShared): number {
  return Atomics.load(vm.kvm, KVM_MANUAL_DIRTY_LOG_PROTECT);
}

/** kvm_dirty_log_manual_protect_and_init_set. */
export function kvmDirtyLogManualProtectAndInitSet(vm: VmShared): boolean {
  return (kvmManualDirtyLogProtect(vm) & KVM_DIRTY_LOG_INITIALLY_SET) !== 0;
}

/**
 * KVM_ENABLE_CAP on the VM (kvm_vm_ioctl_enable_cap_generic). Only
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: args[0] is a set of KVM_DIRTY_LOG_*
 * bits (0 turns it off again); unknown bits or nonzero flags are EINVAL, as
 * is any other cap but KVM_CAP_DIRTY_LOG_RING (args[0] = ring bytes, see
 * kvmVmIoctlEnableDirtyLogRing).
 */
export function kvmEnableCap(kvm: Kvm, cap: KvmEnableCap): void {
  const where = `KVM_ENABLE_CAP(${cap.cap})`;
  if (cap.cap === KVM_CAP_DIRTY_LOG_RING) {
    kvmVmIoctlEnableDirtyLogRing(kvm.vm, cap.args[0] ?? 0);
    return;
  }
  if (cap.cap !== KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) {
    throw new KvmError('EINVAL', `${where}: not a capability this VM can enable (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 = ` +
      `${KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2} and KVM_CAP_DIRTY_LOG_RING = ${KVM_CAP_DIRTY_LOG_RING} are)`);
  }
  check(cap.flags === 0, 'EINVAL', `${where}: flags must be 0, got ${String(cap.flags)}`);
  const a0 = cap.args[0] ?? 0;
  check(Number.isInteger(a0) && a0 >= 0 && (a0 & ~KVM_DIRTY_LOG_MANUAL_CAPS) === 0, 'EINVAL',
    `${where}: args[0] = ${String(a0)} has bits other than KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE (1) | KVM_DIRTY_LOG_INITIALLY_SET (2)`);
  Atomics.store(kvm.vm.kvm, KVM_MANUAL_DIRTY_LOG_PROTECT, a0);
}

/**
 * kvm_create_dirty_bitmap, for a slot about to start logging: the live half
 * zeroed, or (INITIALLY_SET) pages [0, npages) set and the bits past npages
 * zero (I5); the scratch half zeroed. Call before the slot's flags are
 * published, so a lock-free markPageDirty never lands in a bitmap that is
 * then wiped. slots_lock held.
 */
export function kvmCreateDirtyBitmap(kvm: Kvm, tableBase: number, npages: number): void {
  const bm = kvm.vm.dirtyBitmap;
  const base = 2 * (tableBase / 32);
  const words = Math.ceil(npages / 32);
  bm.fill(0, base, base + 2 * words);
  if (!kvmDirtyLogManualProtectAndInitSet(kvm.vm)) return;
  for (let i = 0; i < words; i++) {
    const bits = Math.min(32, npages - i * 32);
    bm[base + i] = bits === 32 ? -1 : (1 << bits) - 1;
  }
}

/** Scratch for the rmap walks below (grown on demand; no allocation per page). */
const rmapScratch: number[] = [];

/**
 * Dirty-log write protection of every SPTE in the rmap of slot page `rel`:
 * spte_write_protect with pt_protect = false (clear W, keep MMU_WRITEABLE).
 * Returns true if some SPTE lost W. mmu_lock held.
 */
function slotPageWriteProtect(kvm: Kvm, slot: DirtySlot, rel: number): boolean {
  const idx = slot.tableBase + rel;
  const heads = kvm.vm.rmapHeads;
  if (heads[idx] === 0) return false;
  const n = pteListCollect(kvm, heads, idx, rmapScratch);
  let flush = false;
  for (let j = 0; j < n; j++) flush = spteWriteProtect(kvm.vm, rmapScratch[j]!, false) || flush;
  return flush;
}

/**
 * kvm_mmu_write_protect_pt_masked: write-protect the pages gfnOffset + i of
 * the slot for each bit i of mask (a 32-bit bitmap word). mmu_lock held.
 */
export function kvmMmuWriteProtectPtMasked(kvm: Kvm, slot: DirtySlot, gfnOffset: number, mask: number): boolean {
  let flush = false;
  let pages = 0;
  for (let m = mask; m !== 0; m &= m - 1) {
    const bit = 31 - Math.clz32(m & -m);
    flush = slotPageWriteProtect(kvm, slot, gfnOffset + bit) || flush;
    pages++;
  }
  // One event per bitmap word, not per page: a big collection would flood the ring.
  Atomics.add(kvm.vm.stats, STAT_DIRTY_WRPROT_PAGES, pages);
  kvmEvent(kvm.events, EV_WRITE_PROTECT, kvm.self, slot.baseGfn + gfnOffset, pages, WP_CAUSE_DIRTY_LOG);
  return flush;
}

/**
 * kvm_mmu_slot_remove_write_access: write-protect every present leaf SPTE of
 * slot `id` (found through the rmaps), dirty-log style. Returns true if some
 * SPTE lost W. mmu_lock held.
 */
export function kvmMmuSlotRemoveWriteAccess(kvm: Kvm, id: number): boolean {
  const slot = idToMemslot(kvm.vm, id);
  if (slot === null) return false;
  let flush = false;
  for (let rel = 0; rel < slot.npages; rel++) flush = slotPageWriteProtect(kvm, slot, rel) || flush;
  kvmEvent(kvm.events, EV_WRITE_PROTECT, kvm.self, slot.baseGfn, slot.npages, WP_CAUSE_DIRTY_LOG);
  return flush;
}

/**
 * kvm_mmu_slot_apply_flags for a slot that just started logging: write-protect
 * it, unless INITIALLY_SET makes protection lazy (CLEAR_DIRTY_LOG does it).
 * Returns true if the caller must kvmFlushRemoteTlbs(FLUSH_CAUSE_DIRTY_LOG)
 * (3.6 flushes after every remove_write_access, so always when it ran).
 * mmu_lock held.
 */
export function kvmMmuSlotApplyFlags(kvm: Kvm, id: number): boolean {
  if (kvmDirtyLogManualProtectAndInitSet(kvm.vm)) return false;
  kvmMmuSlotRemoveWriteAccess(kvm, id);
  return true;
}

/** The slot of a GET/CLEAR, or the errno the kernel gives. slots_lock held. */
function loggedSlot(kvm: Kvm, id: number, where: string): DirtySlot {
  const slot = idToMemslot(kvm.vm, id);
  if (slot === null) throw new KvmError('ENOENT', `${where}: slot ${id} is empty`);
  if ((slot.flags & KVM_MEM_LOG_DIRTY_PAGES) === 0) {
    throw new KvmError('ENOENT', `${where}: slot ${id} does not log dirty pages (set KVM_MEM_LOG_DIRTY_PAGES first)`);
  }
  return slot;
}

/** A ring-only VM has no bitmaps to GET or CLEAR. */
function checkUseDirtyBitmap(kvm: Kvm, where: string): void {
  if (!kvmUseDirtyBitmap(kvm.vm)) {
    throw new KvmError('ENXIO', `${where}: this VM logs dirty pages into per-vCPU rings (KVM_CAP_DIRTY_LOG_RING), not bitmaps`);
  }
}

function checkSlotId(id: number, where: string): void {
  check(Number.isInteger(id) && id >= 0 && id < KVM_MEM_SLOTS_NUM, 'EINVAL', `${where}: slot id ${String(id)} is not in 0..${KVM_MEM_SLOTS_NUM - 1}`);
}

/**
 * KVM_GET_DIRTY_LOG (x86 kvm_vm_ioctl_get_dirty_log of 3.6): bit i of the
 * result is page i of the slot. Auto-protect mode, in this order:
 *   1. snapshot and clear each nonzero word (Atomics.exchange) into the
 *      scratch half, and write-protect its pages;
 *   2. if any word was nonzero, flush remote TLBs, still under mmu_lock;
 *   3. copy the snapshot out.
 * With manual protect on, only copies the live bitmap. Throws ENXIO (ring
 * VM), EINVAL (slot id), ENOENT (empty slot or logging off). Takes slots_lock, then mmu_lock.
 */
export function kvmGetDirtyLog(kvm: Kvm, id: number): Uint32Array {
  const where = `KVM_GET_DIRTY_LOG(slot ${id})`;
  const t0 = nowMs();
  kvm.slotsLock.lock();
  try {
    checkUseDirtyBitmap(kvm, where);
    checkSlotId(id, where);
    const slot = loggedSlot(kvm, id, where);
    const bm = kvm.vm.dirtyBitmap;
    const out = new Uint32Array(slot.words);
    if (kvmManualDirtyLogProtect(kvm.vm) !== 0) {
      let pages = 0;
      for (let i = 0; i < slot.words; i++) {
        out[i] = Atomics.load(bm, slot.dirtyBase + i);
        pages += hweight32(out[i]!);
      }
      dirtyCollected(kvm, id, DIRTY_OP_GET, pages, t0);
      return out;
    }
    const scratch = slot.dirtyBase + slot.words;
    bm.fill(0, scratch, scratch + slot.words);
    let isDirty = false;
    kvm.mmuLock.lock();
    try {
      for (let i = 0; i < slot.words; i++) {
        if (Atomics.load(bm, slot.dirtyBase + i) === 0) continue;
        isDirty = true;
        const mask = Atomics.exchange(bm, slot.dirtyBase + i, 0);
        bm[scratch + i] = mask;
        if (kvm.vm.race[RACE_ARMED] !== 0) racePoint(kvm.vm, RP_GET_AFTER_XCHG, i); // race lab
        kvmMmuWriteProtectPtMasked(kvm, slot, i * 32, mask);
      }
      if (kvm.vm.race[RACE_ARMED] !== 0) racePoint(kvm.vm, RP_GET_BEFORE_FLUSH, -1); // race lab
      if (isDirty && (kvmUnsafe(kvm.vm) & UNSAFE_NO_FLUSH_AFTER_WRPROT) === 0) kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_DIRTY_LOG);
    } finally {
      kvm.mmuLock.unlock();
    }
    if (kvm.vm.race[RACE_ARMED] !== 0) racePoint(kvm.vm, RP_GET_AFTER_FLUSH, -1); // race lab
    let pages = 0;
    for (let i = 0; i < slot.words; i++) {
      out[i] = bm[scratch + i]!;
      pages += hweight32(out[i]!);
    }
    dirtyCollected(kvm, id, DIRTY_OP_GET, pages, t0);
    return out;
  } finally {
    kvm.slotsLock.unlock();
  }
}

/**
 * KVM_CLEAR_DIRTY_LOG (kvm_clear_dirty_log_protect): for the pages
 * [firstPage, firstPage + numPages) whose bit is set in log.bitmap, clear the
 * live bit (fetch-and-not), and write-protect exactly the pages whose bit was
 * actually set (I7); flush remote TLBs before returning if any was. Checks, in
 * the kernel's order: ring VM (ENXIO), slot id (EINVAL), firstPage a multiple of 64 (EINVAL),
 * slot empty or not logging (ENOENT), firstPage <= npages, numPages <= npages
 * - firstPage, numPages a multiple of 64 unless the range reaches the slot's
 * end (EINVAL), then the bitmap must hold ceil(numPages / 32) words (EFAULT,
 * the copy_from_user failure). Like the kernel, it works whether or not manual
 * protect is enabled. Takes slots_lock, then mmu_lock.
 */
export function kvmClearDirtyLog(kvm: Kvm, log: KvmClearDirtyLog): void {
  const { slot: id, firstPage, numPages, bitmap } = log;
  const where = `KVM_CLEAR_DIRTY_LOG(slot ${id}, first_page ${firstPage}, num_pages ${numPages})`;
  const t0 = nowMs();
  let pages = 0;
  kvm.slotsLock.lock();
  try {
    checkUseDirtyBitmap(kvm, where);
    checkSlotId(id, where);
    check(Number.isInteger(firstPage) && firstPage >= 0 && firstPage % 64 === 0, 'EINVAL', `${where}: first_page must be a multiple of 64`);
    const slot = loggedSlot(kvm, id, where);
    const { npages } = slot;
    check(firstPage <= npages, 'EINVAL', `${where}: first_page is past the slot's ${npages} pages`);
    check(Number.isInteger(numPages) && numPages >= 0 && numPages <= npages - firstPage, 'EINVAL',
      `${where}: the range runs past the slot's ${npages} pages`);
    check(numPages === npages - firstPage || numPages % 64 === 0, 'EINVAL',
      `${where}: num_pages must be a multiple of 64 unless the range reaches the end of the slot (page ${npages})`);
    const words = Math.ceil(numPages / 32);
    check(bitmap instanceof Uint32Array && bitmap.length >= words, 'EFAULT',
      `${where}: the bitmap must be a Uint32Array of at least ${words} words`);
    const bm = kvm.vm.dirtyBitmap;
    const first = slot.dirtyBase + firstPage / 32;
    let flush = false;
    kvm.mmuLock.lock();
    try {
      for (let j = 0; j < words; j++) {
        const mask = bitmap[j]! | 0;
        if (mask === 0) continue;
        const cleared = mask & Atomics.and(bm, first + j, ~mask);
        if (cleared === 0) continue;
        flush = true;
        pages += hweight32(cleared);
        kvmMmuWriteProtectPtMasked(kvm, slot, firstPage + j * 32, cleared);
      }
    } finally {
      kvm.mmuLock.unlock();
    }
    // kvm_flush_remote_tlbs_memslot: after mmu_lock (v5.x), before return (T1).
    if (flush) kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_DIRTY_LOG);
    dirtyCollected(kvm, id, DIRTY_OP_CLEAR, pages, t0);
  } finally {
    kvm.slotsLock.unlock();
  }
}

/** Statistics and the EV_DIRTY_COLLECT event of one collection that ran to its end. */
function dirtyCollected(kvm: Kvm, slot: number, op: number, pages: number, t0: number): void {
  const us = Math.round((nowMs() - t0) * 1000);
  const s = kvm.vm.stats;
  Atomics.add(s, STAT_DIRTY_COLLECT, 1);
  Atomics.add(s, STAT_DIRTY_COLLECT_PAGES, pages);
  Atomics.add(s, STAT_DIRTY_COLLECT_US, us);
  kvmEvent(kvm.events, EV_DIRTY_COLLECT, kvm.self, (slot & 0xffff) | (op << 16), pages, us);
}

/**
 * KVM_RESET_DIRTY_RINGS (kvm_vm_ioctl_reset_dirty_pages): for every vCPU's
 * ring, in order from reset_index, each harvested (F_RESET) entry is zeroed and
 * its page write-protected again (dirty-log style), stopping at the first
 * entry userspace has not harvested; then, if any entry was reset, remote TLBs
 * are flushed. Returns the number of entries reset. ENXIO without a ring.
 * Entries naming no slot or a page past its end are reset without protecting
 * anything, as the kernel does. Takes slots_lock, then mmu_lock.
 */
export function kvmResetDirtyRings(kvm: Kvm): number {
  const vm = kvm.vm;
  if (kvmDirtyRingSize(vm) === 0) throw new KvmError('ENXIO', 'KVM_RESET_DIRTY_RINGS: this VM has no dirty rings (KVM_CAP_DIRTY_LOG_RING)');
  let cleared = 0;
  const t0 = nowMs();
  kvm.slotsLock.lock();
  try {
    kvm.mmuLock.lock();
    try {
      for (let v = 0; v < vm.config.vcpus; v++) {
        for (let packed = kvmDirtyRingResetNext(vm, v); packed >= 0; packed = kvmDirtyRingResetNext(vm, v)) {
          cleared++;
          const id = Math.floor(packed / 2 ** 32);
          const offset = packed % 2 ** 32;
          const slot = id < KVM_MEM_SLOTS_NUM ? idToMemslot(vm, id) : null;
          if (slot !== null && offset < slot.npages) kvmMmuWriteProtectPtMasked(kvm, slot, offset, 1);
        }
      }
    } finally {
      kvm.mmuLock.unlock();
    }
  } finally {
    kvm.slotsLock.unlock();
  }
  if (cleared > 0) kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_DIRTY_LOG);
  dirtyCollected(kvm, 0xffff, DIRTY_OP_RING_RESET, cleared, t0);
  return cleared;
}
