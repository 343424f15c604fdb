// The per-vCPU dirty ring (KVM_CAP_DIRTY_LOG_RING, v5.11; reference §2.12
// item 4, invariant I8). Instead of a bitmap per slot, each vCPU pushes the
// pages it dirties, in order, into its own ring of struct kvm_dirty_gfn
// {flags, slot, offset} (region 'dirty-ring', layout in fields.ts).
//
// Entry life cycle (I8):
//   0 --push (the vCPU; slot and offset stored before flags)--> F_DIRTY
//     --harvest (userspace)--> F_DIRTY | F_RESET
//     --KVM_RESET_DIRTY_RINGS (re-protects the page)--> 0
// used = dirty_index - reset_index <= size. Once used reaches the soft limit
// (size - KVM_DIRTY_RING_RSVD_ENTRIES) the vCPU gets
// KVM_REQ_DIRTY_RING_SOFT_FULL and must leave with KVM_EXIT_DIRTY_RING_FULL
// until userspace has harvested and reset (kvmDirtyRingCheckRequest).
//
// Which vCPU pushes: the one running on this thread, as the kernel's
// kvm_get_running_vcpu(). A vCPU worker calls kvmSetRunningVcpu(id) once
// (vcpu_load); a thread with no running vCPU (the VMM's kvmWriteGuest) falls
// back to the slot's bitmap, as KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP does.
//
// This module depends on nothing but fields.ts and errors.ts, because
// markPageDirty (memslot.ts) calls into it. Reset lives in dirtylog.ts,
// next to the write protection it shares with CLEAR_DIRTY_LOG.

import { check, KvmError } from './errors.ts';
import {
  DRING_DIRTY_INDEX, DRING_HDR_WORDS, DRING_RESET_INDEX, DRING_STRIDE, KVCPU_REQUESTS, KVCPU_WORDS, KVM_DIRTY_GFN_FLAGS,
  KVM_DIRTY_GFN_F_DIRTY, KVM_DIRTY_GFN_F_RESET, KVM_DIRTY_GFN_OFFSET_HI, KVM_DIRTY_GFN_OFFSET_LO, KVM_DIRTY_GFN_SLOT,
  KVM_DIRTY_GFN_WORDS, KVM_DIRTY_RING_MAX_ENTRIES, KVM_DIRTY_RING_SIZE, KVM_REQ_DIRTY_RING_SOFT_FULL,
  STAT_DIRTY_RING_FULL,
} from './fields.ts';
import type { VmShared } from './shm.ts';

/** KVM_CAP_DIRTY_LOG_RING: args[0] is the ring size in bytes. */
export const KVM_CAP_DIRTY_LOG_RING = 192;
/** kvm_run exit reason: the vCPU's ring is soft-full; harvest and reset, then resume. */
export const KVM_EXIT_DIRTY_RING_FULL = 31;
/** Entries kept free below a full ring: 64 plus the PML buffer size (no PML here). */
export const KVM_DIRTY_RING_RSVD_ENTRIES = 64;
/** sizeof(struct kvm_dirty_gfn). */
export const KVM_DIRTY_GFN_BYTES = KVM_DIRTY_GFN_WORDS * 4;

/** A harvested entry: page `offset` of memslot `slot`. */
export interface KvmDirtyGfn {
  slot: number;
  offset: number;
}

/** The vCPU running on this thread (kvm_get_running_vcpu), or -1. */
let runningVcpu = -1;

/** vcpu_load / vcpu_put: name the vCPU whose ring this thread's dirty pages go to (-1: none). */
export function kvmSetRunningVcpu(id: number): void {
  runningVcpu = id;
}

export function kvmGetRunningVcpu(): number {
  return runningVcpu;
}

/** kvm->dirty_ring_size in entries; 0 when the VM logs into bitmaps. */
export function kvmDirtyRingSize(vm: VmShared): number {
  return Atomics.load(vm.kvm, KVM_DIRTY_RING_SIZE);
}

/** kvm_use_dirty_bitmap: no ring (we do not offer ..._RING_WITH_BITMAP to userspace). */
export function kvmUseDirtyBitmap(vm: VmShared): boolean {
  return kvmDirtyRingSize(vm) === 0;
}

