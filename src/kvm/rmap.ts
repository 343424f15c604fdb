// pte lists, rmaps and rmap-driven write protection / unmapping.
//
// A pte list is the set of SPTE locations (loc = spIndex * 1024 + index) that
// something cares about, kept like KVM's pte_list / pte_list_desc:
//   head word 0          empty
//   head word loc + 1    exactly one location (the common case: no descriptor)
//   head word -(d + 1)   a chain of descriptors in 'rmap-desc', each
//                        [next, loc, loc, loc] (PTE_LIST_EXT = 3, -1 = unused)
// Invariant: every descriptor but the last of a chain is full, and the last
// one's used entries come first. Removal moves the chain's last entry into the
// hole, so both add and remove touch at most the chain's tail.
//
// Two kinds of lists use this:
//   the rmap of a gfn ('rmap-heads', index from gfnToTableIndex): every leaf
//     SPTE mapping that gfn, so the host (and write protection) can find them;
//   the parent_ptes of a shadow page (SP_PARENT_PTES): every non-leaf SPTE
//     pointing to it, so zapping the page can unlink it.
// All of it changes only under mmu_lock (plain reads and writes suffice; the
// UI may read a stale but never a torn word).

import { KvmError } from './errors.ts';
import type { Kvm } from './kvm-host.ts';
import { gfnToTableIndex } from './memslot.ts';
import {
  KVM_DESC_FREE_COUNT, KVM_DESC_FREE_HEAD, PTE_LIST_EXT, RMAP_DESC_NEXT, RMAP_DESC_SPTE, RMAP_DESC_WORDS,
  STAT_RMAP_WRITE_PROTECT,
} from './fields.ts';
import { EV_WRITE_PROTECT, kvmEvent, WP_CAUSE_SHADOW_PT } from './events.ts';
import { mmuSpteClearTrackBits, isRmapSpte, spteWriteProtect } from './spte.ts';

function allocDesc(kvm: Kvm): number {
  const k = kvm.vm.kvm;
  const d = k[KVM_DESC_FREE_HEAD]!;
  if (d < 0) {
    // makeMmuPagesAvailable keeps a reserve, so this is a bug, not a workload.
    throw new KvmError('ENOMEM', `rmap: pte_list_desc pool (${kvm.vm.config.rmapDescs}) exhausted`);
  }
  const desc = kvm.vm.rmapDesc;
  const b = d * RMAP_DESC_WORDS;
  k[KVM_DESC_FREE_HEAD] = desc[b + RMAP_DESC_NEXT]!;
  k[KVM_DESC_FREE_COUNT]--;
  desc[b + RMAP_DESC_NEXT] = -1;
  for (let j = 0; j < PTE_LIST_EXT; j++) desc[b + RMAP_DESC_SPTE + j] = -1;
  return d;
}

function freeDesc(kvm: Kvm, d: number): void {
  const k = kvm.vm.kvm;
  kvm.vm.rmapDesc[d * RMAP_DESC_WORDS + RMAP_DESC_NEXT] = k[KVM_DESC_FREE_HEAD]!;
  k[KVM_DESC_FREE_HEAD] = d;
  k[KVM_DESC_FREE_COUNT]++;
}

/** pte_list_add: add `loc` to the list whose head is arr[idx]. mmu_lock held. */
export function pteListAdd(kvm: Kvm, arr: Int32Array, idx: number, loc: number): void {
  const h = arr[idx]!;
  if (h === 0) {
    arr[idx] = loc + 1;
    return;
  }
  const desc = kvm.vm.rmapDesc;
  if (h > 0) {
    const d = allocDesc(kvm);
    desc[d * RMAP_DESC_WORDS + RMAP_DESC_SPTE] = h - 1;
    desc[d * RMAP_DESC_WORDS + RMAP_DESC_SPTE + 1] = loc;
    arr[idx] = -(d + 1);
    return;
  }
  let d = -h - 1;
  for (;;) {
    const next = desc[d * RMAP_DESC_WORDS + RMAP_DESC_NEXT]!;
    if (next < 0) break;
    d = next;
  }
  const b = d * RMAP_DESC_WORDS + RMAP_DESC_SPTE;
  for (let j = 0; j < PTE_LIST_EXT; j++) {
    if (desc[b + j] === -1) {
      desc[b + j] = loc;
      return;
    }
  }
  const nd = allocDesc(kvm);
  desc[nd * RMAP_DESC_WORDS + RMAP_DESC_SPTE] = loc;
  desc[d * RMAP_DESC_WORDS + RMAP_DESC_NEXT] = nd;
}

