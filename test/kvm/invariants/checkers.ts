// Checkers for the invariants of kvm-semantics.md §6 (I1-I8, F1-F6, T1-T4).
//
// Each reads the real shared state (shadow pages, SPTEs, dirty bitmaps, rings,
// request and mode words) and returns the *violations* it finds: an empty
// list means the invariant holds. The tests in this directory call them after
// real operations (expecting []) and on states built broken on purpose
// (expecting the violation), so every checker is shown able to fail.
//
// They read without mmu_lock: call them when the VM is quiescent (no fault or
// host operation in flight), or take mmu_lock around them yourself.

import {
  IN_GUEST_MODE, KVCPU_FLUSH_ACK, KVCPU_MODE, KVCPU_REQUESTS, KVCPU_WORDS, KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_SLOTS_NUM, KVM_MMU_NOTIFIER_COUNT, KVM_REQ_TLB_FLUSH, DRING_DIRTY_INDEX, DRING_HDR_WORDS,
  DRING_RESET_INDEX, DRING_STRIDE, HOST_PTE_PRESENT, KVM_DIRTY_GFN_FLAGS, KVM_DIRTY_GFN_F_DIRTY,
  KVM_DIRTY_GFN_F_RESET, KVM_DIRTY_GFN_OFFSET_LO, KVM_DIRTY_GFN_SLOT, KVM_DIRTY_GFN_WORDS, PFN_ACCESSED, PFN_DIRTY,
  ROLE_DIRECT, ROLE_INVALID, SP_FLAGS, SP_FLAG_IN_USE, SP_GFN, SP_META_WORDS, SP_ROLE,
} from '../../../src/kvm/fields.ts';
import { kvmDirtyRingSize } from '../../../src/kvm/dirty-ring.ts';
import { gfnToMemslot, gfnToTableIndex } from '../../../src/kvm/memslot.ts';
import { kvmMmuPageGetGfn, spLevel } from '../../../src/kvm/mmu-page.ts';
import { kvmGetMemslot, type KvmMemslotInfo } from '../../../src/kvm/set-memory-region.ts';
import type { VmShared } from '../../../src/kvm/shm.ts';
import { PAGE_WORDS } from '../../../src/kvm/shm.ts';
import {
  SPTE_ACCESSED, SPTE_DIRTY, SPTE_HOST_WRITEABLE, SPTE_MMIO, SPTE_MMU_WRITEABLE, SPTE_PRESENT, SPTE_READ,
  SPTE_WRITABLE, isLastSpte, isShadowPresentPte, spteToPfn,
} from '../../../src/kvm/spte.ts';

const W = SPTE_WRITABLE;

// ── reading the shadow MMU ──────────────────────────────────────────────────

/** One present leaf SPTE as the checkers see it. */
export interface LeafSpte {
  loc: number;
  sp: number;
  gfn: number;
  spte: number;
  direct: boolean;
}

/** Every present leaf SPTE of every valid shadow page. */
export function leafSptes(vm: VmShared): LeafSpte[] {
  const out: LeafSpte[] = [];
  const meta = vm.spMeta;
  for (let sp = 0; sp < vm.config.shadowPages; sp++) {
    const m = sp * SP_META_WORDS;
    if ((meta[m + SP_FLAGS]! & SP_FLAG_IN_USE) === 0 || (meta[m + SP_ROLE]! & ROLE_INVALID) !== 0) continue;
    const level = spLevel(vm, sp);
    const direct = (meta[m + SP_ROLE]! & ROLE_DIRECT) !== 0;
    for (let i = 0; i < PAGE_WORDS; i++) {
      const loc = sp * PAGE_WORDS + i;
      const spte = Atomics.load(vm.spt, loc);
      if (!isShadowPresentPte(spte) || !isLastSpte(spte, level)) continue;
      out.push({ loc, sp, gfn: kvmMmuPageGetGfn(vm, sp, i), spte, direct });
    }
  }
  return out;
}

