// Bad input to the dirty-log interfaces (kvm-semantics.md §2.7, §2.12): every
// error case of KVM_CLEAR_DIRTY_LOG, KVM_GET_DIRTY_LOG, KVM_ENABLE_CAP and the
// dirty ring gets the errno the reference gives, a message naming the call,
// and changes nothing: a fingerprint of every region it could touch (bitmaps,
// SPTEs, rmaps, requests, statistics, the ring, the VM words) is identical
// before and after.
import { afterEach, describe, expect, it } from 'vitest';
import { ACC_WRITE } from '../../../src/cpu/memory.ts';
import {
  KVM_CAP_DIRTY_LOG_RING, kvmDirtyRingHarvest, kvmDirtyRingPush, kvmDirtyRingSize, kvmSetRunningVcpu,
} from '../../../src/kvm/dirty-ring.ts';
import {
  KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, kvmClearDirtyLog, kvmEnableCap, kvmGetDirtyLog, kvmResetDirtyRings,
  type KvmClearDirtyLog,
} from '../../../src/kvm/dirtylog.ts';
import { KvmError } from '../../../src/kvm/errors.ts';
import { KVM_DIRTY_RING_MAX_ENTRIES, KVM_MEM_LOG_DIRTY_PAGES, STAT_DIRTY_RING_FULL } from '../../../src/kvm/fields.ts';
import type { Kvm } from '../../../src/kvm/kvm-host.ts';
import { kvmSetUserMemoryRegion } from '../../../src/kvm/set-memory-region.ts';
import type { VmShared } from '../../../src/kvm/shm.ts';
import { SPTE_WRITABLE } from '../../../src/kvm/spte.ts';
import { liveBitmap, pagesIn } from './checkers.ts';
import {
  RAM_PAGES, SLOT1, SLOT1_PAGES, enableRing, manualProtect, setLogging, setup, spteOf, touch, type Setup,
} from './setup.ts';

afterEach(() => kvmSetRunningVcpu(-1));

/** FNV-1a over the words of an Int32Array. */
function fnv(a: Int32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i]!, 16777619);
  return h >>> 0;
}

/** Everything a dirty-log ioctl could change. */
function fingerprint(vm: VmShared): Record<string, number> {
  return {
    dirtyBitmap: fnv(vm.dirtyBitmap), spt: fnv(vm.spt), rmapHeads: fnv(vm.rmapHeads), kvmVcpu: fnv(vm.kvmVcpu),
    stats: fnv(vm.stats), kvm: fnv(vm.kvm), ring: fnv(vm.view('dirty-ring')), memslots: fnv(vm.memslots),
  };
}

