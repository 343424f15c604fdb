// Dirty logging at the KVM level (reference §2.7, §2.12, §6.1 I1-I5, I7):
// enabling write-protects the slot, GET_DIRTY_LOG in the 3.6 order, manual
// protect with CLEAR_DIRTY_LOG, INITIALLY_SET. Single-threaded: the vCPU is
// never in guest mode, so remote flushes set the request and never wait.
import { afterEach, describe, expect, it } from 'vitest';
import { ACC_READ, ACC_WRITE } from '../../src/cpu/memory.ts';
import {
  KVM_CAP_DIRTY_LOG_RING, KVM_DIRTY_RING_RSVD_ENTRIES, kvmDirtyRingCheckRequest, kvmDirtyRingHarvest, kvmDirtyRingUsed,
  kvmSetRunningVcpu,
} from '../../src/kvm/dirty-ring.ts';
import {
  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KVM_DIRTY_LOG_INITIALLY_SET, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE, kvmClearDirtyLog,
  kvmEnableCap, kvmGetDirtyLog, kvmResetDirtyRings, type KvmClearDirtyLog,
} from '../../src/kvm/dirtylog.ts';
import { errnoOf } from './errno.ts';
import {
  DRING_HDR_WORDS, DRING_STRIDE, FLUSH_CAUSE_DIRTY_LOG, KVCPU_REQUESTS, KVM_DIRTY_GFN_FLAGS, KVM_DIRTY_GFN_F_DIRTY,
  KVM_DIRTY_GFN_F_RESET, KVM_DIRTY_GFN_WORDS, KVM_REQ_DIRTY_RING_SOFT_FULL, STAT_DIRTY_MARKED, KVCPU_STAT_FAST_PF_FIXED, KVCPU_WORDS, KVM_MEM_LOG_DIRTY_PAGES, KVM_REQ_TLB_FLUSH,
  MEMSLOT_DIRTY_BASE, MEMSLOT_WORDS, STAT_FLUSH_CAUSE,
} from '../../src/kvm/fields.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import { markPageDirty } from '../../src/kvm/memslot.ts';
import { kvmSetUserMemoryRegion } from '../../src/kvm/set-memory-region.ts';
import type { VmShared } from '../../src/kvm/shm.ts';
import { SPTE_MMU_WRITEABLE, SPTE_PRESENT, SPTE_WRITABLE } from '../../src/kvm/spte.ts';
import { RAM_GFN, mmuLockAcquired, type TestVcpu } from './mmu-helpers.ts';
import {
  RAM_PAGES, SLOT1, SLOT1_PAGES, setLogging, setup as invariantSetup, spteOf as leafSpteOf, touch,
} from './invariants/setup.ts';

const LOG = KVM_MEM_LOG_DIRTY_PAGES;

interface Setup {
  vm: VmShared;
  kvm: Kvm; // the VMM thread's
  v: TestVcpu;
}

function setup(): Setup {
  const { vm, kvm, vcpus } = invariantSetup();
  return { vm, kvm, v: vcpus[0]! };
}

/** The leaf SPTE mapping page `page` of a slot in the vCPU's direct map (0 if none). */
function spteOf(_vm: VmShared, v: TestVcpu, page: number, slot = 0): number {
  return leafSpteOf(v, page, slot)[1];
}

function liveWords(vm: VmShared, slot = 0): number[] {
  const b = vm.memslots[slot * MEMSLOT_WORDS + MEMSLOT_DIRTY_BASE]!;
  const n = Math.ceil((slot === 0 ? RAM_PAGES : SLOT1_PAGES) / 32);
  return Array.from(vm.dirtyBitmap.subarray(b, b + n), (w) => w >>> 0);
}

function scratchWords(vm: VmShared, slot = 0): number[] {
  const n = Math.ceil((slot === 0 ? RAM_PAGES : SLOT1_PAGES) / 32);
  const b = vm.memslots[slot * MEMSLOT_WORDS + MEMSLOT_DIRTY_BASE]! + n;
  return Array.from(vm.dirtyBitmap.subarray(b, b + n), (w) => w >>> 0);
}

