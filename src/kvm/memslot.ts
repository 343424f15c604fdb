// Memslots: which guest frames (gfns) are RAM, and where their host pages are.
//
// A memslot maps [baseGfn, baseGfn + npages) to a range of the gfn->pfn table
// ('gfn-table', one "host PTE" word per page: pfn << 12 | HOST_PTE_*; 0 until
// the page is first touched) and of the rmap heads ('rmap-heads', same index).
// A gfn in no memslot is MMIO. Slot records: fields.ts (MEMSLOT_*); changing
// them is KVM_SET_USER_MEMORY_REGION (set-memory-region.ts).
//
// Readers outside mmu_lock (the vCPU's MMIO check, gfnToPfn, markPageDirty on
// the fast path) use the memslot generation as a seqcount: the writer makes it
// odd, changes the records, makes it even; a reader retries if it saw an odd
// value or the value changed. That stands in for KVM's SRCU-protected memslot
// array. Writers also hold mmu_lock while they change records, so code under
// mmu_lock sees stable slots. A page fault that looked a gfn up before a
// memslot change notices the new generation under mmu_lock and retries.

import { kvmDirtyRingPush, kvmDirtyRingSize, kvmGetRunningVcpu } from './dirty-ring.ts';
import { KvmError } from './errors.ts';
import type { VmShared } from './shm.ts';
import { PAGE_SHIFT, PAGE_WORDS } from './shm.ts';
import {
  HOST_PTE_PRESENT, HOST_PTE_WRITABLE, KVM_MEMSLOTS_GEN, KVM_MEMSLOTS_USED, KVM_MEM_LOG_DIRTY_PAGES,
  MEMSLOT_BASE_GFN, MEMSLOT_DIRTY_BASE, MEMSLOT_FLAGS, MEMSLOT_NPAGES, MEMSLOT_TABLE_BASE, MEMSLOT_WORDS,
  STAT_DIRTY_MARKED,
} from './fields.ts';
import { kvmAllocPfn, kvmGetPfnUnlessZero, kvmReleasePfnClean, kvmReleasePfnDirty } from './hostmem.ts';
import { kvmKsmBreakCow } from './host-ops.ts';
import { kvmSwapInPage } from './swap-store.ts';

/** gfnToPfnProt() result for a gfn in no memslot (an MMIO address). */
export const PFN_NOSLOT = -1;

/**
 * The result of the last lookup on this thread (no allocation on the fault
 * path; JS runs one thread per worker, so a module-level record is private).
 */
const found = { slot: -1, rel: 0, flags: 0, tableBase: 0, dirtyBase: 0 };

function scan(vm: VmShared, gfn: number): boolean {
  const s = vm.memslots;
  const used = Atomics.load(vm.kvm, KVM_MEMSLOTS_USED);
  for (let i = 0; i < used; i++) {
    const b = i * MEMSLOT_WORDS;
    const npages = Atomics.load(s, b + MEMSLOT_NPAGES);
    if (npages === 0) continue;
    const rel = gfn - Atomics.load(s, b + MEMSLOT_BASE_GFN);
    if (rel >= 0 && rel < npages) {
      found.slot = i;
      found.rel = rel;
      found.flags = Atomics.load(s, b + MEMSLOT_FLAGS);
      found.tableBase = Atomics.load(s, b + MEMSLOT_TABLE_BASE);
      found.dirtyBase = Atomics.load(s, b + MEMSLOT_DIRTY_BASE);
      return true;
    }
  }
  found.slot = -1;
  return false;
}

/** Look gfn up consistently (seqcount read side). Fills `found`. */
function lookup(vm: VmShared, gfn: number): boolean {
  const k = vm.kvm;
  for (;;) {
    const gen = Atomics.load(k, KVM_MEMSLOTS_GEN);
    if ((gen & 1) !== 0) continue; // a writer is mid-update: a few stores, spin
    const hit = scan(vm, gfn);
    if (Atomics.load(k, KVM_MEMSLOTS_GEN) === gen) return hit;
  }
}

/** The memslot generation (even when stable); a fault compares it under mmu_lock. */
export function memslotsGeneration(vm: VmShared): number {
  return Atomics.load(vm.kvm, KVM_MEMSLOTS_GEN);
}

/** The id of the memslot holding gfn, or -1 (MMIO). Lock-free. */
export function gfnToMemslot(vm: VmShared, gfn: number): number {
  return lookup(vm, gfn) ? found.slot : -1;
}

/**
 * Index of gfn in 'gfn-table' and 'rmap-heads', or -1 if gfn is in no memslot.
 * Lock-free; under mmu_lock the answer stays valid until the lock is dropped.
 */
export function gfnToTableIndex(vm: VmShared, gfn: number): number {
  return lookup(vm, gfn) ? found.tableBase + found.rel : -1;
}

