// The swap area: where kvmSwapOutPage (host-ops.ts) keeps a page's contents
// while its pfn is back in the pool, and the swap-in that gfnToPfnProt does
// on the next touch (do_swap_page).
//
// State in hv (fields.ts, shm.ts):
//   'swap'      kvmSwapSlots(config) slots of PAGE_WORDS words: the contents;
//   'swap-map'  SWAP_MAP_HDR_WORDS header words (SWAP_USED, SWAP_OUTS,
//               SWAP_INS), then a bitmap, bit set = slot in use. Zero (every
//               slot free) is the initial state, so createVm needs no setup.
// A swapped-out gfn's host PTE ('gfn-table') is (slot << 12) | HOST_PTE_SWAPPED,
// PRESENT clear. While a page is being copied in either direction the word
// also has HOST_PTE_LOCKED (the page lock): only the thread that set LOCKED
// reads or writes the slot, so a slot freed and reused by a later swap-out can
// never be read half-written by a late swap-in (the ABA the lock prevents).
// Threads that find LOCKED wait for the holder (a 4 KiB copy) and look again.
//
// Swap-in needs no MMU notifier: a swapped-out gfn has no SPTEs (swap-out
// zapped them and a fault cannot install one for a non-present host PTE),
// exactly like a first touch.

import { KvmError } from './errors.ts';
import {
  HOST_PTE_LOCKED, HOST_PTE_PRESENT, HOST_PTE_SWAPPED, HOST_PTE_WRITABLE, SWAP_INS, SWAP_MAP_HDR_WORDS,
  SWAP_OUTS, SWAP_USED,
} from './fields.ts';
import { kvmAllocPfn } from './hostmem.ts';
import type { VmShared } from './shm.ts';
import { PAGE_SHIFT, PAGE_WORDS } from './shm.ts';

/** Number of swap slots of this VM. */
export function swapSlotCount(vm: VmShared): number {
  return vm.view('swap').length / PAGE_WORDS;
}

/** Slots in use right now. */
export function swapUsed(vm: VmShared): number {
  return Atomics.load(vm.view('swap-map'), SWAP_USED);
}

/** Take a free slot (lock-free, bitmap + compareExchange), or -1 if the area is full. */
export function swapAllocSlot(vm: VmShared): number {
  const map = vm.view('swap-map');
  const n = swapSlotCount(vm);
  for (let i = 0; i * 32 < n; i++) {
    const w = SWAP_MAP_HDR_WORDS + i;
    let word = Atomics.load(map, w);
    for (;;) {
      const free = ~word & (i * 32 + 32 <= n ? -1 : (1 << (n - i * 32)) - 1);
      if (free === 0) break;
      const bit = free & -free;
      const seen = Atomics.compareExchange(map, w, word, word | bit);
      if (seen === word) {
        Atomics.add(map, SWAP_USED, 1);
        return i * 32 + (31 - Math.clz32(bit));
      }
      word = seen;
    }
  }
  return -1;
}

/** Give a slot back. */
export function swapFreeSlot(vm: VmShared, slot: number): void {
  const map = vm.view('swap-map');
  Atomics.and(map, SWAP_MAP_HDR_WORDS + (slot >>> 5), ~(1 << (slot & 31)));
  Atomics.sub(map, SWAP_USED, 1);
}

/** Copy host page pfn into a slot (swap-out; the caller holds the page lock). */
export function swapWriteSlot(vm: VmShared, slot: number, pfn: number): void {
  const at = pfn * PAGE_WORDS;
  vm.view('swap').set(vm.ramI32.subarray(at, at + PAGE_WORDS), slot * PAGE_WORDS);
  Atomics.add(vm.view('swap-map'), SWAP_OUTS, 1);
}

/** The words of a slot (a live view: tests and the UI read swapped contents). */
export function swapSlotWords(vm: VmShared, slot: number): Int32Array {
  return vm.view('swap').subarray(slot * PAGE_WORDS, slot * PAGE_WORDS + PAGE_WORDS);
}

/**
 * do_swap_page, called by gfnToPfnProt when gfn's host PTE (at table index
 * idx) is `pte` with HOST_PTE_SWAPPED: lock the entry, bring the contents into
 * a fresh pfn, publish it writable and free the slot. If another thread holds
 * the entry locked, or changed it, do nothing: the caller looks again.
 * Throws ENOMEM (entry unchanged) if the pool is empty.
 */
export function kvmSwapInPage(vm: VmShared, idx: number, pte: number, gfn: number): void {
  const table = vm.gfnTable;
  if ((pte & HOST_PTE_LOCKED) !== 0) return; // someone is copying: look again
  if (Atomics.compareExchange(table, idx, pte, pte | HOST_PTE_LOCKED) !== pte) return;
  const pfn = kvmAllocPfn(vm);
  if (pfn < 0) {
    Atomics.store(table, idx, pte);
    throw new KvmError('ENOMEM', `swap-in: host page pool exhausted (${vm.config.poolPfns} pages) bringing back gfn 0x${gfn.toString(16)}`);
  }
  const slot = pte >>> PAGE_SHIFT;
  vm.ramI32.set(swapSlotWords(vm, slot), pfn * PAGE_WORDS);
  Atomics.store(table, idx, (pfn << PAGE_SHIFT) | HOST_PTE_PRESENT | HOST_PTE_WRITABLE);
  swapFreeSlot(vm, slot);
  Atomics.add(vm.view('swap-map'), SWAP_INS, 1);
}

/** Is this host PTE a swapped-out page (locked or not)? */
export function hostPteIsSwapped(pte: number): boolean {
  return (pte & HOST_PTE_SWAPPED) !== 0;
}