function isSet(words: ArrayLike<number>, page: number): boolean {
  return ((words[page >>> 5]! >>> (page & 31)) & 1) !== 0;
}

function pagesOf(words: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let p = 0; p < words.length * 32; p++) if (isSet(words, p)) out.push(p);
  return out;
}

const dirtyLogFlushes = (vm: VmShared): number => vm.stats[STAT_FLUSH_CAUSE + FLUSH_CAUSE_DIRTY_LOG]!;
const flushPending = (vm: VmShared, vcpu = 0): boolean => (vm.kvmVcpu[vcpu * KVCPU_WORDS + KVCPU_REQUESTS]! & KVM_REQ_TLB_FLUSH) !== 0;
const vstat = (vm: VmShared, field: number): number => vm.kvmVcpu[field]!;

/** W and MMU_W of an SPTE, as a string a failed expectation can show. */
function wbits(spte: number): string {
  return `${(spte & SPTE_PRESENT) !== 0 ? 'P' : '-'}${(spte & SPTE_WRITABLE) !== 0 ? 'W' : '-'}${(spte & SPTE_MMU_WRITEABLE) !== 0 ? 'M' : '-'}`;
}

function manual(kvm: Kvm, bits = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE): void {
  kvmEnableCap(kvm, { cap: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, flags: 0, args: [bits] });
}

function clearLog(kvm: Kvm, slot: number, firstPage: number, numPages: number, pages: number[], words?: number): void {
  const bitmap = new Uint32Array(words ?? Math.ceil(numPages / 32));
  for (const p of pages) bitmap[(p - firstPage) >>> 5]! |= 1 << ((p - firstPage) & 31);
  const log: KvmClearDirtyLog = { slot, firstPage, numPages, bitmap };
  kvmClearDirtyLog(kvm, log);
}

describe('enabling KVM_MEM_LOG_DIRTY_PAGES', () => {
  it('write-protects every mapped page of the slot, keeps MMU_WRITEABLE, and flushes remote TLBs', () => {
    const { vm, kvm, v } = setup();
    for (const p of [1, 2, 33, 500]) touch(v, p, ACC_WRITE);
    touch(v, 7, ACC_READ);
    for (const p of [1, 2, 33, 500, 7]) expect(wbits(spteOf(vm, v, p))).toBe('PWM');
    const flushes = dirtyLogFlushes(vm);
    setLogging(kvm, true);
    for (const p of [1, 2, 33, 500, 7]) expect(wbits(spteOf(vm, v, p)), `page ${p}`).toBe('P-M');
    expect(dirtyLogFlushes(vm)).toBe(flushes + 1);
    expect(flushPending(vm)).toBe(true);
    expect(liveWords(vm).every((w) => w === 0)).toBe(true); // writes before enable are not logged
  });

  it('starts from a cleared bitmap when logging is turned on again', () => {
    const { vm, kvm, v } = setup();
    setLogging(kvm, true);
    touch(v, 9, ACC_WRITE);
    expect(pagesOf(liveWords(vm))).toEqual([9]);
    setLogging(kvm, false);
    setLogging(kvm, true);
    expect(pagesOf(liveWords(vm))).toEqual([]);
    expect(wbits(spteOf(vm, v, 9))).toBe('P-M');
  });
});