/**
 * kvm_vm_ioctl_enable_dirty_log_ring: `bytes` must be a power of two, at
 * least a page and at least the reserved entries (EINVAL), at most
 * KVM_DIRTY_RING_MAX_ENTRIES entries (E2BIG); the size is set once (EINVAL).
 * The kernel also refuses once a vCPU exists; here vCPUs exist from VM
 * creation, so the caller must enable the ring before the first KVM_RUN.
 */
export function kvmVmIoctlEnableDirtyLogRing(vm: VmShared, bytes: number): void {
  const where = `KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING, ${String(bytes)} bytes)`;
  check(Number.isInteger(bytes) && bytes > 0 && (bytes & (bytes - 1)) === 0, 'EINVAL', `${where}: the ring size must be a power of two`);
  check(bytes >= 4096 && bytes >= KVM_DIRTY_RING_RSVD_ENTRIES * KVM_DIRTY_GFN_BYTES, 'EINVAL',
    `${where}: the ring must be at least a page (4096 bytes, ${4096 / KVM_DIRTY_GFN_BYTES} entries)`);
  if (bytes > KVM_DIRTY_RING_MAX_ENTRIES * KVM_DIRTY_GFN_BYTES) {
    throw new KvmError('E2BIG', `${where}: at most ${KVM_DIRTY_RING_MAX_ENTRIES} entries (${KVM_DIRTY_RING_MAX_ENTRIES * KVM_DIRTY_GFN_BYTES} bytes)`);
  }
  const k = vm.kvm;
  check(Atomics.compareExchange(k, KVM_DIRTY_RING_SIZE, 0, bytes / KVM_DIRTY_GFN_BYTES) === 0, 'EINVAL',
    `${where}: the ring size is already set (${Atomics.load(k, KVM_DIRTY_RING_SIZE)} entries); it can be set once`);
}

function ringBase(vcpu: number): number {
  return vcpu * DRING_STRIDE;
}

/** kvm_dirty_ring_used: entries pushed and not yet reset. */
export function kvmDirtyRingUsed(vm: VmShared, vcpu: number): number {
  const r = vm.dirtyRing;
  const b = ringBase(vcpu);
  return (Atomics.load(r, b + DRING_DIRTY_INDEX) - Atomics.load(r, b + DRING_RESET_INDEX)) | 0;
}

/** kvm_dirty_ring_soft_full: used >= size - reserved. */
export function kvmDirtyRingSoftFull(vm: VmShared, vcpu: number): boolean {
  const size = kvmDirtyRingSize(vm);
  return size !== 0 && kvmDirtyRingUsed(vm, vcpu) >= size - KVM_DIRTY_RING_RSVD_ENTRIES;
}

/**
 * kvm_dirty_ring_push: append (slot, offset) to vCPU `vcpu`'s ring; slot and
 * offset are stored before F_DIRTY (Atomics stores are seq-cst, so a reader
 * that sees F_DIRTY sees them). Makes KVM_REQ_DIRTY_RING_SOFT_FULL at the soft
 * limit. Returns false, pushing nothing, if the ring is completely full (the
 * soft limit should prevent that; counted in STAT_DIRTY_RING_FULL). Only the
 * vCPU's own thread pushes, so dirty_index has a single writer.
 */
export function kvmDirtyRingPush(vm: VmShared, vcpu: number, slot: number, offset: number): boolean {
  const size = kvmDirtyRingSize(vm);
  const r = vm.dirtyRing;
  const b = ringBase(vcpu);
  const di = Atomics.load(r, b + DRING_DIRTY_INDEX);
  const used = (di - Atomics.load(r, b + DRING_RESET_INDEX)) | 0;
  if (used >= size) {
    Atomics.add(vm.stats, STAT_DIRTY_RING_FULL, 1);
    return false;
  }
  const e = b + DRING_HDR_WORDS + (di & (size - 1)) * KVM_DIRTY_GFN_WORDS;
  Atomics.store(r, e + KVM_DIRTY_GFN_SLOT, slot);
  Atomics.store(r, e + KVM_DIRTY_GFN_OFFSET_LO, offset);
  Atomics.store(r, e + KVM_DIRTY_GFN_OFFSET_HI, 0);
  Atomics.store(r, e + KVM_DIRTY_GFN_FLAGS, KVM_DIRTY_GFN_F_DIRTY);
  Atomics.store(r, b + DRING_DIRTY_INDEX, (di + 1) | 0);
  if (used + 1 >= size - KVM_DIRTY_RING_RSVD_ENTRIES) {
    Atomics.or(vm.kvmVcpu, vcpu * KVCPU_WORDS + KVCPU_REQUESTS, KVM_REQ_DIRTY_RING_SOFT_FULL);
  }
  return true;
}

