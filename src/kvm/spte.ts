// The shadow page table entry (SPTE) and the primitives that change it.
//
// An SPTE is one Int32 word of region 'spt', so every update is a single
// Atomics operation. Layout (bit 31 .. 0):
//
//   31                    12 11     10     9    8  7  6   5   4   3   2   1   0
//  +-----------------------+------+------+----+-----+---+---+---+---+---+---+---+
//  | pfn (leaf)            |MMU_W |HOST_W|MMIO| --- | D | A | R | X | U | W | P |
//  | child sp index (table)|      |      |    |     |   |   |   |   |   |   |   |
//  | gfn (MMIO SPTE)       |      |      |    |     |   |   |   |   |   |   |   |
//  +-----------------------+------+------+----+-----+---+---+---+---+---+---+---+
//
//   P  bit 0   present: the "hardware" walk may use it
//   W  bit 1   writable (PT_WRITABLE_MASK)
//   U  bit 2   user page (U-mode may access; S-mode only with SUM, never execute)
//   X  bit 3   executable
//   R  bit 4   readable
//   A  bit 5   accessed: set by the hardware walk with Atomics.or
//   D  bit 6   dirty: set by the hardware walk on a write, with Atomics.or
//   MMIO bit 9 an MMIO SPTE (P clear): bits 12-31 hold the gfn and the access
//              bits the guest's PTE grants, so an MMIO access is answered
//              without the slow path (KVM's mmio sptes)
//   HOST_W bit 10  SPTE_HOST_WRITEABLE: the host page may be written
//   MMU_W  bit 11  SPTE_MMU_WRITEABLE: the guest's PTE allows writing *and* the
//              gfn is not write-protected because it shadows a guest page table
//   bits 12-31 the pfn for a leaf, the child shadow page for a non-leaf entry
//
// Bit positions 0-2, 5, 6, 10 and 11 are those of x86 KVM 3.6 (§2.1). A
// non-leaf entry is P with R/W/X clear, as a RISC-V PTE pointing to the next
// level; our level-2 entries are always non-leaf (4 MiB guest pages are shadowed
// by 4 KiB SPTEs in a direct page), so a leaf is always at level 1.
//
// The "hardware" (vcpu-mmu.ts) sets A/D outside mmu_lock and the fast page
// fault sets W outside mmu_lock, so an SPTE that could change that way is
// *volatile* and may only be cleared or downgraded with an atomic exchange
// whose return value is authoritative (§2.5, locking.txt "Dirty bit tracking").

import type { VmShared } from './shm.ts';
import { kvmSetPfnAccessed, kvmSetPfnDirty } from './hostmem.ts';
import { kvmUnsafe, UNSAFE_PLAIN_SPTE_CLEAR } from './unsafe.ts';
import { RACE_ARMED, RP_SPTE_AFTER_READ, RP_SPTE_BEFORE_FLUSH_DECISION, racePoint } from './race/pause-points.ts';

/**
 * Race-lab hook (null in normal runs, per thread): called by mmuSpteUpdate and
 * mmuSpteClearTrackBits right after they read the old SPTE, i.e. inside the
 * window where another CPU's A/D or fast-path W update could land. Tests use
 * it to replay locking.txt's lost-dirty-bit race deterministically.
 */
export const spteRaceHooks: { afterRead: ((loc: number) => void) | null } = { afterRead: null };

/**
 * Store `spte` at loc and return the value it replaced: an exchange when the
 * old value `old` is volatile (its return value is the truth), a plain store
 * otherwise. With the 'plain-clear' switch on, always a plain store, and the
 * stale `old` is returned (F4 broken).
 */
function spteReplace(vm: VmShared, loc: number, old: number, spte: number): number {
  if (spteRaceHooks.afterRead !== null) spteRaceHooks.afterRead(loc);
  if (vm.race[RACE_ARMED] !== 0) racePoint(vm, RP_SPTE_AFTER_READ, loc); // race lab
  if (spteHasVolatileBits(old) && (kvmUnsafe(vm) & UNSAFE_PLAIN_SPTE_CLEAR) === 0) return Atomics.exchange(vm.spt, loc, spte);
  Atomics.store(vm.spt, loc, spte);
  return old;
}

export const SPTE_PRESENT = 1 << 0;
export const SPTE_WRITABLE = 1 << 1;
export const SPTE_USER = 1 << 2;
export const SPTE_EXEC = 1 << 3;
export const SPTE_READ = 1 << 4;
export const SPTE_ACCESSED = 1 << 5;
export const SPTE_DIRTY = 1 << 6;
export const SPTE_MMIO = 1 << 9;
export const SPTE_HOST_WRITEABLE = 1 << 10;
export const SPTE_MMU_WRITEABLE = 1 << 11;
export const SPTE_PFN_SHIFT = 12;
/** The R/W/X bits: all clear in a non-leaf entry. */
export const SPTE_PERM_MASK = SPTE_READ | SPTE_WRITABLE | SPTE_EXEC;

// Access permissions (pte_access) as the fault path carries them: the same bit
// positions as in the SPTE, so `spte |= access` applies them.
export const ACC_READ_MASK = SPTE_READ;
export const ACC_WRITE_MASK = SPTE_WRITABLE;
export const ACC_EXEC_MASK = SPTE_EXEC;
export const ACC_USER_MASK = SPTE_USER;
export const ACC_ALL = ACC_READ_MASK | ACC_WRITE_MASK | ACC_EXEC_MASK | ACC_USER_MASK;