describe('KVM_GET_DIRTY_LOG (auto-protect, 3.6 order)', () => {
  it('EINVAL for a slot id out of range, ENOENT for an empty slot or one that does not log', () => {
    const { kvm } = setup();
    expect(errnoOf(() => kvmGetDirtyLog(kvm, 32))).toBe('EINVAL');
    expect(errnoOf(() => kvmGetDirtyLog(kvm, -1))).toBe('EINVAL');
    expect(errnoOf(() => kvmGetDirtyLog(kvm, 1.5))).toBe('EINVAL');
    expect(errnoOf(() => kvmGetDirtyLog(kvm, 5))).toBe('ENOENT');
    expect(errnoOf(() => kvmGetDirtyLog(kvm, 0))).toBe('ENOENT'); // slot 0 exists, logging off
    setLogging(kvm, true);
    expect(errnoOf(() => kvmGetDirtyLog(kvm, 0))).toBe('ok');
  });

  it('returns exactly the bitmap as it was, leaves the live words zero, and write-protects every reported page (I3)', () => {
    const { vm, kvm, v } = setup();
    setLogging(kvm, true);
    for (const p of [0, 3, 31, 32, 70, 4000]) touch(v, p, ACC_WRITE); // slow path: set_spte marks
    // A read on the direct map gets a writable SPTE too (set_spte grants
    // write when the access allows it), so it is logged as well.
    touch(v, 12, ACC_READ);
    markPageDirty(vm, RAM_GFN + RAM_PAGES - 1); // a KVM-internal write, no SPTE
    const before = liveWords(vm);
    expect(pagesOf(before)).toEqual([0, 3, 12, 31, 32, 70, 4000, RAM_PAGES - 1]);
    for (const p of [0, 3, 31, 32, 70, 4000]) expect(wbits(spteOf(vm, v, p))).toBe('PWM');

    const flushes = dirtyLogFlushes(vm);
    const got = kvmGetDirtyLog(kvm, 0);
    expect(got).toBeInstanceOf(Uint32Array);
    expect(Array.from(got)).toEqual(before);
    expect(scratchWords(vm)).toEqual(before); // the snapshot went through the scratch half
    expect(liveWords(vm).every((w) => w === 0)).toBe(true);
    for (const p of pagesOf(got)) {
      if (p === RAM_PAGES - 1) continue; // never mapped
      expect(wbits(spteOf(vm, v, p)), `page ${p}`).toBe('P-M'); // read-only, MMU_W kept
    }
    expect(wbits(spteOf(vm, v, 12))).toBe('P-M');
    expect(dirtyLogFlushes(vm)).toBe(flushes + 1);
    expect(flushPending(vm)).toBe(true); // the vCPU flushes before it next runs guest code

    // Nothing dirty since: an empty snapshot and no flush.
    v.req.vcpuCheckRequests(); // the vCPU takes its flush
    expect(flushPending(vm)).toBe(false);
    expect(Array.from(kvmGetDirtyLog(kvm, 0)).every((w) => w === 0)).toBe(true);
    expect(dirtyLogFlushes(vm)).toBe(flushes + 1);
    expect(flushPending(vm)).toBe(false);
  });

  it('the vCPU flushes its TLB before its next access', () => {
    const { vm, kvm, v } = setup();
    setLogging(kvm, true);
    touch(v, 5, ACC_WRITE);
    v.req.vcpuCheckRequests();
    const flushed = v.hart.flushes;
    kvmGetDirtyLog(kvm, 0);
    touch(v, 6, ACC_READ);
    expect(v.hart.flushes).toBe(flushed + 1);
    expect(flushPending(vm)).toBe(false);
  });

  it('a write after GET takes the fast page fault, without mmu_lock, and sets the bit again (I1, I2)', () => {
    const { vm, kvm, v } = setup();
    setLogging(kvm, true);
    touch(v, 40, ACC_WRITE);
    kvmGetDirtyLog(kvm, 0);
    expect(pagesOf(liveWords(vm))).toEqual([]);
    const fast = vstat(vm, KVCPU_STAT_FAST_PF_FIXED);
    const locks = mmuLockAcquired(vm);
    touch(v, 40, ACC_WRITE);
    expect(vstat(vm, KVCPU_STAT_FAST_PF_FIXED)).toBe(fast + 1);
    expect(mmuLockAcquired(vm)).toBe(locks);
    expect(wbits(spteOf(vm, v, 40))).toBe('PWM');
    expect(pagesOf(liveWords(vm))).toEqual([40]);
    expect(pagesOf(kvmGetDirtyLog(kvm, 0))).toEqual([40]);
  });

  it('a write to a page mapped read-only before enable also takes the fast path and is logged', () => {
    const { vm, kvm, v } = setup();
    touch(v, 41, ACC_WRITE);
    setLogging(kvm, true);
    const fast = vstat(vm, KVCPU_STAT_FAST_PF_FIXED);
    touch(v, 41, ACC_WRITE);
    expect(vstat(vm, KVCPU_STAT_FAST_PF_FIXED)).toBe(fast + 1);
    expect(pagesOf(kvmGetDirtyLog(kvm, 0))).toEqual([41]);
  });

  it('when quiesced, every writable SPTE of a logging slot has its bit set (I2)', () => {
    const { vm, kvm, v } = setup();
    setLogging(kvm, true);
    for (let round = 0; round < 3; round++) {
      for (let p = round; p < 200; p += 7) touch(v, p, ACC_WRITE);
      for (let p = 0; p < 200; p += 3) touch(v, p, ACC_READ);
      const live = liveWords(vm);
      const writable = Array.from({ length: 200 }, (_, p) => p).filter((p) => (spteOf(vm, v, p) & SPTE_WRITABLE) !== 0);
      expect(writable.length, `round ${round}: writable SPTEs to check`).toBeGreaterThan(0);
      for (const p of writable) expect(isSet(live, p), `page ${p}, round ${round}`).toBe(true);
      kvmGetDirtyLog(kvm, 0);
    }
  });
});