/** The logging memslot holding gfn and gfn's page index in it, or null. */
export function loggedPage(vm: VmShared, gfn: number): { slot: KvmMemslotInfo; page: number } | null {
  const id = gfnToMemslot(vm, gfn);
  if (id < 0) return null;
  const slot = kvmGetMemslot(vm, id);
  if (slot === null || (slot.flags & KVM_MEM_LOG_DIRTY_PAGES) === 0) return null;
  return { slot, page: gfn - slot.baseGfn };
}

/** bit(g): the live bitmap bit of page `page` of `slot`. */
export function dirtyBit(vm: VmShared, slot: KvmMemslotInfo, page: number): boolean {
  return ((Atomics.load(vm.dirtyBitmap, slot.dirtyBase + (page >>> 5)) >>> (page & 31)) & 1) !== 0;
}

/** The live bitmap words of a slot (a copy). */
export function liveBitmap(vm: VmShared, slotId: number): Uint32Array {
  const s = kvmGetMemslot(vm, slotId);
  if (s === null) return new Uint32Array(0);
  return Uint32Array.from(vm.dirtyBitmap.subarray(s.dirtyBase, s.dirtyBase + Math.ceil(s.npages / 32)));
}

/** Pages whose bit is set in a bitmap (bit i = page i). */
export function pagesIn(words: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let w = 0; w < words.length; w++) {
    for (let m = words[w]! >>> 0; m !== 0; m &= m - 1) out.push(w * 32 + 31 - Math.clz32(m & -m));
  }
  return out;
}

/** A ring entry that is pushed and not yet reset. */
export interface RingEntry {
  vcpu: number;
  index: number;
  flags: number;
  slot: number;
  offset: number;
}

/** The entries [reset_index, dirty_index) of every vCPU's ring. */
export function ringEntries(vm: VmShared): RingEntry[] {
  const size = kvmDirtyRingSize(vm);
  const out: RingEntry[] = [];
  if (size === 0) return out;
  const r = vm.view('dirty-ring');
  for (let v = 0; v < vm.config.vcpus; v++) {
    const b = v * DRING_STRIDE;
    const di = Atomics.load(r, b + DRING_DIRTY_INDEX);
    for (let i = Atomics.load(r, b + DRING_RESET_INDEX); i !== di; i = (i + 1) | 0) {
      const e = b + DRING_HDR_WORDS + (i & (size - 1)) * KVM_DIRTY_GFN_WORDS;
      out.push({
        vcpu: v, index: i, flags: Atomics.load(r, e + KVM_DIRTY_GFN_FLAGS), slot: Atomics.load(r, e + KVM_DIRTY_GFN_SLOT),
        offset: Atomics.load(r, e + KVM_DIRTY_GFN_OFFSET_LO) >>> 0,
      });
      if (out.length > size * vm.config.vcpus) break; // a corrupt index: do not loop forever
    }
  }
  return out;
}

// ── 6.1 dirty logging ───────────────────────────────────────────────────────

/**
 * I1 (the set form, once quiesced): the written gfns that no collection
 * reported. `written` and `collected` are sets of gfns.
 */
export function checkNoLostWrite(written: Iterable<number>, collected: ReadonlySet<number>): number[] {
  return [...new Set(written)].filter((g) => !collected.has(g)).sort((a, b) => a - b);
}

/**
 * I2: in a logging slot, W(g)=1 ⇒ g is logged: its bitmap bit is set, or (ring
 * VM) it sits in a ring entry not yet reset. Returns the violating gfns.
 */
export function checkWritableImpliesLogged(vm: VmShared): number[] {
  const inRing = new Set<string>();
  for (const e of ringEntries(vm)) inRing.add(`${e.slot & 0xffff}:${e.offset}`);
  const bad = new Set<number>();
  for (const l of leafSptes(vm)) {
    if ((l.spte & W) === 0) continue;
    const p = loggedPage(vm, l.gfn);
    if (p === null) continue;
    if (dirtyBit(vm, p.slot, p.page) || inRing.has(`${p.slot.slot}:${p.page}`)) continue;
    bad.add(l.gfn);
  }
  return [...bad].sort((a, b) => a - b);
}