/** Call `fn`, expect KvmError `errno` whose message names `where`, and no change to the VM. */
function refuses(vm: VmShared, errno: string, where: RegExp, fn: () => unknown): void {
  const before = fingerprint(vm);
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${errno}`).toBeInstanceOf(KvmError);
  expect((err as KvmError).code).toBe(errno);
  expect((err as KvmError).message).toMatch(where);
  expect(fingerprint(vm)).toEqual(before);
}

/** Slot 0 (4096 pages) and slot 1 (100 pages) logging, slot 2 (64 pages) not; some pages dirty and writable. */
function loggedVm(): Setup {
  const s = setup();
  manualProtect(s.kvm);
  setLogging(s.kvm, true);
  kvmSetUserMemoryRegion(s.kvm, { slot: 1, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: SLOT1, memorySize: SLOT1_PAGES * 4096 });
  kvmSetUserMemoryRegion(s.kvm, { slot: 2, flags: 0, guestPhysAddr: 0x5000_0000, memorySize: 64 * 4096 });
  const v = s.vcpus[0]!;
  for (const p of [0, 1, 63, 64, 99]) touch(v, p, ACC_WRITE, 1);
  for (const p of [0, 5, 100]) touch(v, p, ACC_WRITE);
  v.req.vcpuCheckRequests();
  return s;
}

const all = (n: number): Uint32Array => new Uint32Array(Math.ceil(n / 32)).fill(-1 >>> 0);
const clear = (kvm: Kvm, slot: number, firstPage: number, numPages: number, bitmap: Uint32Array = all(Math.max(numPages, 1))): void =>
  kvmClearDirtyLog(kvm, { slot, firstPage, numPages, bitmap });

describe('KVM_CLEAR_DIRTY_LOG: every error case, and nothing changes', () => {
  const CLEAR = /KVM_CLEAR_DIRTY_LOG/;

  it('ENXIO on a ring VM (no bitmaps)', () => {
    const { vm, kvm } = setup();
    enableRing(kvm);
    setLogging(kvm, true);
    refuses(vm, 'ENXIO', CLEAR, () => clear(kvm, 0, 0, 64));
  });

  it('EINVAL for a slot id outside 0..31 or not an integer', () => {
    const { vm, kvm } = loggedVm();
    for (const id of [32, 1000, -1, 1.5, Number.NaN]) refuses(vm, 'EINVAL', /slot id/, () => clear(kvm, id, 0, 64));
  });

  it('EINVAL for first_page not a multiple of 64 (checked before the slot is looked up)', () => {
    const { vm, kvm } = loggedVm();
    for (const first of [1, 32, 63, 65, -64, 0.5]) refuses(vm, 'EINVAL', /first_page must be a multiple of 64/, () => clear(kvm, 0, first, 64));
    refuses(vm, 'EINVAL', /first_page must be a multiple of 64/, () => clear(kvm, 7, 32, 64)); // empty slot, but EINVAL first
  });

  it('ENOENT for an empty slot and for a slot that does not log dirty pages (no bitmap)', () => {
    const { vm, kvm } = loggedVm();
    refuses(vm, 'ENOENT', /slot 7 is empty/, () => clear(kvm, 7, 0, 64));
    refuses(vm, 'ENOENT', /does not log dirty pages/, () => clear(kvm, 2, 0, 64));
  });

  it('EINVAL for first_page past the slot, and for a range running past it', () => {
    const { vm, kvm } = loggedVm();
    refuses(vm, 'EINVAL', /first_page is past/, () => clear(kvm, 1, 128, 0)); // first_page > npages (100)
    refuses(vm, 'EINVAL', /runs past/, () => clear(kvm, 1, 64, 37)); // 64 + 37 > 100
    refuses(vm, 'EINVAL', /runs past/, () => clear(kvm, 1, 0, 101));
    refuses(vm, 'EINVAL', /runs past/, () => clear(kvm, 0, RAM_PAGES - 64, 128));
    refuses(vm, 'EINVAL', /runs past/, () => clear(kvm, 0, 0, -64));
    refuses(vm, 'EINVAL', /runs past/, () => clear(kvm, 0, 0, 64.5));
  });

  it('EINVAL for num_pages not a multiple of 64 unless the range reaches the end of the slot', () => {
    const { vm, kvm } = loggedVm();
    refuses(vm, 'EINVAL', /num_pages must be a multiple of 64/, () => clear(kvm, 0, 0, 32));
    refuses(vm, 'EINVAL', /num_pages must be a multiple of 64/, () => clear(kvm, 0, 64, 100));
    refuses(vm, 'EINVAL', /num_pages must be a multiple of 64/, () => clear(kvm, 1, 0, 99)); // one short of the end
    refuses(vm, 'EINVAL', /num_pages must be a multiple of 64/, () => clear(kvm, 1, 0, 36));
  });

  it('EFAULT for a bitmap shorter than num_pages or not a Uint32Array (copy_from_user fails)', () => {
    const { vm, kvm } = loggedVm();
    refuses(vm, 'EFAULT', /bitmap/, () => clear(kvm, 0, 0, 128, new Uint32Array(3)));
    refuses(vm, 'EFAULT', /bitmap/, () => clear(kvm, 1, 0, 100, new Uint32Array(3))); // 100 pages need 4 words
    const notWords = [1, 2, 3, 4] as unknown as Uint32Array;
    refuses(vm, 'EFAULT', /bitmap/, () => kvmClearDirtyLog(kvm, { slot: 1, firstPage: 0, numPages: 100, bitmap: notWords } as KvmClearDirtyLog));
  });

  it('the legal edges succeed: a range to the end of the slot, first_page == npages, an empty range', () => {
    const { vm, kvm, vcpus: [v] } = loggedVm();
    const before = pagesIn(liveBitmap(vm, 1));
    expect(before).toEqual([0, 1, 63, 64, 99]);
    const print = fingerprint(vm);
    clear(kvm, 1, 64, 36); // not a multiple of 64, but reaches page 100
    expect(fingerprint(vm)).not.toEqual(print); // the fingerprint sees a change (so "unchanged" above means something)
    expect(pagesIn(liveBitmap(vm, 1))).toEqual([0, 1, 63]);
    expect(spteOf(v!, 99, 1)[1] & SPTE_WRITABLE).toBe(0);
    clear(kvm, 0, RAM_PAGES, 0); // first_page == npages
    clear(kvm, 0, 64, 0); // nothing
    expect(pagesIn(liveBitmap(vm, 0))).toEqual([0, 5, 100]);
  });

  it('without KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 it is no error (the reference gives none): it clears and re-protects', () => {
    const { vm, kvm, vcpus: [v] } = setup();
    setLogging(kvm, true);
    for (const p of [3, 4]) touch(v!, p, ACC_WRITE);
    clear(kvm, 0, 0, 64);
    expect(pagesIn(liveBitmap(vm, 0))).toEqual([]);
    expect(spteOf(v!, 3)[1] & SPTE_WRITABLE).toBe(0);
  });
});

describe('KVM_GET_DIRTY_LOG and KVM_ENABLE_CAP: errors change nothing', () => {
  it('GET: ENXIO on a ring VM, EINVAL for a bad slot id, ENOENT for an empty or non-logging slot', () => {
    const { vm, kvm } = loggedVm();
    const GET = /KVM_GET_DIRTY_LOG/;
    for (const id of [32, -1, 2.5]) refuses(vm, 'EINVAL', GET, () => kvmGetDirtyLog(kvm, id));
    refuses(vm, 'ENOENT', GET, () => kvmGetDirtyLog(kvm, 9));
    refuses(vm, 'ENOENT', GET, () => kvmGetDirtyLog(kvm, 2));
    const r = setup();
    enableRing(r.kvm);
    setLogging(r.kvm, true);
    refuses(r.vm, 'ENXIO', GET, () => kvmGetDirtyLog(r.kvm, 0));
  });

  it('ENABLE_CAP(MANUAL_DIRTY_LOG_PROTECT2): EINVAL for nonzero flags, unknown bits, another cap', () => {
    const { vm, kvm } = loggedVm();
    const cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2;
    refuses(vm, 'EINVAL', /flags must be 0/, () => kvmEnableCap(kvm, { cap, flags: 1, args: [1] }));
    refuses(vm, 'EINVAL', /args\[0\]/, () => kvmEnableCap(kvm, { cap, flags: 0, args: [4] }));
    refuses(vm, 'EINVAL', /args\[0\]/, () => kvmEnableCap(kvm, { cap, flags: 0, args: [-1] }));
    refuses(vm, 'EINVAL', /not a capability/, () => kvmEnableCap(kvm, { cap: 163, flags: 0, args: [1] }));
  });
});

describe('the dirty ring: every error case, and nothing changes', () => {
  const ringCap = (kvm: Kvm, bytes: number): void => kvmEnableCap(kvm, { cap: KVM_CAP_DIRTY_LOG_RING, flags: 0, args: [bytes] });

  it('EINVAL for a size that is not a power of two (or not a positive integer)', () => {
    const { vm, kvm } = setup();
    for (const bytes of [3 * 4096, 4096 + 16, 6000, 0, -4096, 4096.5, Number.NaN]) {
      refuses(vm, 'EINVAL', /KVM_CAP_DIRTY_LOG_RING.*power of two/, () => ringCap(kvm, bytes));
    }
    expect(kvmDirtyRingSize(vm)).toBe(0);
  });

  it('EINVAL for a ring smaller than a page (and than the reserved entries); E2BIG above the maximum', () => {
    const { vm, kvm } = setup();
    for (const bytes of [16, 512, 2048]) refuses(vm, 'EINVAL', /KVM_CAP_DIRTY_LOG_RING.*at least a page/, () => ringCap(kvm, bytes));
    for (const bytes of [2 * KVM_DIRTY_RING_MAX_ENTRIES * 16, 1 << 24]) refuses(vm, 'E2BIG', /KVM_CAP_DIRTY_LOG_RING.*at most/, () => ringCap(kvm, bytes));
    ringCap(kvm, KVM_DIRTY_RING_MAX_ENTRIES * 16); // the maximum itself is fine
    expect(kvmDirtyRingSize(vm)).toBe(KVM_DIRTY_RING_MAX_ENTRIES);
  });

  it('EINVAL when the size is set a second time, even to the same value', () => {
    const { vm, kvm } = setup();
    ringCap(kvm, 8192);
    refuses(vm, 'EINVAL', /KVM_CAP_DIRTY_LOG_RING.*can be set once/, () => ringCap(kvm, 4096));
    refuses(vm, 'EINVAL', /KVM_CAP_DIRTY_LOG_RING.*can be set once/, () => ringCap(kvm, 8192));
    expect(kvmDirtyRingSize(vm)).toBe(512);
  });

  it('ENXIO for KVM_RESET_DIRTY_RINGS without a ring; GET and CLEAR answer ENXIO with one', () => {
    const { vm, kvm } = loggedVm();
    refuses(vm, 'ENXIO', /KVM_RESET_DIRTY_RINGS/, () => kvmResetDirtyRings(kvm));
    expect(kvmDirtyRingHarvest(vm, 0, { fetchIndex: 0 })).toEqual([]); // nothing to harvest either
    const r = setup();
    ringCap(r.kvm, 4096);
    setLogging(r.kvm, true);
    refuses(r.vm, 'ENXIO', /rings/, () => kvmGetDirtyLog(r.kvm, 0));
    refuses(r.vm, 'ENXIO', /rings/, () => clear(r.kvm, 0, 0, 64));
  });

  it('a push into a completely full ring is refused: no entry changes, the overflow is counted', () => {
    const { vm, kvm } = setup();
    ringCap(kvm, 4096); // 256 entries
    setLogging(kvm, true);
    for (let i = 0; i < 256; i++) expect(kvmDirtyRingPush(vm, 0, 0, i)).toBe(true);
    const ring = Int32Array.from(vm.view('dirty-ring'));
    const full = vm.stats[STAT_DIRTY_RING_FULL]!;
    expect(kvmDirtyRingPush(vm, 0, 0, 999)).toBe(false);
    expect(Array.from(vm.view('dirty-ring'))).toEqual(Array.from(ring));
    expect(vm.stats[STAT_DIRTY_RING_FULL]).toBe(full + 1);
  });
});