describe('KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2', () => {
  it('EINVAL for unknown bits, nonzero flags or another cap', () => {
    const { kvm } = setup();
    const cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2;
    expect(errnoOf(() => kvmEnableCap(kvm, { cap, flags: 0, args: [4] }))).toBe('EINVAL');
    expect(errnoOf(() => kvmEnableCap(kvm, { cap, flags: 0, args: [-1] }))).toBe('EINVAL');
    expect(errnoOf(() => kvmEnableCap(kvm, { cap, flags: 1, args: [1] }))).toBe('EINVAL');
    expect(errnoOf(() => kvmEnableCap(kvm, { cap: 163, flags: 0, args: [1] }))).toBe('EINVAL');
    expect(errnoOf(() => kvmEnableCap(kvm, { cap, flags: 0, args: [3] }))).toBe('ok');
    expect(errnoOf(() => kvmEnableCap(kvm, { cap, flags: 0, args: [0] }))).toBe('ok');
  });

  it('makes GET copy only: no clearing, no protection, no flush', () => {
    const { vm, kvm, v } = setup();
    manual(kvm);
    setLogging(kvm, true);
    for (const p of [2, 64, 65]) touch(v, p, ACC_WRITE);
    const before = liveWords(vm);
    const flushes = dirtyLogFlushes(vm);
    expect(Array.from(kvmGetDirtyLog(kvm, 0))).toEqual(before);
    expect(liveWords(vm)).toEqual(before);
    for (const p of [2, 64, 65]) expect(wbits(spteOf(vm, v, p))).toBe('PWM');
    expect(dirtyLogFlushes(vm)).toBe(flushes);
  });
});