/**
 * The host pfn backing gfn right now, or -1 (no memslot, never touched,
 * swapped out). A look, not a pin: unlike gfnToPfn it backs nothing and
 * takes no reference, so the answer may be stale as soon as it is returned.
 */
export function gfnToResidentPfn(vm: VmShared, gfn: number): number {
  const idx = gfnToTableIndex(vm, gfn);
  const pte = idx < 0 ? 0 : Atomics.load(vm.gfnTable, idx);
  return (pte & HOST_PTE_PRESENT) !== 0 ? pte >>> PAGE_SHIFT : -1;
}

/**
 * A vCPU's cache of the last memslot it hit (KVM's vcpu->last_used_slot):
 * gfns [base, end) are in slot `slot`, with these flags and dirty-bitmap base,
 * for as long as the memslot generation is still `gen`. Every change of a
 * slot record moves the generation (set-memory-region.ts writeMemslot), so a
 * reader that finds it unchanged may use the cached fields as if it had just
 * scanned: one atomic load instead of a scan. Owned by one thread.
 */
export class MemslotCache {
  gen = -1;
  base = 0;
  end = 0;
  slot = -1;
  flags = 0;
  dirtyBase = 0;
}

/**
 * kvm_vcpu_gfn_to_memslot: is gfn in a memslot? Through the vCPU's cache
 * (one atomic load when gfn is in the slot last hit), refilled on a miss.
 */
export function kvmVcpuGfnToMemslot(vm: VmShared, cache: MemslotCache, gfn: number): boolean {
  if (cache.gen === Atomics.load(vm.kvm, KVM_MEMSLOTS_GEN) && gfn >= cache.base && gfn < cache.end) return true;
  return memslotRange(vm, gfn, cache);
}

/** Fill `out` with the slot holding gfn, consistently (seqcount read side); false if gfn is MMIO. */
function memslotRange(vm: VmShared, gfn: number, out: MemslotCache): boolean {
  for (;;) {
    const gen = Atomics.load(vm.kvm, KVM_MEMSLOTS_GEN);
    if ((gen & 1) !== 0) continue;
    const hit = scan(vm, gfn);
    const npages = hit ? Atomics.load(vm.memslots, found.slot * MEMSLOT_WORDS + MEMSLOT_NPAGES) : 0;
    if (Atomics.load(vm.kvm, KVM_MEMSLOTS_GEN) !== gen) continue;
    if (hit) {
      out.base = gfn - found.rel;
      out.end = out.base + npages;
      out.slot = found.slot;
      out.flags = found.flags;
      out.dirtyBase = found.dirtyBase;
      out.gen = gen;
    }
    return hit;
  }
}

/**
 * gfn_to_pfn_prot: the host page behind gfn, allocated (zero-filled) on first
 * touch, returned *pinned* as its host PTE word (pfn << 12 | HOST_PTE_*).
 * The caller drops the pin with kvmReleasePfnClean(vm, pte >>> 12).
 * Returns PFN_NOSLOT if gfn is in no memslot. Throws ENOMEM if the pool is empty.
 *
 * `writeFault`: the caller is about to write. A page KSM made read-only
 * (HOST_PTE_WRITABLE clear) gets a private copy first (kvmKsmBreakCow, as
 * get_user_pages with FOLL_WRITE does), or a write fault would loop.
 * A swapped-out page is swapped in (kvmSwapInPage) and looked up again.
 */
export function gfnToPfnProt(vm: VmShared, gfn: number, writeFault: boolean): number {
  for (;;) {
    if (!lookup(vm, gfn)) return PFN_NOSLOT;
    const idx = found.tableBase + found.rel;
    const table = vm.gfnTable;
    let pte = Atomics.load(table, idx);
    if (pte === 0) {
      const pfn = kvmAllocPfn(vm);
      if (pfn < 0) {
        throw new KvmError('ENOMEM', `gfn_to_pfn: host page pool exhausted (${vm.config.poolPfns} pages) backing guest address 0x${(gfn * 4096).toString(16)}`);
      }
      const fresh = (pfn << PAGE_SHIFT) | HOST_PTE_PRESENT | HOST_PTE_WRITABLE;
      const seen = Atomics.compareExchange(table, idx, 0, fresh);
      if (seen !== 0) {
        kvmReleasePfnClean(vm, pfn); // another thread backed it first: use theirs
        continue;
      }
      pte = fresh;
    }
    if ((pte & HOST_PTE_PRESENT) === 0) {
      kvmSwapInPage(vm, idx, pte, gfn); // or another thread is doing it: look again
      continue;
    }
    if (writeFault && (pte & HOST_PTE_WRITABLE) === 0) {
      kvmKsmBreakCow(vm, gfn); // under the MMU-notifier protocol (host-ops.ts)
      continue;
    }
    const pfn = pte >>> PAGE_SHIFT;
    if (!kvmGetPfnUnlessZero(vm, pfn)) continue;
    if (Atomics.load(table, idx) !== pte) {
      kvmReleasePfnClean(vm, pfn); // remapped while we pinned it
      continue;
    }
    return pte;
  }
}