/**
 * kvm_dirty_ring_check_request, for the run loop before it enters the guest:
 * `reqs` are the request bits vcpuEnterGuest/vcpuCheckRequests returned. If
 * KVM_REQ_DIRTY_RING_SOFT_FULL is among them and the ring is still soft-full,
 * the request is made again and the answer is true: stop with
 * KVM_EXIT_DIRTY_RING_FULL (vcpu-run.ts runBatch).
 */
export function kvmDirtyRingCheckRequest(vm: VmShared, vcpu: number, reqs: number): boolean {
  if ((reqs & KVM_REQ_DIRTY_RING_SOFT_FULL) === 0 || !kvmDirtyRingSoftFull(vm, vcpu)) return false;
  Atomics.or(vm.kvmVcpu, vcpu * KVCPU_WORDS + KVCPU_REQUESTS, KVM_REQ_DIRTY_RING_SOFT_FULL);
  return true;
}

/** Userspace's position in one vCPU's ring (kept by the collector, as in the selftest). */
export interface DirtyRingCursor {
  fetchIndex: number;
}

/**
 * The userspace side of a ring (dirty_ring_collect_one in the selftest):
 * from cursor.fetchIndex on, take every entry whose flags are exactly F_DIRTY,
 * mark it F_DIRTY | F_RESET, and stop at the first that is not. Returns the
 * harvested pages in order. Follow with kvmResetDirtyRings *before* reading
 * the pages' contents (a write between harvest and reset goes unlogged).
 */
export function kvmDirtyRingHarvest(vm: VmShared, vcpu: number, cursor: DirtyRingCursor): KvmDirtyGfn[] {
  const size = kvmDirtyRingSize(vm);
  const out: KvmDirtyGfn[] = [];
  if (size === 0) return out;
  const r = vm.dirtyRing;
  const b = ringBase(vcpu) + DRING_HDR_WORDS;
  for (;;) {
    const e = b + (cursor.fetchIndex & (size - 1)) * KVM_DIRTY_GFN_WORDS;
    if (Atomics.load(r, e + KVM_DIRTY_GFN_FLAGS) !== KVM_DIRTY_GFN_F_DIRTY) break;
    out.push({ slot: Atomics.load(r, e + KVM_DIRTY_GFN_SLOT), offset: Atomics.load(r, e + KVM_DIRTY_GFN_OFFSET_LO) >>> 0 });
    Atomics.store(r, e + KVM_DIRTY_GFN_FLAGS, KVM_DIRTY_GFN_F_DIRTY | KVM_DIRTY_GFN_F_RESET);
    cursor.fetchIndex = (cursor.fetchIndex + 1) | 0;
  }
  return out;
}

/**
 * One step of kvm_dirty_ring_reset for vCPU `vcpu`: if the entry at
 * reset_index was harvested (F_RESET), zero its flags, advance reset_index and
 * return its (slot, offset) packed as slot * 2^32 + offset; else -1 (stop:
 * entries are reset strictly in order). slots_lock held (one resetter).
 */
export function kvmDirtyRingResetNext(vm: VmShared, vcpu: number): number {
  const size = kvmDirtyRingSize(vm);
  const r = vm.dirtyRing;
  const b = ringBase(vcpu);
  const ri = Atomics.load(r, b + DRING_RESET_INDEX);
  if (ri === Atomics.load(r, b + DRING_DIRTY_INDEX)) return -1;
  const e = b + DRING_HDR_WORDS + (ri & (size - 1)) * KVM_DIRTY_GFN_WORDS;
  if ((Atomics.load(r, e + KVM_DIRTY_GFN_FLAGS) & KVM_DIRTY_GFN_F_RESET) === 0) return -1;
  const slot = Atomics.load(r, e + KVM_DIRTY_GFN_SLOT);
  const offset = Atomics.load(r, e + KVM_DIRTY_GFN_OFFSET_LO) >>> 0;
  Atomics.store(r, e + KVM_DIRTY_GFN_FLAGS, 0);
  Atomics.store(r, b + DRING_RESET_INDEX, (ri + 1) | 0);
  return (slot & 0xffff) * 2 ** 32 + offset;
}