describe('KVM_CLEAR_DIRTY_LOG', () => {
  function logged(): Setup {
    const s = setup();
    manual(s.kvm);
    setLogging(s.kvm, true);
    kvmSetUserMemoryRegion(s.kvm, { slot: 1, flags: LOG, guestPhysAddr: SLOT1, memorySize: SLOT1_PAGES * 4096 });
    return s;
  }

  it('checks its arguments as the kernel does, and changes nothing when it refuses', () => {
    const { vm, kvm, v } = logged();
    // A slot that does not log (creating it zaps every SPTE, so before the touches).
    kvmSetUserMemoryRegion(kvm, { slot: 2, flags: 0, guestPhysAddr: 0x5000_0000, memorySize: 64 * 4096 });
    touch(v, 0, ACC_WRITE);
    touch(v, 99, ACC_WRITE, 1);
    const before0 = liveWords(vm);
    const before1 = liveWords(vm, 1);
    const e = (slot: number, first: number, num: number, words?: number): string =>
      errnoOf(() => clearLog(kvm, slot, first, num, [first], words ?? Math.max(1, Math.ceil(num / 32))));
    expect(e(32, 0, 64)).toBe('EINVAL'); // slot id
    expect(e(-1, 0, 64)).toBe('EINVAL');
    expect(e(0, 32, 64)).toBe('EINVAL'); // first_page not a multiple of 64
    expect(e(7, 32, 64)).toBe('EINVAL'); // ... checked before the slot lookup
    expect(e(7, 0, 64)).toBe('ENOENT'); // empty slot
    expect(e(2, 0, 64)).toBe('ENOENT'); // no bitmap: not logging
    expect(e(1, 128, 0)).toBe('EINVAL'); // first_page > npages
    expect(e(1, 64, 37)).toBe('EINVAL'); // past the end
    expect(e(1, 0, 101)).toBe('EINVAL');
    expect(e(0, 0, 32)).toBe('EINVAL'); // not a multiple of 64 and not to the end
    expect(e(0, 64, 100)).toBe('EINVAL');
    expect(e(1, 0, 64, 1)).toBe('EFAULT'); // the bitmap is too short
    expect(liveWords(vm)).toEqual(before0);
    expect(liveWords(vm, 1)).toEqual(before1);
    expect(wbits(spteOf(vm, v, 0))).toBe('PWM');
    expect(wbits(spteOf(vm, v, 99, 1))).toBe('PWM');
    // The legal edge cases.
    expect(e(1, 64, 36)).toBe('ok'); // to the end, not a multiple of 64
    expect(e(0, RAM_PAGES, 0)).toBe('ok'); // first_page == npages, empty range
    expect(e(1, 100, 0)).toBe('EINVAL'); // ... but first_page must still be a multiple of 64
    expect(e(1, 0, 100)).toBe('ok');
    expect(e(0, 64, 64)).toBe('ok');
  });

  it('clears only the requested bits and re-protects only the pages whose bits were set (I7)', () => {
    const { vm, kvm, v } = logged();
    for (const p of [1, 2, 3, 64, 100, 130]) touch(v, p, ACC_WRITE);
    // Page 5: writable with its bit clear, a state built by hand to see that
    // CLEAR protects by the bits that *were set*, not by the user's mask.
    touch(v, 5, ACC_WRITE);
    Atomics.and(vm.dirtyBitmap, vm.memslots[MEMSLOT_DIRTY_BASE]!, ~(1 << 5));
    const flushes = dirtyLogFlushes(vm);
    clearLog(kvm, 0, 0, 128, [2, 5, 64, 100]);
    expect(pagesOf(liveWords(vm))).toEqual([1, 3, 130]);
    for (const p of [2, 64, 100]) expect(wbits(spteOf(vm, v, p)), `page ${p}`).toBe('P-M');
    for (const p of [1, 3, 5, 130]) expect(wbits(spteOf(vm, v, p)), `page ${p}`).toBe('PWM');
    expect(dirtyLogFlushes(vm)).toBe(flushes + 1);
    expect(flushPending(vm)).toBe(true);

    // Clearing bits that are not set changes nothing and does not flush.
    v.req.vcpuCheckRequests();
    clearLog(kvm, 0, 0, 128, [2, 5, 64]);
    expect(dirtyLogFlushes(vm)).toBe(flushes + 1);
    expect(flushPending(vm)).toBe(false);
    expect(wbits(spteOf(vm, v, 5))).toBe('PWM');

    // A write to a cleared page takes the fast path and is logged again.
    const fast = vstat(vm, KVCPU_STAT_FAST_PF_FIXED);
    touch(v, 64, ACC_WRITE);
    expect(vstat(vm, KVCPU_STAT_FAST_PF_FIXED)).toBe(fast + 1);
    expect(pagesOf(kvmGetDirtyLog(kvm, 0))).toEqual([1, 3, 64, 130]);
  });

  it('with a range at first_page > 0, bit i of the user bitmap is page first_page + i', () => {
    const { vm, kvm, v } = logged();
    for (const p of [64, 65, 127, 128]) touch(v, p, ACC_WRITE);
    clearLog(kvm, 0, 64, 64, [65, 127]);
    expect(pagesOf(liveWords(vm))).toEqual([64, 128]);
    expect(wbits(spteOf(vm, v, 65))).toBe('P-M');
    expect(wbits(spteOf(vm, v, 64))).toBe('PWM');
  });
});

