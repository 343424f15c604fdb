// KVM_SET_USER_MEMORY_REGION (__kvm_set_memory_region in 3.6's kvm_main.c):
// create, move, delete a memslot, or change its flags.
//
// Rules, as 3.6 has them:
//   - slot id 0..31, guest_phys_addr and memory_size multiples of 4 KiB, the
//     range inside the (32-bit) guest physical space, flags only
//     KVM_MEM_LOG_DIRTY_PAGES: else EINVAL;
//   - memory_size 0 deletes the slot (deleting an empty slot is a no-op);
//   - a slot's size cannot change (EINVAL); its base may (a move);
//   - no overlap with another slot (EEXIST);
//   - creating, deleting or moving a slot zaps every shadow page
//     (kvm_arch_flush_shadow): SPTEs, MMIO SPTEs and rmaps are rebuilt by
//     faults against the new slots.
// There is no userspace_addr: a slot's memory is its range of the gfn->pfn
// table, backed from the host page pool on first touch; a deleted slot's
// pages go back to the pool (what munmap of the backing would do).
//
// Turning KVM_MEM_LOG_DIRTY_PAGES on prepares the bitmap and write-protects the
// slot (dirtylog.ts: kvmCreateDirtyBitmap, kvmMmuSlotApplyFlags), then flushes
// remote TLBs; markPageDirty fills the bitmap, GET/CLEAR_DIRTY_LOG collect it.

import { kvmCreateDirtyBitmap, kvmMmuSlotApplyFlags } from './dirtylog.ts';
import { check, KvmError } from './errors.ts';
import {
  FLUSH_CAUSE_DIRTY_LOG, HOST_PTE_PRESENT, KVM_MEMSLOTS_GEN, KVM_MEMSLOTS_USED, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_SLOTS_NUM, MEMSLOT_BASE_GFN,
  MEMSLOT_DIRTY_BASE, MEMSLOT_FLAGS, MEMSLOT_NPAGES, MEMSLOT_TABLE_BASE, MEMSLOT_WORDS,
} from './fields.ts';
import { kvmReleasePfnClean } from './hostmem.ts';
import { swapFreeSlot } from './swap-store.ts';
import type { Kvm } from './kvm-host.ts';
import { kvmMmuZapAll } from './mmu-page.ts';
import { kvmFlushRemoteTlbs } from './requests.ts';
import type { VmShared } from './shm.ts';
import { PAGE_SHIFT, PAGE_SIZE } from './shm.ts';

/** struct kvm_userspace_memory_region, minus userspace_addr. */
export interface KvmUserspaceMemoryRegion {
  slot: number;
  flags: number;
  guestPhysAddr: number;
  memorySize: number;
}

