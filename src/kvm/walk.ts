// The guest page-table walker (KVM's FNAME(walk_addr) for Sv32): what the
// guest's own tables say about a virtual address, read from guest RAM.
//
// Sv32 (privileged spec, "Virtual Address Translation Process"): satp.PPN is
// the root table's frame; vpn[1] = va[31:22] indexes it, vpn[0] = va[21:12]
// the level-1 table. A PTE with V=0, or W=1 without R, is a page fault. R or X
// set makes it a leaf: at level 2 a 4 MiB megapage, whose PPN[0] must be 0
// (else a misaligned-superpage page fault). Leaf permissions: R/W/X with MXR
// (loads may use X pages), U pages only from U-mode or, with SUM, for S-mode
// loads and stores (never S-mode fetches), S pages never from U-mode.
// A PTE fetch outside RAM is an access fault (1/5/7); every other failure a
// page fault (12/13/15).
//
// As KVM's walker does, A (and D on a write) are set in the guest PTE with a
// compareExchange in guest RAM (update_accessed_dirty_bits); if the PTE changed
// meanwhile the walk starts over, as the spec requires of hardware. That write
// to the page-table page is a hypervisor write to guest memory: the page is
// marked dirty (log and host page).
//
// The walker records the PTE values and where they are, so the fault path can
// check under mmu_lock that the guest did not change them in between
// (FNAME(gpte_changed)).

import {
  CAUSE_FETCH_ACCESS, CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_ACCESS, CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_ACCESS,
  CAUSE_STORE_PAGE_FAULT,
} from '../cpu/causes.ts';
import { ACC_EXEC, ACC_WRITE, MSTATUS_MXR, MSTATUS_SUM, PRV_U } from '../cpu/memory.ts';
import { PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X } from '../cpu/sv32-walk.ts';
import { kvmReleasePfnClean, kvmSetPfnDirty } from './hostmem.ts';
import { PFN_NOSLOT, gfnToPfnProt, markPageDirty } from './memslot.ts';
import type { VmShared } from './shm.ts';
import { PAGE_WORDS } from './shm.ts';
import { ACC_EXEC_MASK, ACC_READ_MASK, ACC_USER_MASK, ACC_WRITE_MASK } from './spte.ts';

/** Indexed by access type (ACC_READ, ACC_WRITE, ACC_EXEC). */
const PAGE_FAULT = [CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT, CAUSE_FETCH_PAGE_FAULT];
const ACCESS_FAULT = [CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS, CAUSE_FETCH_ACCESS];

/** A walk result; one per vCPU, reused (no allocation per fault). */
export class GuestWalker {
  /** Level of the leaf: 1 for a 4 KiB page, 2 for a 4 MiB megapage. */
  level = 0;
  /** The 4 KiB guest frame accessed (for a megapage: its first gfn + vpn[0]). */
  gfn = 0;
  /**
   * pte_access: ACC_*_MASK bits the leaf grants, with write removed while
   * the guest's D bit is clear (protect_clean_gpte), so that the first write
   * faults and sets D.
   */
  pteAccess = 0;
  /** Guest PTE read at each level (index 2: root table, 1: leaf table), after A/D. */
  readonly ptes = new Int32Array(3);
  /** Word index in `ram` of each level's guest PTE. */
  readonly pteIndex = new Int32Array(3);
  /** gfn of the guest table walked at each level. */
  readonly tableGfn = new Int32Array(3);
  /** After a failed walk: the exception to raise (tval is the virtual address). */
  faultCause = 0;
}

/**
 * May an access of type `access` at privilege `priv` use a page with ACC_*
 * permissions `perm`? The same rule serves guest PTEs (converted) and SPTEs
 * (whose bits are the ACC_* positions). Not for M-mode (never paged).
 */