describe('KVM_DIRTY_LOG_INITIALLY_SET', () => {
  it('starts the bitmap all ones up to npages, protects lazily, and CLEAR protects what it clears (I5)', () => {
    const { vm, kvm, v } = setup();
    manual(kvm, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET);
    kvmSetUserMemoryRegion(kvm, { slot: 1, flags: 0, guestPhysAddr: SLOT1, memorySize: SLOT1_PAGES * 4096 });
    for (const p of [0, 50, 99]) touch(v, p, ACC_WRITE, 1);
    const flushes = dirtyLogFlushes(vm);
    kvmSetUserMemoryRegion(kvm, { slot: 1, flags: LOG, guestPhysAddr: SLOT1, memorySize: SLOT1_PAGES * 4096 });
    expect(liveWords(vm, 1)).toEqual([0xffffffff, 0xffffffff, 0xffffffff, 0xf]); // no bit past page 99
    expect(scratchWords(vm, 1)).toEqual([0, 0, 0, 0]);
    for (const p of [0, 50, 99]) expect(wbits(spteOf(vm, v, p, 1))).toBe('PWM'); // lazy: not protected
    expect(dirtyLogFlushes(vm)).toBe(flushes);
    expect(pagesOf(kvmGetDirtyLog(kvm, 1)).length).toBe(SLOT1_PAGES);

    clearLog(kvm, 1, 0, 64, Array.from({ length: 64 }, (_, i) => i));
    expect(pagesOf(liveWords(vm, 1))).toEqual(Array.from({ length: 36 }, (_, i) => 64 + i));
    for (const p of [0, 50]) expect(wbits(spteOf(vm, v, p, 1))).toBe('P-M');
    expect(wbits(spteOf(vm, v, 99, 1))).toBe('PWM');
    expect(dirtyLogFlushes(vm)).toBe(flushes + 1);
  });

  it('without INITIALLY_SET, manual protect still write-protects at enable time', () => {
    const { vm, kvm, v } = setup();
    manual(kvm);
    touch(v, 3, ACC_WRITE);
    setLogging(kvm, true);
    expect(pagesOf(liveWords(vm))).toEqual([]);
    expect(wbits(spteOf(vm, v, 3))).toBe('P-M');
  });
});