/** A memslot as read back (KVM has no GET; this is for the VMM, tests and the UI). */
export interface KvmMemslotInfo {
  slot: number;
  flags: number;
  baseGfn: number;
  npages: number;
  tableBase: number;
  dirtyBase: number;
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/** The memslot `slot`, or null if it is empty. */
export function kvmGetMemslot(vm: VmShared, slot: number): KvmMemslotInfo | null {
  const s = vm.memslots;
  const b = slot * MEMSLOT_WORDS;
  const npages = Atomics.load(s, b + MEMSLOT_NPAGES);
  if (npages === 0) return null;
  return {
    slot,
    flags: Atomics.load(s, b + MEMSLOT_FLAGS),
    baseGfn: Atomics.load(s, b + MEMSLOT_BASE_GFN),
    npages,
    tableBase: Atomics.load(s, b + MEMSLOT_TABLE_BASE),
    dirtyBase: Atomics.load(s, b + MEMSLOT_DIRTY_BASE),
  };
}

/** KVM_SET_USER_MEMORY_REGION. Throws KvmError EINVAL / EEXIST / ENOMEM. Takes slots_lock, mmu_lock. */
export function kvmSetUserMemoryRegion(kvm: Kvm, mem: KvmUserspaceMemoryRegion): void {
  const { slot, guestPhysAddr: gpa, memorySize: size } = mem;
  let flags = mem.flags;
  const where = `KVM_SET_USER_MEMORY_REGION(slot ${slot})`;
  check(Number.isInteger(slot) && slot >= 0 && slot < KVM_MEM_SLOTS_NUM, 'EINVAL', `${where}: slot id is not in 0..${KVM_MEM_SLOTS_NUM - 1}`);
  check(Number.isInteger(flags) && (flags & ~KVM_MEM_LOG_DIRTY_PAGES) === 0, 'EINVAL', `${where}: unknown flags ${hex(flags)} (only KVM_MEM_LOG_DIRTY_PAGES = 1)`);
  check(Number.isInteger(gpa) && gpa >= 0 && gpa % PAGE_SIZE === 0, 'EINVAL', `${where}: guest_phys_addr ${String(gpa)} is not a page-aligned address`);
  check(Number.isInteger(size) && size >= 0 && size % PAGE_SIZE === 0, 'EINVAL', `${where}: memory_size ${String(size)} is not a multiple of ${PAGE_SIZE}`);
  check(gpa + size <= 2 ** 32, 'EINVAL', `${where}: ${hex(gpa)} + ${size} bytes runs past the 32-bit guest physical space`);
  const vm = kvm.vm;
  const baseGfn = gpa / PAGE_SIZE;
  const npages = size / PAGE_SIZE;
  if (npages === 0) flags = 0;

  kvm.slotsLock.lock();
  try {
    const old = kvmGetMemslot(vm, slot);
    const oldNpages = old === null ? 0 : old.npages;
    if (npages === 0 && oldNpages === 0) return;
    if (npages !== 0 && oldNpages !== 0 && npages !== oldNpages) {
      throw new KvmError('EINVAL', `${where}: a slot's size cannot change (${oldNpages} pages now, ${npages} asked); delete it first`);
    }
    if (npages !== 0) {
      for (let i = 0; i < KVM_MEM_SLOTS_NUM; i++) {
        const o = i === slot ? null : kvmGetMemslot(vm, i);
        if (o !== null && baseGfn < o.baseGfn + o.npages && o.baseGfn < baseGfn + npages) {
          throw new KvmError('EEXIST', `${where}: ${hex(gpa)}..${hex(gpa + size)} overlaps slot ${i} ` +
            `(${hex(o.baseGfn * PAGE_SIZE)}..${hex((o.baseGfn + o.npages) * PAGE_SIZE)})`);
        }
      }
    }
    const create = oldNpages === 0;
    const remove = npages === 0;
    const move = !create && !remove && old!.baseGfn !== baseGfn;
    const tableBase = create ? allocTableRange(vm, slot, npages, where) : old!.tableBase;

    const logOn = (flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
    const wasOn = old !== null && (old.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
    const startLog = logOn && (!wasOn || create);
    let flushLog = false;
    kvm.mmuLock.lock();
    try {
      if (create || remove || move) kvmMmuZapAll(kvm);
      // The bitmap (twice the size: the scratch half) is ready before the flag is published.
      if (startLog) kvmCreateDirtyBitmap(kvm, tableBase, npages);
      writeMemslot(vm, slot, remove ? 0 : flags, baseGfn, npages, tableBase);
      if (remove) releaseTableRange(vm, tableBase, oldNpages);
      if (create) releaseTableRange(vm, tableBase, npages); // normally empty: drop strays from a raced fault
      if (startLog) flushLog = kvmMmuSlotApplyFlags(kvm, slot); // write-protect (dirtylog.ts)
    } finally {
      kvm.mmuLock.unlock();
    }
    if (flushLog) kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_DIRTY_LOG); // 3.6: after mmu_lock, before return
  } finally {
    kvm.slotsLock.unlock();
  }
}

/** First fit in 'gfn-table' for npages (rounded up to 32), avoiding the other slots. */
function allocTableRange(vm: VmShared, slot: number, npages: number, where: string): number {
  const need = Math.ceil(npages / 32) * 32;
  const used: [number, number][] = [];
  for (let i = 0; i < KVM_MEM_SLOTS_NUM; i++) {
    const o = i === slot ? null : kvmGetMemslot(vm, i);
    if (o !== null) used.push([o.tableBase, o.tableBase + Math.ceil(o.npages / 32) * 32]);
  }
  used.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [s, e] of used) {
    if (s - at >= need) break;
    at = Math.max(at, e);
  }
  if (at + need > vm.config.slotPages) {
    throw new KvmError('ENOMEM', `${where}: all memslots together may cover ${vm.config.slotPages - 32 * KVM_MEM_SLOTS_NUM} pages ` +
      `(createVm's slotBytes); ${npages} more do not fit`);
  }
  return at;
}

/**
 * Change slot records the way lock-free readers expect (memslot.ts): the
 * generation goes odd, the words change, the generation goes even.
 * mmu_lock held, so readers under the lock never see a change.
 */
function writeMemslot(vm: VmShared, slot: number, flags: number, baseGfn: number, npages: number, tableBase: number): void {
  const s = vm.memslots;
  const k = vm.kvm;
  const b = slot * MEMSLOT_WORDS;
  Atomics.add(k, KVM_MEMSLOTS_GEN, 1);
  Atomics.store(s, b + MEMSLOT_FLAGS, flags);
  Atomics.store(s, b + MEMSLOT_BASE_GFN, baseGfn);
  Atomics.store(s, b + MEMSLOT_TABLE_BASE, tableBase);
  Atomics.store(s, b + MEMSLOT_DIRTY_BASE, 2 * (tableBase / 32));
  Atomics.store(s, b + MEMSLOT_NPAGES, npages);
  let used = 0;
  for (let i = 0; i < KVM_MEM_SLOTS_NUM; i++) if (Atomics.load(s, i * MEMSLOT_WORDS + MEMSLOT_NPAGES) !== 0) used = i + 1;
  Atomics.store(k, KVM_MEMSLOTS_USED, used);
  Atomics.add(k, KVM_MEMSLOTS_GEN, 1);
}

/**
 * Give a slot range's host pages back to the pool and empty its rmap heads.
 * mmu_lock held, and no SPTE may map the range (zap first).
 */
export function releaseTableRange(vm: VmShared, tableBase: number, npages: number): void {
  for (let i = tableBase; i < tableBase + npages; i++) {
    const pte = Atomics.exchange(vm.gfnTable, i, 0);
    if ((pte & HOST_PTE_PRESENT) !== 0) kvmReleasePfnClean(vm, pte >>> PAGE_SHIFT);
    else if (pte !== 0) swapFreeSlot(vm, pte >>> PAGE_SHIFT); // swapped out (swap-store.ts)
    vm.rmapHeads[i] = 0;
  }
}