/** Per-vCPU flush acknowledgement counters, taken before an operation. */
export function flushMark(vm: VmShared): number[] {
  const out: number[] = [];
  for (let v = 0; v < vm.config.vcpus; v++) out.push(Atomics.load(vm.kvmVcpu, v * KVCPU_WORDS + KVCPU_FLUSH_ACK));
  return out;
}

/**
 * The vCPUs that may still use a TLB entry from before `mark`: they have not
 * acknowledged a flush since, and either have no KVM_REQ_TLB_FLUSH pending or
 * are in guest mode with it pending (the requester should have waited).
 */
export function vcpusNotFlushed(vm: VmShared, mark: readonly number[]): number[] {
  const out: number[] = [];
  for (let v = 0; v < vm.config.vcpus; v++) {
    const b = v * KVCPU_WORDS;
    if (Atomics.load(vm.kvmVcpu, b + KVCPU_FLUSH_ACK) !== mark[v]) continue;
    const pending = (Atomics.load(vm.kvmVcpu, b + KVCPU_REQUESTS) & KVM_REQ_TLB_FLUSH) !== 0;
    if (pending && Atomics.load(vm.kvmVcpu, b + KVCPU_MODE) !== IN_GUEST_MODE) continue;
    out.push(v);
  }
  return out;
}

/**
 * I3: after GET_DIRTY_LOG (auto-protect) returned `reported` for slot
 * `slotId`: the reported pages that still have a writable SPTE, and the vCPUs
 * that neither flushed nor have the flush pending (`mark` taken before GET).
 */
export function checkProtectedAfterCollection(
  vm: VmShared, slotId: number, reported: ArrayLike<number>, mark: readonly number[],
): { writable: number[]; unflushed: number[] } {
  const slot = kvmGetMemslot(vm, slotId);
  const pages = new Set(pagesIn(reported));
  const writable = new Set<number>();
  if (slot !== null) {
    for (const l of leafSptes(vm)) {
      const page = l.gfn - slot.baseGfn;
      if ((l.spte & W) !== 0 && pages.has(page)) writable.add(page);
    }
  }
  const unflushed = pages.size > 0 ? vcpusNotFlushed(vm, mark) : [];
  return { writable: [...writable].sort((a, b) => a - b), unflushed };
}