/** pte_list_remove: remove `loc` (which must be there). mmu_lock held. */
export function pteListRemove(kvm: Kvm, arr: Int32Array, idx: number, loc: number): void {
  const h = arr[idx]!;
  if (h > 0) {
    if (h - 1 !== loc) throw listBug('remove', loc);
    arr[idx] = 0;
    return;
  }
  if (h === 0) throw listBug('remove from an empty list', loc);
  const desc = kvm.vm.rmapDesc;
  const first = -h - 1;
  // Find the hole, and the chain's last used slot (and that slot's descriptor's predecessor).
  let hole = -1;
  let prev = -1;
  let d = first;
  for (;;) {
    const b = d * RMAP_DESC_WORDS + RMAP_DESC_SPTE;
    for (let j = 0; j < PTE_LIST_EXT; j++) if (desc[b + j] === loc) hole = b + j;
    const next = desc[d * RMAP_DESC_WORDS + RMAP_DESC_NEXT]!;
    if (next < 0) break;
    prev = d;
    d = next;
  }
  if (hole < 0) throw listBug('remove', loc);
  const lb = d * RMAP_DESC_WORDS + RMAP_DESC_SPTE;
  let last = PTE_LIST_EXT - 1;
  while (desc[lb + last] === -1) last--;
  desc[hole] = desc[lb + last]!;
  desc[lb + last] = -1;
  if (last === 0) {
    // The tail descriptor is now empty.
    freeDesc(kvm, d);
    if (prev >= 0) desc[prev * RMAP_DESC_WORDS + RMAP_DESC_NEXT] = -1;
    else arr[idx] = 0;
  } else if (last === 1 && prev < 0) {
    // A single descriptor with one entry left: back to the descriptor-free form.
    arr[idx] = desc[lb]! + 1;
    freeDesc(kvm, d);
  }
}

function listBug(what: string, loc: number): KvmError {
  return new KvmError('EINVAL', `pte list: ${what} of SPTE location ${loc} failed: the list does not hold it (MMU bookkeeping bug)`);
}

/** The first location in the list, or -1 if it is empty. */
export function pteListFirst(kvm: Kvm, arr: Int32Array, idx: number): number {
  const h = arr[idx]!;
  if (h === 0) return -1;
  if (h > 0) return h - 1;
  return kvm.vm.rmapDesc[(-h - 1) * RMAP_DESC_WORDS + RMAP_DESC_SPTE]!;
}

/**
 * Copy the list into `out` (grown if needed) and return how many there are.
 * For callers that change SPTEs while they iterate.
 */
export function pteListCollect(kvm: Kvm, arr: Int32Array, idx: number, out: number[]): number {
  const h = arr[idx]!;
  if (h === 0) return 0;
  if (h > 0) {
    out[0] = h - 1;
    return 1;
  }
  const desc = kvm.vm.rmapDesc;
  let n = 0;
  for (let d = -h - 1; d >= 0; d = desc[d * RMAP_DESC_WORDS + RMAP_DESC_NEXT]!) {
    const b = d * RMAP_DESC_WORDS + RMAP_DESC_SPTE;
    for (let j = 0; j < PTE_LIST_EXT && desc[b + j] !== -1; j++) out[n++] = desc[b + j]!;
  }
  return n;
}