describe('the dirty ring (KVM_CAP_DIRTY_LOG_RING, I8)', () => {
  afterEach(() => kvmSetRunningVcpu(-1));

  const ringCap = (kvm: Kvm, bytes: number): void => kvmEnableCap(kvm, { cap: KVM_CAP_DIRTY_LOG_RING, flags: 0, args: [bytes] });
  const flagsOf = (vm: VmShared, vcpu: number, index: number, size: number): number =>
    vm.view('dirty-ring')[vcpu * DRING_STRIDE + DRING_HDR_WORDS + (index & (size - 1)) * KVM_DIRTY_GFN_WORDS + KVM_DIRTY_GFN_FLAGS]!;

  function ringVm(bytes = 4096): Setup {
    const s = setup();
    ringCap(s.kvm, bytes);
    setLogging(s.kvm, true);
    kvmSetRunningVcpu(0); // this thread runs vCPU 0 (vcpu_load)
    return s;
  }

  it('checks the ring size: a power of two, at least a page (EINVAL), at most the maximum (E2BIG), set once', () => {
    const { kvm } = setup();
    expect(errnoOf(() => ringCap(kvm, 0))).toBe('EINVAL');
    expect(errnoOf(() => ringCap(kvm, 3 * 4096))).toBe('EINVAL');
    expect(errnoOf(() => ringCap(kvm, 2048))).toBe('EINVAL');
    expect(errnoOf(() => ringCap(kvm, 128 * 1024))).toBe('E2BIG');
    expect(errnoOf(() => kvmResetDirtyRings(kvm))).toBe('ENXIO'); // no ring yet
    expect(errnoOf(() => ringCap(kvm, 8192))).toBe('ok');
    expect(errnoOf(() => ringCap(kvm, 4096))).toBe('EINVAL'); // only once
  });

  it('a ring VM has no bitmaps: GET and CLEAR answer ENXIO', () => {
    const { kvm } = ringVm();
    expect(errnoOf(() => kvmGetDirtyLog(kvm, 0))).toBe('ENXIO');
    expect(errnoOf(() => clearLog(kvm, 0, 0, 64, [0]))).toBe('ENXIO');
  });

  it('pushes dirtied pages in order, harvest marks them RESET, reset re-protects exactly those and flushes', () => {
    const { vm, kvm, v } = ringVm();
    const marked = vm.stats[STAT_DIRTY_MARKED]!;
    for (const p of [5, 3, 700]) touch(v, p, ACC_WRITE);
    expect(pagesOf(liveWords(vm))).toEqual([]); // nothing in the bitmap
    expect(vm.stats[STAT_DIRTY_MARKED]).toBe(marked);
    expect(kvmDirtyRingUsed(vm, 0)).toBe(3);
    for (let i = 0; i < 3; i++) expect(flagsOf(vm, 0, i, 256)).toBe(KVM_DIRTY_GFN_F_DIRTY);

    const cursor = { fetchIndex: 0 };
    expect(kvmDirtyRingHarvest(vm, 0, cursor)).toEqual([{ slot: 0, offset: 5 }, { slot: 0, offset: 3 }, { slot: 0, offset: 700 }]);
    expect(cursor.fetchIndex).toBe(3);
    for (let i = 0; i < 3; i++) expect(flagsOf(vm, 0, i, 256)).toBe(KVM_DIRTY_GFN_F_DIRTY | KVM_DIRTY_GFN_F_RESET);
    expect(kvmDirtyRingHarvest(vm, 0, cursor)).toEqual([]);
    touch(v, 9, ACC_WRITE); // dirtied after the harvest: stays writable through the reset

    const flushes = dirtyLogFlushes(vm);
    expect(kvmResetDirtyRings(kvm)).toBe(3);
    for (let i = 0; i < 3; i++) expect(flagsOf(vm, 0, i, 256)).toBe(0);
    expect(kvmDirtyRingUsed(vm, 0)).toBe(1);
    for (const p of [5, 3, 700]) expect(wbits(spteOf(vm, v, p)), `page ${p}`).toBe('P-M');
    expect(wbits(spteOf(vm, v, 9))).toBe('PWM');
    expect(dirtyLogFlushes(vm)).toBe(flushes + 1);
    expect(flushPending(vm)).toBe(true);

    // A write after the reset faults (fast path) and is pushed again.
    const fast = vstat(vm, KVCPU_STAT_FAST_PF_FIXED);
    touch(v, 3, ACC_WRITE);
    expect(vstat(vm, KVCPU_STAT_FAST_PF_FIXED)).toBe(fast + 1);
    expect(kvmDirtyRingHarvest(vm, 0, cursor)).toEqual([{ slot: 0, offset: 9 }, { slot: 0, offset: 3 }]);
  });

  it('reset stops at the first entry userspace has not harvested', () => {
    const { vm, kvm, v } = ringVm();
    for (const p of [1, 2, 3]) touch(v, p, ACC_WRITE);
    const r = vm.view('dirty-ring');
    const entry = (i: number): number => DRING_HDR_WORDS + i * KVM_DIRTY_GFN_WORDS + KVM_DIRTY_GFN_FLAGS;
    Atomics.or(r, entry(0), KVM_DIRTY_GFN_F_RESET);
    Atomics.or(r, entry(2), KVM_DIRTY_GFN_F_RESET); // out of order: not reset before entry 1
    expect(kvmResetDirtyRings(kvm)).toBe(1);
    expect(wbits(spteOf(vm, v, 1))).toBe('P-M');
    expect(wbits(spteOf(vm, v, 3))).toBe('PWM');
    expect(kvmDirtyRingUsed(vm, 0)).toBe(2);
    const flushes = dirtyLogFlushes(vm);
    expect(kvmResetDirtyRings(kvm)).toBe(0);
    expect(dirtyLogFlushes(vm)).toBe(flushes); // nothing reset, no flush
  });

  it('at the soft limit the vCPU is asked to exit (KVM_EXIT_DIRTY_RING_FULL) until harvest and reset', () => {
    const { vm, kvm, v } = ringVm(4096); // 256 entries, soft limit 192
    const soft = 256 - KVM_DIRTY_RING_RSVD_ENTRIES;
    const req = (): number => vm.kvmVcpu[KVCPU_REQUESTS]!;
    // The vCPU takes its requests at its fault's exit (vcpu-mmu's vmEntry) and
    // hands the ones it does not handle to the run loop (vcpuCheckRequests).
    for (let p = 0; p < soft - 1; p++) touch(v, p, ACC_WRITE);
    let bits = v.req.vcpuCheckRequests();
    expect(bits & KVM_REQ_DIRTY_RING_SOFT_FULL).toBe(0);
    expect(kvmDirtyRingCheckRequest(vm, 0, bits)).toBe(false);
    touch(v, soft - 1, ACC_WRITE);
    expect(kvmDirtyRingUsed(vm, 0)).toBe(soft);
    bits = v.req.vcpuCheckRequests();
    expect(bits & KVM_REQ_DIRTY_RING_SOFT_FULL).toBe(KVM_REQ_DIRTY_RING_SOFT_FULL);
    expect(kvmDirtyRingCheckRequest(vm, 0, bits)).toBe(true);
    expect(req() & KVM_REQ_DIRTY_RING_SOFT_FULL).toBe(KVM_REQ_DIRTY_RING_SOFT_FULL); // made again: still full

    const cursor = { fetchIndex: 0 };
    expect(kvmDirtyRingHarvest(vm, 0, cursor).length).toBe(soft);
    expect(kvmResetDirtyRings(kvm)).toBe(soft);
    expect(kvmDirtyRingCheckRequest(vm, 0, KVM_REQ_DIRTY_RING_SOFT_FULL)).toBe(false);

    // Entries wrap around the ring.
    for (let p = 0; p < 100; p++) touch(v, 1000 + p, ACC_WRITE);
    const got = kvmDirtyRingHarvest(vm, 0, cursor);
    expect(got.map((e) => e.offset)).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));
    expect(kvmResetDirtyRings(kvm)).toBe(100);
  });

  it('without a running vCPU (a KVM-internal write on the VMM thread) the page goes to the bitmap', () => {
    const { vm } = ringVm();
    kvmSetRunningVcpu(-1);
    markPageDirty(vm, RAM_GFN + 17);
    expect(kvmDirtyRingUsed(vm, 0)).toBe(0);
    expect(pagesOf(liveWords(vm))).toEqual([17]);
  });
});