export function permitted(perm: number, access: number, priv: number, mstatus: number): boolean {
  if (priv === PRV_U) {
    if ((perm & ACC_USER_MASK) === 0) return false;
  } else if ((perm & ACC_USER_MASK) !== 0) {
    // S-mode never executes user pages; it loads/stores them only with SUM.
    if (access === ACC_EXEC || (mstatus & MSTATUS_SUM) === 0) return false;
  }
  if (access === ACC_EXEC) return (perm & ACC_EXEC_MASK) !== 0;
  if (access === ACC_WRITE) return (perm & ACC_WRITE_MASK) !== 0;
  return (perm & ACC_READ_MASK) !== 0 || ((mstatus & MSTATUS_MXR) !== 0 && (perm & ACC_EXEC_MASK) !== 0);
}

/** ACC_* permissions of a guest leaf PTE (gpte_access), before protect_clean_gpte. */
function gpteAccess(gpte: number): number {
  let acc = 0;
  if ((gpte & PTE_R) !== 0) acc |= ACC_READ_MASK;
  if ((gpte & PTE_W) !== 0) acc |= ACC_WRITE_MASK;
  if ((gpte & PTE_X) !== 0) acc |= ACC_EXEC_MASK;
  if ((gpte & PTE_U) !== 0) acc |= ACC_USER_MASK;
  return acc;
}

const RESTART = 2;

/**
 * walk_addr: walk the guest's Sv32 tables for (vaddr, access). True with `w`
 * filled in, or false with w.faultCause set.
 */
export function walkAddr(
  w: GuestWalker, vm: VmShared, vaddr: number, access: number, priv: number, satp: number, mstatus: number,
): boolean {
  for (;;) {
    const r = tryWalk(w, vm, vaddr >>> 0, access, priv, satp, mstatus);
    if (r !== RESTART) return r === 1;
  }
}

function fail(w: GuestWalker, cause: number): number {
  w.faultCause = cause;
  return 0;
}

function tryWalk(
  w: GuestWalker, vm: VmShared, va: number, access: number, priv: number, satp: number, mstatus: number,
): number {
  const ram = vm.ramI32;
  let table = satp & 0x3fffff;
  for (let level = 2; level >= 1; level--) {
    const vpn = level === 2 ? va >>> 22 : (va >>> 12) & 0x3ff;
    const host = gfnToPfnProt(vm, table, false);
    if (host === PFN_NOSLOT) return fail(w, ACCESS_FAULT[access]!);
    const pfn = host >>> 12;
    const idx = pfn * PAGE_WORDS + vpn;
    let gpte = Atomics.load(ram, idx);
    w.tableGfn[level] = table;
    w.pteIndex[level] = idx;
    if ((gpte & PTE_V) === 0 || (gpte & (PTE_R | PTE_W)) === PTE_W) {
      kvmReleasePfnClean(vm, pfn);
      return fail(w, PAGE_FAULT[access]!);
    }
    const ppn = gpte >>> 10;
    if ((gpte & (PTE_R | PTE_X)) === 0) {
      kvmReleasePfnClean(vm, pfn);
      if (level === 1) return fail(w, PAGE_FAULT[access]!); // a pointer where a leaf must be
      w.ptes[level] = gpte;
      table = ppn;
      continue;
    }
    if (!permitted(gpteAccess(gpte), access, priv, mstatus) || (level === 2 && (ppn & 0x3ff) !== 0)) {
      kvmReleasePfnClean(vm, pfn);
      return fail(w, PAGE_FAULT[access]!);
    }
    const need = PTE_A | (access === ACC_WRITE ? PTE_D : 0);
    if ((gpte & need) !== need) {
      const seen = Atomics.compareExchange(ram, idx, gpte, gpte | need);
      if (seen !== gpte) {
        kvmReleasePfnClean(vm, pfn);
        return RESTART;
      }
      gpte |= need;
      markPageDirty(vm, table);
      kvmSetPfnDirty(vm, pfn);
    }
    kvmReleasePfnClean(vm, pfn);
    w.ptes[level] = gpte;
    w.level = level;
    w.gfn = level === 2 ? (ppn & ~0x3ff) | ((va >>> 12) & 0x3ff) : ppn;
    let acc = gpteAccess(gpte);
    if ((gpte & PTE_D) === 0) acc &= ~ACC_WRITE_MASK; // protect_clean_gpte
    w.pteAccess = acc;
    return 1;
  }
  return fail(w, PAGE_FAULT[access]!);
}
