// The 'indirect-fast' switch (§2.4, F2): the fast page fault also fixes SPTEs
// of indirect shadow pages, with no pin of the gfn. locking.txt's gfn->pfn ABA
// is replayed exactly, at the point between the fault's read of the SPTE and
// its cmpxchg (Kvm.hookBeforeFastCmpxchg) or, with the protection on, between
// the slow path's gfn_to_pfn and mmu_lock (hookAfterGfnToPfn):
//   1. the host swaps gfn1 out (its SPTE is zapped, pfn1 goes back to the pool);
//   2. the guest repoints its PTE from gfn1 to gfn2;
//   3. another vCPU writes through it: gfn2 gets pfn1 from the pool and an
//      SPTE with the very same value; the VMM collects (gfn2 reported,
//      write-protected again).
// The cmpxchg then succeeds, gfn1 is marked dirty and gfn2's next write is in
// no dirty log. On the protected path the pinned pfn cannot be reused, the
// notifier sequence forces a retry, and the write is logged under gfn2.
//
// (In webkvm a zap from another thread waits for the walker, which is in
// READING_SHADOW_PAGE_TABLES mode, so the ABA is replayed on the walker's own
// thread through its own Kvm handle, as "the other CPU" of locking.txt.)
import { afterEach, describe, expect, it } from 'vitest';
import { ACC_WRITE, PRV_S } from '../../src/cpu/memory.ts';
import { kvmGetDirtyLog } from '../../src/kvm/dirtylog.ts';
import { KVCPU_STAT_FAST_PF_FIXED, KVM_MEM_LOG_DIRTY_PAGES, ROLE_DIRECT } from '../../src/kvm/fields.ts';
import { kvmSwapOutPage } from '../../src/kvm/host-ops.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import { kvmSetUserMemoryRegion } from '../../src/kvm/set-memory-region.ts';
import { spteIsLocklesslyModifiable } from '../../src/kvm/spte.ts';
import { kvmSetUnsafe, UNSAFE_INDIRECT_FAST_PF } from '../../src/kvm/unsafe.ts';
import {
  PTE_A, PTE_D, PTE_R, PTE_V, PTE_W, RAM, RAM_GFN, gpte, leafSpte, makeVcpu, makeVm, map4k, pfnOf, readPhys, satpFor,
  spMeta, writePhys, type TestVcpu,
} from './mmu-helpers.ts';

const ROOT = RAM + 0x1000;
const L1 = RAM + 0x2000;
const VA = 0x4000_0000;
const GFN1 = RAM_GFN + 0x10;
const GFN2 = RAM_GFN + 0x11;
const SATP = satpFor(ROOT);
const FLAGS = PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;

let vcpus: TestVcpu[] = [];
afterEach(() => {
  for (const v of vcpus) v.kvm.hookBeforeFastCmpxchg = v.kvm.hookAfterGfnToPfn = null;
  vcpus = [];
});

function write(v: TestVcpu, value: number): void {
  const at = v.mmu.translate(VA, ACC_WRITE, PRV_S, SATP, 0);
  Atomics.store(v.kvm.vm.ramI32, at >>> 2, value);
}

const bit = (bm: Uint32Array, gfn: number): boolean => ((bm[(gfn - RAM_GFN) >>> 5]! >>> ((gfn - RAM_GFN) & 31)) & 1) === 1;

function replay(unsafe: number) {
  const vm = makeVm({ vcpus: 2 });
  const host = new Kvm(vm);
  kvmSetUserMemoryRegion(host, { slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM, memorySize: 16 << 20 });
  kvmSetUnsafe(vm, unsafe);
  map4k(vm, ROOT, L1, VA, GFN1 * 4096, FLAGS);
  const [v0, v1] = [makeVcpu(vm, 0), makeVcpu(vm, 1)];
  vcpus = [v0, v1];

  write(v0, 1); // slow fault: an indirect shadow page maps VA -> gfn1
  const [loc, first] = leafSpte(vm, v0.mmu.root, VA);
  expect(spMeta(vm, loc >>> 10).role & ROLE_DIRECT).toBe(0); // an indirect shadow page
  const pfn1 = first >>> 12;
  expect(pfn1).toBe(pfnOf(vm, GFN1));
  expect(bit(kvmGetDirtyLog(host, 0), GFN1)).toBe(true);
  const protectedSpte = Atomics.load(vm.spt, loc);
  expect(spteIsLocklesslyModifiable(protectedSpte)).toBe(true); // a fast-path candidate, W=0

  let abaSpte = 0;
  let fired = false;
  const aba = (): void => {
    if (fired) return;
    fired = true;
    expect(kvmSwapOutPage(v0.kvm, GFN1)).toBe(true); // 1
    writePhys(vm, L1 + ((VA >>> 12) & 0x3ff) * 4, gpte(GFN2 * 4096, FLAGS)); // 2
    write(v1, 2); // 3
    expect(bit(kvmGetDirtyLog(v0.kvm, 0), GFN2)).toBe(true);
    abaSpte = Atomics.load(vm.spt, loc);
  };
  v0.kvm.hookBeforeFastCmpxchg = aba;
  v0.kvm.hookAfterGfnToPfn = aba;
  const fastBefore = vm.kvmVcpu[KVCPU_STAT_FAST_PF_FIXED]!;
  write(v0, 3); // the write fault that races the ABA
  expect(fired).toBe(true);
  const last = kvmGetDirtyLog(host, 0);
  return {
    sameSpteValue: abaSpte === protectedSpte,
    fastFixed: vm.kvmVcpu[KVCPU_STAT_FAST_PF_FIXED]! - fastBefore,
    gfn2Value: readPhys(vm, GFN2 * 4096),
    gfn1Logged: bit(last, GFN1),
    gfn2Logged: bit(last, GFN2),
  };
}

describe("unsafe 'indirect-fast': the fast page fault on indirect shadow pages", () => {
  it('protected: indirect pages take the slow path, the pinned pfn is not reused, gfn2 is logged', () => {
    const r = replay(0);
    expect(r.fastFixed).toBe(0);
    expect(r.sameSpteValue).toBe(false); // pfn1 was pinned: gfn2 got another page
    expect(r.gfn2Value).toBe(3);
    expect(r.gfn2Logged).toBe(true);
  });

  it('unsafe: the cmpxchg succeeds on the recycled SPTE, gfn1 is marked and the write to gfn2 is lost', () => {
    const r = replay(UNSAFE_INDIRECT_FAST_PF);
    expect(r.sameSpteValue).toBe(true); // the ABA: same SPTE value, different gfn
    expect(r.fastFixed).toBe(1);
    expect(r.gfn2Value).toBe(3); // the write landed in gfn2's page...
    expect(r.gfn2Logged).toBe(false); // ...and no collection reports it
    expect(r.gfn1Logged).toBe(true); // the stale gfn was marked instead
  });
});