/** gfn_to_pfn: the pinned pfn behind gfn, or PFN_NOSLOT. See gfnToPfnProt. */
export function gfnToPfn(vm: VmShared, gfn: number): number {
  const pte = gfnToPfnProt(vm, gfn, false);
  return pte === PFN_NOSLOT ? PFN_NOSLOT : pte >>> PAGE_SHIFT;
}

/**
 * mark_page_dirty: set gfn's bit in its memslot's dirty bitmap, if the slot
 * logs dirty pages. A plain read first: most calls find the bit already set
 * and should not pay for an atomic read-modify-write. Lock-free.
 * In a dirty-ring VM the page goes to the running vCPU's ring instead.
 */
export function markPageDirty(vm: VmShared, gfn: number): void {
  if (!lookup(vm, gfn)) return;
  markSlotPageDirty(vm, found.slot, found.flags, found.dirtyBase, found.rel);
}

/**
 * kvm_vcpu_mark_page_dirty: markPageDirty for a vCPU thread, through its
 * memslot cache (the fast page fault's path: no memslot scan, one atomic load
 * to validate the cache, when the last fault hit the same slot).
 */
export function kvmVcpuMarkPageDirty(vm: VmShared, cache: MemslotCache, gfn: number): void {
  if (!kvmVcpuGfnToMemslot(vm, cache, gfn)) return;
  markSlotPageDirty(vm, cache.slot, cache.flags, cache.dirtyBase, gfn - cache.base);
}

/** Page `rel` of a slot looked up consistently: into the dirty ring or bitmap if the slot logs. */
function markSlotPageDirty(vm: VmShared, slot: number, flags: number, dirtyBase: number, rel: number): void {
  if ((flags & KVM_MEM_LOG_DIRTY_PAGES) === 0) return;
  // A ring VM: into the running vCPU's ring (dirty-ring.ts); no vCPU, or a full ring: the bitmap.
  const vcpu = kvmGetRunningVcpu();
  if (vcpu >= 0 && kvmDirtyRingSize(vm) !== 0 && kvmDirtyRingPush(vm, vcpu, slot, rel)) return;
  const w = dirtyBase + (rel >>> 5);
  const bit = 1 << (rel & 31);
  if ((vm.dirtyBitmap[w]! & bit) !== 0) return;
  if ((Atomics.or(vm.dirtyBitmap, w, bit) & bit) === 0) Atomics.add(vm.stats, STAT_DIRTY_MARKED, 1);
}

/**
 * kvm_read_guest: copy guest physical [gpa, gpa + len) into a new array, or
 * null unless all of it is guest RAM. For hypervisor code (SBI, loaders).
 */
export function kvmReadGuest(vm: VmShared, gpa: number, len: number): Uint8Array | null {
  const out = new Uint8Array(len);
  return copyGuest(vm, gpa, out, false) ? out : null;
}

/**
 * kvm_write_guest: store bytes at guest physical gpa and mark the pages dirty
 * (in the dirty log and on the host page). False, with nothing written,
 * unless all of it is guest RAM.
 */
export function kvmWriteGuest(vm: VmShared, gpa: number, bytes: Uint8Array): boolean {
  return copyGuest(vm, gpa, bytes, true);
}

function copyGuest(vm: VmShared, gpa: number, buf: Uint8Array, write: boolean): boolean {
  const start = gpa >>> 0;
  const end = start + buf.length;
  if (end > 2 ** 32) return false;
  for (let g = Math.floor(start / 4096); g * 4096 < end; g++) if (gfnToMemslot(vm, g) < 0) return false;
  for (let a = start; a < end;) {
    const gfn = Math.floor(a / 4096);
    const off = a - gfn * 4096;
    const n = Math.min(4096 - off, end - a);
    const pte = gfnToPfnProt(vm, gfn, write);
    if (pte === PFN_NOSLOT) return false;
    const pfn = pte >>> PAGE_SHIFT;
    const host = pfn * PAGE_WORDS * 4 + off;
    if (write) {
      vm.ramU8.set(buf.subarray(a - start, a - start + n), host);
      markPageDirty(vm, gfn);
      kvmReleasePfnDirty(vm, pfn);
    } else {
      buf.set(vm.ramU8.subarray(host, host + n), a - start);
      kvmReleasePfnClean(vm, pfn);
    }
    a += n;
  }
  return true;
}