/** Every logging slot's live bitmap (I4 snapshots). */
export function dirtySnapshot(vm: VmShared): Map<number, Uint32Array> {
  const out = new Map<number, Uint32Array>();
  for (let id = 0; id < KVM_MEM_SLOTS_NUM; id++) {
    const s = kvmGetMemslot(vm, id);
    if (s !== null && (s.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0) out.set(id, liveBitmap(vm, id));
  }
  return out;
}

/**
 * I4: the pages whose bit went 1 → 0 between two snapshots, as "slot:page".
 * Call around anything that is not a collection (faults, zaps, write
 * protection, host operations): it must return [].
 */
export function checkBitsOnlyClearedByCollection(before: Map<number, Uint32Array>, after: Map<number, Uint32Array>): string[] {
  const out: string[] = [];
  for (const [id, b] of before) {
    const a = after.get(id);
    for (let w = 0; w < b.length; w++) {
      const lost = (b[w]! & ~(a?.[w] ?? 0)) >>> 0;
      for (const p of pagesIn([lost])) out.push(`${id}:${w * 32 + p}`);
    }
  }
  return out;
}

/**
 * I5: bits at or past npages in a logging slot's last live word, as
 * "slot:page"; and ring entries naming no slot or a page past its end.
 */
export function checkBounds(vm: VmShared): { bits: string[]; ring: RingEntry[] } {
  const bits: string[] = [];
  for (let id = 0; id < KVM_MEM_SLOTS_NUM; id++) {
    const s = kvmGetMemslot(vm, id);
    if (s === null || (s.flags & KVM_MEM_LOG_DIRTY_PAGES) === 0 || s.npages % 32 === 0) continue;
    const last = Math.ceil(s.npages / 32) - 1;
    const beyond = (Atomics.load(vm.dirtyBitmap, s.dirtyBase + last) >>> (s.npages % 32)) << (s.npages % 32);
    for (const p of pagesIn([beyond >>> 0])) bits.push(`${id}:${last * 32 + p}`);
  }
  const ring = ringEntries(vm).filter((e) => {
    const s = (e.slot >>> 16) === 0 ? kvmGetMemslot(vm, e.slot & 0xffff) : null;
    return s === null || e.offset >= s.npages;
  });
  return { bits, ring };
}

/** Pages of slot `slotId` mapped by at least one writable SPTE. */
export function writablePages(vm: VmShared, slotId: number): Set<number> {
  const s = kvmGetMemslot(vm, slotId);
  const out = new Set<number>();
  if (s === null) return out;
  for (const l of leafSptes(vm)) {
    const p = l.gfn - s.baseGfn;
    if ((l.spte & W) !== 0 && p >= 0 && p < s.npages) out.add(p);
  }
  return out;
}

/**
 * I7: CLEAR_DIRTY_LOG must re-protect exactly (mask ∩ bits that were set) among
 * the pages that were writable, and leave every other page's protection alone.
 * Pages are slot page numbers. Returns the pages protected that should not
 * have been (`extra`) and those left writable that should not (`missed`).
 */
export function checkClearPrecision(
  mask: readonly number[], bitsBefore: readonly number[], writableBefore: ReadonlySet<number>,
  writableAfter: ReadonlySet<number>,
): { extra: number[]; missed: number[] } {
  const set = new Set(bitsBefore);
  const target = new Set(mask.filter((p) => set.has(p)));
  const extra: number[] = [];
  const missed: number[] = [];
  for (const p of writableBefore) {
    const lost = !writableAfter.has(p);
    if (lost && !target.has(p)) extra.push(p);
    if (!lost && target.has(p)) missed.push(p);
  }
  return { extra: extra.sort((a, b) => a - b), missed: missed.sort((a, b) => a - b) };
}

/**
 * I8: the ring state of every vCPU: 0 ≤ used ≤ size; entries pushed and not
 * reset are DIRTY or DIRTY|RESET; the others are 0 (free). Returns problems.
 */
export function checkRingProtocol(vm: VmShared): string[] {
  const size = kvmDirtyRingSize(vm);
  if (size === 0) return [];
  const out: string[] = [];
  const r = vm.view('dirty-ring');
  for (let v = 0; v < vm.config.vcpus; v++) {
    const b = v * DRING_STRIDE;
    const di = Atomics.load(r, b + DRING_DIRTY_INDEX);
    const ri = Atomics.load(r, b + DRING_RESET_INDEX);
    const used = (di - ri) | 0;
    if (used < 0 || used > size) {
      out.push(`vCPU ${v}: used = ${used} is outside 0..${size}`);
      continue;
    }
    for (let k = 0; k < size; k++) {
      const i = (ri + k) | 0;
      const flags = Atomics.load(r, b + DRING_HDR_WORDS + (i & (size - 1)) * KVM_DIRTY_GFN_WORDS + KVM_DIRTY_GFN_FLAGS);
      const live = k < used;
      const ok = live ? flags === KVM_DIRTY_GFN_F_DIRTY || flags === (KVM_DIRTY_GFN_F_DIRTY | KVM_DIRTY_GFN_F_RESET) : flags === 0;
      if (!ok) out.push(`vCPU ${v}: entry ${i} (${live ? 'pushed' : 'free'}) has flags ${flags}`);
    }
  }
  return out;
}

// ── 6.2 fast page fault and volatile SPTEs ──────────────────────────────────

/** F1: the bits other than W that differ between the value the fast path read and what it left. */
export function checkOnlyWChanged(observed: number, after: number): number {
  return (observed ^ after) & ~W;
}

/**
 * F2: a fast fix (W 0 → 1 from `observed` to `after`) is allowed only if
 * HOST_W and MMU_W were both set in `observed` and the page is direct.
 * Returns the reason it was not allowed, or null.
 */
export function checkFastFixAllowed(observed: number, after: number, direct: boolean): string | null {
  if ((observed & W) !== 0 || (after & W) === 0) return null; // not a fix
  if (!direct) return 'W set on an indirect shadow page (the gfn→pfn ABA problem)';
  if ((observed & SPTE_HOST_WRITEABLE) === 0) return 'W set without HOST_WRITEABLE';
  if ((observed & SPTE_MMU_WRITEABLE) === 0) return 'W set without MMU_WRITEABLE';
  return null;
}

/**
 * The values a leaf SPTE can become *without* mmu_lock: the hardware walk
 * sets A (and D on a write through W), the fast page fault sets W when HOST_W
 * and MMU_W are both set.
 */
export function locklessSuccessors(spte: number): number[] {
  if ((spte & SPTE_PRESENT) === 0) return [];
  const out = new Set<number>();
  const grow = (s: number): void => {
    const next = [s | SPTE_ACCESSED];
    if ((s & W) !== 0) next.push(s | SPTE_ACCESSED | SPTE_DIRTY);
    if ((s & (SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE)) === (SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE)) next.push(s | W);
    for (const n of next) {
      if (n !== s && !out.has(n)) {
        out.add(n);
        grow(n);
      }
    }
  };
  grow(spte);
  return [...out];
}

/** The flag bits F4's enumeration varies (a fixed pfn and R around them). */
const F4_BITS = [SPTE_PRESENT, W, SPTE_ACCESSED, SPTE_DIRTY, SPTE_HOST_WRITEABLE, SPTE_MMU_WRITEABLE, SPTE_MMIO];

/**
 * F4: every SPTE value that something can change outside mmu_lock must count
 * as volatile, or a plain read-then-store could lose that change. Returns the
 * values (over all combinations of the flag bits) that `isVolatile` calls
 * stable although a lockless successor exists.
 */
export function checkVolatilityCovers(isVolatile: (spte: number) => boolean): number[] {
  const out: number[] = [];
  for (let m = 0; m < 1 << F4_BITS.length; m++) {
    let s = SPTE_READ | (7 << 12);
    F4_BITS.forEach((bit, i) => {
      if ((m >>> i) & 1) s |= bit;
    });
    if ((s & SPTE_MMIO) !== 0 && (s & SPTE_PRESENT) !== 0) continue; // not an encoding
    if (!isVolatile(s) && locklessSuccessors(s).length > 0) out.push(s);
  }
  return out;
}

/**
 * F5: an SPTE that went from `old` to `now` must not have lost A or D: if old
 * had D and now has not, the host page must be dirty; A likewise accessed.
 * `pfnFlags` is the host page's PFN_* word afterwards. Returns 'A', 'D', 'AD' or ''.
 */
export function checkAdCarried(old: number, now: number, pfnFlags: number): string {
  if ((old & SPTE_PRESENT) === 0) return '';
  let lost = '';
  if ((old & SPTE_ACCESSED) !== 0 && (now & SPTE_ACCESSED) === 0 && (pfnFlags & PFN_ACCESSED) === 0) lost += 'A';
  if ((old & SPTE_DIRTY) !== 0 && (now & SPTE_DIRTY) === 0 && (pfnFlags & PFN_DIRTY) === 0) lost += 'D';
  return lost;
}

/**
 * F6 (dirty-log side): SPTE locations that had MMU_WRITEABLE in `before` (a
 * copy of vm.spt) and lost it although still present with the same pfn.
 * Dirty-log protection must never do that.
 */
export function checkMmuWritableKept(before: Int32Array, after: Int32Array): number[] {
  const out: number[] = [];
  for (let loc = 0; loc < before.length; loc++) {
    const b = before[loc]!;
    const a = after[loc]!;
    if ((b & (SPTE_PRESENT | SPTE_MMU_WRITEABLE)) !== (SPTE_PRESENT | SPTE_MMU_WRITEABLE)) continue;
    if ((a & SPTE_PRESENT) === 0 || spteToPfn(a) !== spteToPfn(b)) continue; // zapped or remapped
    if ((a & SPTE_MMU_WRITEABLE) === 0) out.push(loc);
  }
  return out;
}

/**
 * F6 (shadow side): gfns holding a guest page table we shadow (a valid
 * indirect shadow page is keyed by them) that some leaf SPTE maps with W or
 * MMU_W set: the fast path could then make a shadowed table writable.
 */
export function checkShadowedTablesProtected(vm: VmShared): number[] {
  const tables = new Set<number>();
  const meta = vm.spMeta;
  for (let sp = 0; sp < vm.config.shadowPages; sp++) {
    const m = sp * SP_META_WORDS;
    if ((meta[m + SP_FLAGS]! & SP_FLAG_IN_USE) === 0) continue;
    if ((meta[m + SP_ROLE]! & (ROLE_DIRECT | ROLE_INVALID)) === 0) tables.add(meta[m + SP_GFN]!);
  }
  const bad = new Set<number>();
  for (const l of leafSptes(vm)) {
    if (tables.has(l.gfn) && (l.spte & (W | SPTE_MMU_WRITEABLE)) !== 0) bad.add(l.gfn);
  }
  return [...bad].sort((a, b) => a - b);
}

// ── 6.3 TLB flushing ────────────────────────────────────────────────────────

/**
 * T1: SPTE locations that were writable in `before` (a copy of vm.spt) and are
 * no longer (W cleared, zapped, or remapped), while some vCPU has not flushed
 * since `mark` (flushMark before the operation) and has no flush pending.
 * [] when every W → 0 transition is covered by a flush.
 */
export function checkFlushAfterWriteProtect(vm: VmShared, before: Int32Array, mark: readonly number[]): number[] {
  const downgraded: number[] = [];
  for (let loc = 0; loc < before.length; loc++) {
    const b = before[loc]!;
    if ((b & (SPTE_PRESENT | W)) !== (SPTE_PRESENT | W)) continue;
    const a = Atomics.load(vm.spt, loc);
    if ((a & (SPTE_PRESENT | W)) !== (SPTE_PRESENT | W) || spteToPfn(a) !== spteToPfn(b)) downgraded.push(loc);
  }
  if (downgraded.length === 0 || vcpusNotFlushed(vm, mark).length === 0) return [];
  return downgraded;
}

/** T4: gfns in [start, end) that some present leaf SPTE maps. */
export function sptesInRange(vm: VmShared, start: number, end: number): number[] {
  return [...new Set(leafSptes(vm).filter((l) => l.gfn >= start && l.gfn < end).map((l) => l.gfn))].sort((a, b) => a - b);
}

/** T4 while an invalidation is running (count ≠ 0): the SPTEs installed in its range since it started. */
export function checkNoSpteDuringInvalidation(vm: VmShared, start: number, end: number): number[] {
  if (Atomics.load(vm.kvm, KVM_MMU_NOTIFIER_COUNT) === 0) return [];
  return sptesInRange(vm, start, end);
}

/**
 * T4 (the outcome): leaf SPTEs whose pfn is not the host page currently
 * backing their gfn (the host PTE), e.g. a pfn a fault looked up before an
 * invalidation and installed after it. Returns the gfns.
 */
export function checkSptesMatchHost(vm: VmShared): number[] {
  const bad = new Set<number>();
  for (const l of leafSptes(vm)) {
    const idx = gfnToTableIndex(vm, l.gfn);
    if (idx < 0) continue;
    const pte = Atomics.load(vm.gfnTable, idx);
    if ((pte & HOST_PTE_PRESENT) === 0 || pte >>> 12 !== spteToPfn(l.spte)) bad.add(l.gfn);
  }
  return [...bad].sort((a, b) => a - b);
}