/** rmap_add: record that the leaf SPTE at loc maps gfn. mmu_lock held. */
export function rmapAdd(kvm: Kvm, loc: number, gfn: number): void {
  const idx = gfnToTableIndex(kvm.vm, gfn);
  if (idx >= 0) pteListAdd(kvm, kvm.vm.rmapHeads, idx, loc);
}

/** rmap_remove. mmu_lock held. */
export function rmapRemove(kvm: Kvm, loc: number, gfn: number): void {
  const idx = gfnToTableIndex(kvm.vm, gfn);
  if (idx >= 0) pteListRemove(kvm, kvm.vm.rmapHeads, idx, loc);
}

/** The SPTE locations mapping gfn (a copy: [] for a gfn in no memslot). */
export function rmapSptes(kvm: Kvm, gfn: number): number[] {
  const idx = gfnToTableIndex(kvm.vm, gfn);
  if (idx < 0) return [];
  const out: number[] = [];
  pteListCollect(kvm, kvm.vm.rmapHeads, idx, out);
  return out;
}

/**
 * drop_spte: zap the leaf SPTE at loc, which maps gfn: clear it tracking A/D
 * (mmu_spte_clear_track_bits) and take it out of the rmap. mmu_lock held.
 */
export function dropSpte(kvm: Kvm, loc: number, gfn: number): void {
  if (isRmapSpte(mmuSpteClearTrackBits(kvm.vm, loc))) rmapRemove(kvm, loc, gfn);
}

/**
 * rmap_write_protect: write-protect every SPTE mapping gfn, because gfn now
 * holds a guest page table we shadow (pt_protect: MMU_W is cleared too, so the
 * fast path cannot undo it, §6.2 F6). Returns true if a remote TLB flush is
 * needed before anyone relies on the protection. mmu_lock held.
 */
export function rmapWriteProtect(kvm: Kvm, gfn: number): boolean {
  const idx = gfnToTableIndex(kvm.vm, gfn);
  if (idx < 0) return false;
  const heads = kvm.vm.rmapHeads;
  const h = heads[idx]!;
  if (h === 0) return false;
  let flush = false;
  let protectedNow = 0;
  const spt = kvm.vm.spt;
  const one = (loc: number): void => {
    const before = Atomics.load(spt, loc);
    flush = spteWriteProtect(kvm.vm, loc, true) || flush;
    if (Atomics.load(spt, loc) !== before) protectedNow++;
  };
  if (h > 0) one(h - 1);
  else {
    const desc = kvm.vm.rmapDesc;
    for (let d = -h - 1; d >= 0; d = desc[d * RMAP_DESC_WORDS + RMAP_DESC_NEXT]!) {
      const b = d * RMAP_DESC_WORDS + RMAP_DESC_SPTE;
      for (let j = 0; j < PTE_LIST_EXT && desc[b + j] !== -1; j++) one(desc[b + j]!);
    }
  }
  if (protectedNow > 0) {
    Atomics.add(kvm.vm.stats, STAT_RMAP_WRITE_PROTECT, protectedNow);
    kvmEvent(kvm.events, EV_WRITE_PROTECT, kvm.self, gfn, protectedNow, WP_CAUSE_SHADOW_PT);
  }
  return flush;
}

/**
 * kvm_unmap_rmapp: zap every SPTE mapping gfn (the host is about to take the
 * page away: MMU notifier invalidation). Returns true if anything was zapped,
 * i.e. a remote TLB flush is needed. mmu_lock held.
 */
export function kvmUnmapRmapp(kvm: Kvm, gfn: number): boolean {
  const idx = gfnToTableIndex(kvm.vm, gfn);
  if (idx < 0) return false;
  const heads = kvm.vm.rmapHeads;
  let zapped = false;
  for (let loc = pteListFirst(kvm, heads, idx); loc >= 0; loc = pteListFirst(kvm, heads, idx)) {
    mmuSpteClearTrackBits(kvm.vm, loc);
    pteListRemove(kvm, heads, idx, loc);
    zapped = true;
  }
  return zapped;
}