/** pfn (leaf), child page (non-leaf) or gfn (MMIO SPTE) of an SPTE. */
export function spteToPfn(spte: number): number {
  return spte >>> SPTE_PFN_SHIFT;
}

/** is_shadow_present_pte: present to the walk (MMIO SPTEs are not). */
export function isShadowPresentPte(spte: number): boolean {
  return (spte & SPTE_PRESENT) !== 0;
}

/** is_mmio_spte. */
export function isMmioSpte(spte: number): boolean {
  return (spte & SPTE_MMIO) !== 0;
}

/** is_rmap_spte: a present SPTE is a leaf that is in an rmap, or a table link. */
export function isRmapSpte(spte: number): boolean {
  return isShadowPresentPte(spte);
}

/** is_last_spte: a leaf at this level (level 1 always; level 2 never, here). */
export function isLastSpte(spte: number, level: number): boolean {
  return level === 1 || (spte & SPTE_PERM_MASK) !== 0;
}

/** is_writable_pte. */
export function isWritablePte(spte: number): boolean {
  return (spte & SPTE_WRITABLE) !== 0;
}

/**
 * spte_is_locklessly_modifiable: HOST_W and MMU_W both set, i.e. the fast page
 * fault may set W with a cmpxchg outside mmu_lock (§2.3 step 6).
 */
export function spteIsLocklesslyModifiable(spte: number): boolean {
  return (spte & (SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE)) === (SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE);
}

/**
 * spte_has_volatile_bits (3.6 rule, §2.5): could this SPTE change under an
 * mmu_lock holder? Yes if the fast path may set W; else, for a present SPTE
 * (our "hardware" always supports A/D), if A is clear (the walk may set A) or
 * W is set with D clear (a write may set D). Not for non-present SPTEs.
 */
export function spteHasVolatileBits(spte: number): boolean {
  if (spteIsLocklesslyModifiable(spte)) return true;
  if (!isShadowPresentPte(spte)) return false;
  if ((spte & SPTE_ACCESSED) === 0) return true;
  return (spte & (SPTE_WRITABLE | SPTE_DIRTY)) === SPTE_WRITABLE;
}

/** mmu_spte_set: non-present -> present. Nothing else can race a non-present SPTE. */
export function mmuSpteSet(spt: Int32Array, loc: number, spte: number): void {
  Atomics.store(spt, loc, spte);
}

/**
 * mmu_spte_update: present -> present with the same pfn (a non-present old
 * SPTE is simply set). A plain store when the old SPTE is not volatile, else
 * an exchange whose returned value is the truth. A or D cleared by the update
 * is carried to the host page. Returns true iff a TLB flush is needed: the old
 * SPTE was writable and the new one is not (§2.5, locking.txt "flush tlbs due
 * to spte updated").
 */
export function mmuSpteUpdate(vm: VmShared, loc: number, spte: number): boolean {
  const spt = vm.spt;
  let old = Atomics.load(spt, loc);
  if (!isShadowPresentPte(old)) {
    mmuSpteSet(spt, loc, spte);
    return false;
  }
  old = spteReplace(vm, loc, old, spte);
  const pfn = spteToPfn(old);
  if ((old & SPTE_ACCESSED) !== 0 && (spte & SPTE_ACCESSED) === 0) kvmSetPfnAccessed(vm, pfn);
  if ((old & SPTE_DIRTY) !== 0 && (spte & SPTE_DIRTY) === 0) kvmSetPfnDirty(vm, pfn);
  if (vm.race[RACE_ARMED] !== 0) racePoint(vm, RP_SPTE_BEFORE_FLUSH_DECISION, loc); // race lab
  return isWritablePte(old) && !isWritablePte(spte);
}

/**
 * mmu_spte_clear_track_bits: present leaf -> 0, by the same volatility rule,
 * then carry the old A and D to the host page. Returns the old SPTE.
 */
export function mmuSpteClearTrackBits(vm: VmShared, loc: number): number {
  const old = spteReplace(vm, loc, Atomics.load(vm.spt, loc), 0);
  if (!isRmapSpte(old)) return old;
  const pfn = spteToPfn(old);
  if ((old & SPTE_ACCESSED) !== 0) kvmSetPfnAccessed(vm, pfn);
  if ((old & SPTE_DIRTY) !== 0) kvmSetPfnDirty(vm, pfn);
  return old;
}

/** mmu_spte_clear_no_track: clear a non-leaf or MMIO SPTE (no A/D to keep). */
export function mmuSpteClearNoTrack(spt: Int32Array, loc: number): void {
  Atomics.store(spt, loc, 0);
}

/**
 * spte_write_protect (§2.6): clear W; with ptProtect (the gfn now shadows a
 * guest page table) also MMU_W, so the fast path can never restore W. Dirty
 * logging passes ptProtect = false and keeps MMU_W. Returns true if a TLB
 * flush is needed. mmu_lock held.
 */
export function spteWriteProtect(vm: VmShared, loc: number, ptProtect: boolean): boolean {
  const spte = Atomics.load(vm.spt, loc);
  if (!isWritablePte(spte) && !(ptProtect && spteIsLocklesslyModifiable(spte))) return false;
  let next = spte & ~SPTE_WRITABLE;
  if (ptProtect) next &= ~SPTE_MMU_WRITEABLE;
  return mmuSpteUpdate(vm, loc, next);
}
