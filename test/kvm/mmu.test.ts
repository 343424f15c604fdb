// The shadow MMU seen through the vCPU's HartMemory: roles of shadow pages,
// rmaps, guest faults, A/D, write protection and emulation, the fast page
// fault, the MMU-notifier retry and pool recycling. Single-threaded: the vCPU
// never declares itself in guest mode, so flushes never wait.
import { describe, expect, it } from 'vitest';
import {
  ACC_EXEC, ACC_READ, ACC_WRITE, MSTATUS_MXR, MSTATUS_SUM, PRV_M, PRV_S, PRV_U, XLATE_EMULATE, XLATE_FAULT, XLATE_MMIO,
} from '../../src/cpu/memory.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import {
  FLUSH_CAUSE_SP_WRITE_PROTECT, KVCPU_STAT_FAST_PF_FAILED, KVCPU_STAT_FAST_PF_FIXED, KVCPU_STAT_FAST_PF_SPURIOUS,
  KVCPU_STAT_FAST_PF_TO_SLOW, KVCPU_STAT_GPTE_CHANGED, KVCPU_STAT_MMIO_FAST, KVCPU_STAT_PF_RETRY, KVCPU_WORDS, KVM_MEM_LOG_DIRTY_PAGES,
  KVM_N_USED_MMU_PAGES, MEMSLOT_DIRTY_BASE, PFN_ACCESSED, PFN_DIRTY, ROLE_ACCESS_SHIFT, ROLE_DIRECT,
  ROLE_NONPAGING, SP_NIL, STAT_FLUSH_CAUSE, STAT_MMU_FLOODED, STAT_MMU_PTE_WRITE, STAT_MMU_RECYCLED,
} from '../../src/kvm/fields.ts';
import { kvmSetUserMemoryRegion } from '../../src/kvm/set-memory-region.ts';
import {
  ACC_ALL, SPTE_ACCESSED, SPTE_DIRTY, SPTE_EXEC, SPTE_HOST_WRITEABLE, SPTE_MMIO, SPTE_MMU_WRITEABLE,
  SPTE_PRESENT, SPTE_READ, SPTE_WRITABLE, spteWriteProtect,
} from '../../src/kvm/spte.ts';
import { fastPageFault, RET_PF_RETRY } from '../../src/kvm/fault.ts';
import { kvmMmuNotifierInvalidateRangeEnd, kvmMmuNotifierInvalidateRangeStart } from '../../src/kvm/mmu-notifier.ts';
import type { VmShared } from '../../src/kvm/shm.ts';
import {
  PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, RAM, RAM_GFN, childOf, gpte, leafSpte, makeVcpu, makeVm,
  map4k, mmuLockAcquired, pfnOf, readPhys, rmapOf, satpFor, spMeta, writePhys,
} from './mmu-helpers.ts';

const ROOT = RAM + 0x10000;
const L1 = RAM + 0x11000;
const DATA = RAM + 0x20000;
const DATA2 = RAM + 0x30000;
const VA = 0x0040_0000;
const SATP = satpFor(ROOT);

const gfnOf = (pa: number): number => Math.floor(pa / 4096);
const vstat = (vm: VmShared, field: number, vcpu = 0): number => vm.kvmVcpu[vcpu * KVCPU_WORDS + field]!;

describe('guest-physical accesses (satp bare, M-mode): the direct map', () => {
  it('builds a direct level-2 root over the physical space and a direct level-1 page per 4 MiB', () => {
    const vm = makeVm();
    const { mmu, kvm } = makeVcpu(vm);
    const pa = RAM + 0x5000;
    expect(mmu.translate(pa, ACC_READ, PRV_S, 0, 0)).toBe(pfnOf(vm, RAM_GFN + 5) * 4096);
    const root = mmu.nonpagingRoot;
    const accessRole = (ACC_ALL >>> 1) << ROLE_ACCESS_SHIFT;
    expect(spMeta(vm, root)).toEqual({ gfn: 0, role: 2 | ROLE_DIRECT | ROLE_NONPAGING | accessRole });
    const child = childOf(vm, root, pa);
    expect(spMeta(vm, child)).toEqual({ gfn: RAM_GFN, role: 1 | ROLE_DIRECT | ROLE_NONPAGING | accessRole });
    const [loc, spte] = leafSpte(vm, root, pa);
    expect(loc).toBe(child * 1024 + 5);
    const want = SPTE_PRESENT | SPTE_READ | SPTE_WRITABLE | SPTE_EXEC | SPTE_ACCESSED | SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE;
    expect(spte & want).toBe(want);
    expect(spte & SPTE_DIRTY).toBe(0); // read: the "hardware" set A only
    expect(rmapOf(kvm, RAM_GFN + 5)).toEqual([loc]);
    // A write sets D in the SPTE, as a page walker would.
    expect(mmu.translate(pa, ACC_WRITE, PRV_S, 0, 0)).toBe(pfnOf(vm, RAM_GFN + 5) * 4096);
    expect(vm.spt[loc]! & SPTE_DIRTY).toBe(SPTE_DIRTY);
    expect(mmu.root).toBe(SP_NIL);
  });

  it('uses the direct map in M-mode even with Sv32 on', () => {
    const vm = makeVm();
    const { mmu } = makeVcpu(vm);
    expect(mmu.translate(RAM + 0x3000, ACC_EXEC, PRV_M, SATP, 0)).toBe(pfnOf(vm, RAM_GFN + 3) * 4096);
    expect(mmu.root).toBe(SP_NIL);
  });

  it('answers an address outside every memslot as MMIO, without mmu_lock', () => {
    const vm = makeVm();
    const { mmu, bus } = makeVcpu(vm);
    expect(mmu.translate(0x1000_0000, ACC_READ, PRV_M, 0, 0)).toBe(XLATE_MMIO);
    expect(mmu.mmioAddr).toBe(0x1000_0000);
    expect(mmuLockAcquired(vm)).toBe(0);
    expect(vm.kvm[KVM_N_USED_MMU_PAGES]).toBe(0);
    expect(mmu.mmioLoad(0x1000_0000, 1)).toBe(0x5a);
    expect(mmu.busError).toBe(false);
    mmu.mmioStore(0x2000_0000, 4, 1);
    expect(mmu.busError).toBe(true); // nothing there: the bus decides, the hart raises 7
    expect(bus.accesses).toEqual(['load 10000000/1', 'store 20000000/4=1']);
  });
});

describe('Sv32: indirect shadow pages', () => {
  it('shadows the root and leaf tables keyed by gfn and level, and maps through them', () => {
    const vm = makeVm();
    const { mmu, kvm } = makeVcpu(vm);
    map4k(vm, ROOT, L1, VA, DATA, PTE_V | PTE_R | PTE_W);
    expect(mmu.translate(VA + 0x123, ACC_READ, PRV_S, SATP, 0)).toBe(pfnOf(vm, gfnOf(DATA)) * 4096);
    const root = mmu.root;
    expect(spMeta(vm, root)).toEqual({ gfn: gfnOf(ROOT), role: 2 });
    const child = childOf(vm, root, VA);
    expect(spMeta(vm, child)).toEqual({ gfn: gfnOf(L1), role: 1 });
    const [loc, spte] = leafSpte(vm, root, VA);
    expect(loc).toBe(child * 1024);
    expect(spte >>> 12).toBe(pfnOf(vm, gfnOf(DATA)));
    expect(vm.spGfns[loc]).toBe(gfnOf(DATA)); // sp->gfns
    expect(rmapOf(kvm, gfnOf(DATA))).toEqual([loc]);

    // The guest PTE got A, not D; the SPTE is read-only (clean gpte).
    expect(readPhys(vm, L1) & (PTE_A | PTE_D)).toBe(PTE_A);
    expect(spte & (SPTE_WRITABLE | SPTE_MMU_WRITEABLE)).toBe(0);

    // The first write faults, sets D in the guest PTE and upgrades the SPTE.
    expect(mmu.translate(VA, ACC_WRITE, PRV_S, SATP, 0)).toBe(pfnOf(vm, gfnOf(DATA)) * 4096);
    expect(readPhys(vm, L1) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    expect(vm.spt[loc]! & (SPTE_WRITABLE | SPTE_MMU_WRITEABLE | SPTE_DIRTY)).toBe(SPTE_WRITABLE | SPTE_MMU_WRITEABLE | SPTE_DIRTY);
    expect(rmapOf(kvm, gfnOf(DATA))).toEqual([loc]);
  });

  it('retries when the guest changed a PTE between the walk and mmu_lock (gpte_changed)', () => {
    const vm = makeVm();
    const { mmu, kvm } = makeVcpu(vm);
    map4k(vm, ROOT, L1, VA, DATA, PTE_V | PTE_R | PTE_A);
    let calls = 0;
    kvm.hookAfterGfnToPfn = () => {
      // Another vCPU rewrites the (not yet shadowed, so still writable) leaf table.
      if (calls++ === 0) writePhys(vm, L1, gpte(DATA2, PTE_V | PTE_R | PTE_A));
    };
    expect(mmu.translate(VA, ACC_READ, PRV_S, SATP, 0)).toBe(pfnOf(vm, gfnOf(DATA2)) * 4096);
    expect(vstat(vm, KVCPU_STAT_GPTE_CHANGED)).toBe(1);
    expect(rmapOf(kvm, gfnOf(DATA))).toEqual([]);
  });

  it('keeps one rmap entry per SPTE: the paging and the direct map both map a page', () => {
    const vm = makeVm();
    const { mmu, kvm } = makeVcpu(vm);
    map4k(vm, ROOT, L1, VA, DATA, PTE_V | PTE_R | PTE_A);
    mmu.translate(VA, ACC_READ, PRV_S, SATP, 0);
    mmu.translate(DATA, ACC_READ, PRV_M, 0, 0);
    const [a] = leafSpte(vm, mmu.root, VA);
    const [b] = leafSpte(vm, mmu.nonpagingRoot, DATA);
    expect(rmapOf(kvm, gfnOf(DATA))).toEqual([a, b].sort((x, y) => x - y));
  });

  it('shadows a 4 MiB megapage with a direct level-1 page whose role carries the access', () => {
    const vm = makeVm();
    const { mmu } = makeVcpu(vm);
    const mega = RAM + 0x40_0000;
    writePhys(vm, ROOT + 2 * 4, gpte(mega, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)); // va 0x0080_0000
    const va = 0x0080_1008;
    expect(mmu.translate(va, ACC_READ, PRV_S, SATP, 0)).toBe(pfnOf(vm, gfnOf(mega) + 1) * 4096);
    const child = childOf(vm, mmu.root, va);
    expect(spMeta(vm, child)).toEqual({ gfn: gfnOf(mega), role: 1 | ROLE_DIRECT | (((SPTE_READ | SPTE_WRITABLE) >>> 1) << ROLE_ACCESS_SHIFT) });
    const [loc, spte] = leafSpte(vm, mmu.root, va);
    expect(loc).toBe(child * 1024 + 1);
    expect(spte & (SPTE_WRITABLE | SPTE_MMU_WRITEABLE)).toBe(SPTE_WRITABLE | SPTE_MMU_WRITEABLE); // D was set

    // A clean megapage gets a different direct page, without write.
    writePhys(vm, ROOT + 3 * 4, gpte(mega, PTE_V | PTE_R | PTE_W | PTE_A)); // va 0x00c0_0000
    mmu.translate(0x00c0_1000, ACC_READ, PRV_S, SATP, 0);
    const clean = childOf(vm, mmu.root, 0x00c0_1000);
    expect(clean).not.toBe(child);
    expect(spMeta(vm, clean).role).toBe(1 | ROLE_DIRECT | ((SPTE_READ >>> 1) << ROLE_ACCESS_SHIFT));
    // Writing through it sets D and relinks to the writable page.
    mmu.translate(0x00c0_1000, ACC_WRITE, PRV_S, SATP, 0);
    expect(childOf(vm, mmu.root, 0x00c0_1000)).toBe(child);
  });
});

describe('guest faults', () => {
  function setup() {
    const vm = makeVm();
    const v = makeVcpu(vm);
    const t = (va: number, acc: number, priv = PRV_S, mstatus = 0, satp = SATP): number => {
      const r = v.mmu.translate(va, acc, priv, satp, mstatus);
      return r === XLATE_FAULT ? -v.mmu.faultCause : r >= 0 ? 1 : r;
    };
    return { vm, v, t };
  }

  it('reports 12/13/15 for an unmapped page', () => {
    const { t } = setup();
    expect(t(0x0100_0000, ACC_READ)).toBe(-13);
    expect(t(0x0100_0000, ACC_WRITE)).toBe(-15);
    expect(t(0x0100_0000, ACC_EXEC)).toBe(-12);
  });

  it('checks U, SUM, MXR and W-without-R as the privileged spec says', () => {
    const { vm, t } = setup();
    map4k(vm, ROOT, L1, VA, DATA, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U);
    map4k(vm, ROOT, L1, VA + 0x1000, DATA2, PTE_V | PTE_R | PTE_W);
    map4k(vm, ROOT, L1, VA + 0x2000, DATA2, PTE_V | PTE_W); // reserved: W without R
    map4k(vm, ROOT, L1, VA + 0x3000, DATA2, PTE_V | PTE_X); // execute-only
    expect(t(VA, ACC_READ)).toBe(-13); // U page from S without SUM
    expect(t(VA, ACC_READ, PRV_S, MSTATUS_SUM)).toBe(1);
    expect(t(VA, ACC_WRITE, PRV_S, MSTATUS_SUM)).toBe(1);
    expect(t(VA, ACC_EXEC, PRV_S, MSTATUS_SUM)).toBe(-12); // never execute U pages from S
    expect(t(VA, ACC_EXEC, PRV_U)).toBe(1);
    expect(t(VA + 0x1000, ACC_READ, PRV_U)).toBe(-13); // S page from U
    expect(t(VA + 0x1000, ACC_READ)).toBe(1);
    expect(t(VA + 0x2000, ACC_READ)).toBe(-13);
    expect(t(VA + 0x2000, ACC_WRITE)).toBe(-15);
    expect(t(VA + 0x3000, ACC_READ)).toBe(-13);
    expect(t(VA + 0x3000, ACC_READ, PRV_S, MSTATUS_MXR)).toBe(1);
    expect(t(VA + 0x3000, ACC_EXEC)).toBe(1);
  });

  it('faults a misaligned megapage and a page table outside RAM (access fault)', () => {
    const { vm, t } = setup();
    writePhys(vm, ROOT + 3 * 4, gpte(RAM + 0x40_1000, PTE_V | PTE_R | PTE_A | PTE_D));
    expect(t(0x00c0_0000, ACC_READ)).toBe(-13);
    const mmioRoot = satpFor(0x1000_0000);
    expect(t(0, ACC_EXEC, PRV_S, 0, mmioRoot)).toBe(-1);
    expect(t(0, ACC_READ, PRV_S, 0, mmioRoot)).toBe(-5);
    expect(t(0, ACC_WRITE, PRV_S, 0, mmioRoot)).toBe(-7);
  });

  it('caches a guest MMIO mapping in an MMIO SPTE: the next access needs no lock', () => {
    const { vm, v, t } = setup();
    map4k(vm, ROOT, L1, VA, 0x1000_0000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    expect(t(VA + 4, ACC_READ)).toBe(XLATE_MMIO);
    expect(v.mmu.mmioAddr).toBe(0x1000_0004);
    const [, spte] = leafSpte(vm, v.mmu.root, VA);
    expect(spte & (SPTE_MMIO | SPTE_PRESENT)).toBe(SPTE_MMIO);
    expect(spte >>> 12).toBe(0x10000);
    const locks = mmuLockAcquired(vm);
    const fast = vstat(vm, KVCPU_STAT_MMIO_FAST);
    expect(t(VA + 8, ACC_WRITE)).toBe(XLATE_MMIO);
    expect(v.mmu.mmioAddr).toBe(0x1000_0008);
    expect(mmuLockAcquired(vm)).toBe(locks);
    expect(vstat(vm, KVCPU_STAT_MMIO_FAST)).toBe(fast + 1);
    expect(t(VA, ACC_READ, PRV_U)).toBe(-13); // the MMIO SPTE keeps the guest's permissions
  });
});

describe('write protection of shadowed guest page tables', () => {
  it('write-protects the table everywhere, emulates writes to it and zaps what they change', () => {
    const vm = makeVm();
    const { mmu, kvm } = makeVcpu(vm);
    map4k(vm, ROOT, L1, VA, DATA, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    // M-mode touches the leaf table through the direct map: writable so far.
    expect(mmu.translate(L1 + 0x40, ACC_WRITE, PRV_M, 0, 0)).toBeGreaterThanOrEqual(0);
    const [tloc] = leafSpte(vm, mmu.nonpagingRoot, L1);
    expect(vm.spt[tloc]! & (SPTE_WRITABLE | SPTE_MMU_WRITEABLE)).toBe(SPTE_WRITABLE | SPTE_MMU_WRITEABLE);

    // Sv32 use of the table shadows it: pt_protect clears W and MMU_W, and flushes.
    const wpFlushes = vm.stats[STAT_FLUSH_CAUSE + FLUSH_CAUSE_SP_WRITE_PROTECT]!;
    expect(mmu.translate(VA, ACC_READ, PRV_S, SATP, 0)).toBe(pfnOf(vm, gfnOf(DATA)) * 4096);
    expect(vm.spt[tloc]! & (SPTE_WRITABLE | SPTE_MMU_WRITEABLE | SPTE_HOST_WRITEABLE)).toBe(SPTE_HOST_WRITEABLE);
    expect(vm.stats[STAT_FLUSH_CAUSE + FLUSH_CAUSE_SP_WRITE_PROTECT]).toBe(wpFlushes + 1);
    const [leaf] = leafSpte(vm, mmu.root, VA);
    expect(leaf).toBeGreaterThanOrEqual(0);

    // Reads of the table still go straight through.
    expect(mmu.translate(L1, ACC_READ, PRV_M, 0, 0)).toBe(pfnOf(vm, gfnOf(L1)) * 4096);
    // A write is emulated: the hart stores at hostAddr, then calls afterEmulatedWrite.
    expect(mmu.translate(L1, ACC_WRITE, PRV_M, 0, 0)).toBe(XLATE_EMULATE);
    expect(mmu.hostAddr).toBe(pfnOf(vm, gfnOf(L1)) * 4096);
    Atomics.store(vm.ramI32, mmu.hostAddr >>> 2, gpte(DATA2, PTE_V | PTE_R | PTE_A));
    mmu.afterEmulatedWrite();
    expect(vm.stats[STAT_MMU_PTE_WRITE]).toBe(1);
    expect(vm.spt[leaf]).toBe(0); // the SPTE derived from the old guest PTE is gone
    expect(rmapOf(kvm, gfnOf(DATA))).toEqual([]);
    // The next access sees the new mapping.
    expect(mmu.translate(VA, ACC_READ, PRV_S, SATP, 0)).toBe(pfnOf(vm, gfnOf(DATA2)) * 4096);
  });

  it('stops shadowing a table the guest keeps rewriting without using (write flooding)', () => {
    const vm = makeVm();
    const { mmu } = makeVcpu(vm);
    map4k(vm, ROOT, L1, VA, DATA, PTE_V | PTE_R | PTE_A);
    mmu.translate(VA, ACC_READ, PRV_S, SATP, 0);
    for (let i = 0; i < 3; i++) {
      expect(mmu.translate(L1 + 0x100 + 4 * i, ACC_WRITE, PRV_M, 0, 0)).toBe(XLATE_EMULATE);
      Atomics.store(vm.ramI32, mmu.hostAddr >>> 2, 0);
      mmu.afterEmulatedWrite();
    }
    expect(vm.stats[STAT_MMU_FLOODED]).toBe(1);
    expect(childOf(vm, mmu.root, VA)).toBe(-1); // unlinked
    expect(mmu.translate(L1 + 0x200, ACC_WRITE, PRV_M, 0, 0)).toBeGreaterThanOrEqual(0); // writable again
  });
});

describe('fast page fault (§2.3)', () => {
  function loggedVm() {
    const vm = makeVm();
    kvmSetUserMemoryRegion(new Kvm(vm), { slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM, memorySize: 16 << 20 });
    const v = makeVcpu(vm);
    const bitmap = vm.memslots[MEMSLOT_DIRTY_BASE]!;
    const dirty = (gfn: number): boolean => (vm.dirtyBitmap[bitmap + ((gfn - RAM_GFN) >>> 5)]! & (1 << ((gfn - RAM_GFN) & 31))) !== 0;
    const protect = (loc: number, ptProtect: boolean): void => {
      v.kvm.mmuLock.lock();
      spteWriteProtect(vm, loc, ptProtect);
      v.kvm.mmuLock.unlock();
    };
    return { vm, v, dirty, protect };
  }

  it('restores W on a direct page with a cmpxchg, no lock, and marks the page dirty', () => {
    const { vm, v, dirty, protect } = loggedVm();
    const pa = RAM + 0x7000;
    v.mmu.translate(pa, ACC_READ, PRV_M, 0, 0);
    expect(dirty(RAM_GFN + 7)).toBe(true); // set_spte granted write: logged
    vm.dirtyBitmap.fill(0);
    const [loc] = leafSpte(vm, v.mmu.nonpagingRoot, pa);
    protect(loc, false); // dirty-log style: W cleared, MMU_W kept
    expect(vm.spt[loc]! & (SPTE_WRITABLE | SPTE_MMU_WRITEABLE)).toBe(SPTE_MMU_WRITEABLE);

    const locks = mmuLockAcquired(vm);
    expect(v.mmu.translate(pa, ACC_WRITE, PRV_M, 0, 0)).toBe(pfnOf(vm, RAM_GFN + 7) * 4096);
    expect(mmuLockAcquired(vm)).toBe(locks);
    expect(vstat(vm, KVCPU_STAT_FAST_PF_FIXED)).toBe(1);
    expect(vm.spt[loc]! & SPTE_WRITABLE).toBe(SPTE_WRITABLE);
    expect(dirty(RAM_GFN + 7)).toBe(true);
    expect(v.req.currentMode).toBe(0); // READING_SHADOW_PAGE_TABLES was left again
  });

  it('marks dirty only after a successful cmpxchg; a lost race just faults again', () => {
    const { vm, v, dirty, protect } = loggedVm();
    const pa = RAM + 0x8000;
    v.mmu.translate(pa, ACC_READ, PRV_M, 0, 0);
    const [loc] = leafSpte(vm, v.mmu.nonpagingRoot, pa);
    protect(loc, false);
    vm.dirtyBitmap.fill(0);
    const seen: boolean[] = [];
    v.kvm.hookBeforeFastCmpxchg = (l) => {
      seen.push(dirty(RAM_GFN + 8));
      if (seen.length === 1) Atomics.or(vm.spt, l, SPTE_DIRTY); // the SPTE changes under us
    };
    expect(v.mmu.translate(pa, ACC_WRITE, PRV_M, 0, 0)).toBeGreaterThanOrEqual(0);
    expect(vstat(vm, KVCPU_STAT_FAST_PF_FAILED)).toBe(1);
    expect(vstat(vm, KVCPU_STAT_FAST_PF_FIXED)).toBe(1);
    expect(seen).toEqual([false, false]); // no bit after the failed attempt
    expect(dirty(RAM_GFN + 8)).toBe(true);
  });

  it('leaves MMU_W-clear and indirect SPTEs to the slow path; counts spurious faults', () => {
    const { vm, v, protect } = loggedVm();
    const pa = RAM + 0x9000;
    v.mmu.translate(pa, ACC_READ, PRV_M, 0, 0);
    const [loc] = leafSpte(vm, v.mmu.nonpagingRoot, pa);
    protect(loc, true); // pt_protect: MMU_W cleared too
    let locks = mmuLockAcquired(vm);
    expect(v.mmu.translate(pa, ACC_WRITE, PRV_M, 0, 0)).toBeGreaterThanOrEqual(0);
    expect(vstat(vm, KVCPU_STAT_FAST_PF_TO_SLOW)).toBe(1);
    expect(mmuLockAcquired(vm)).toBe(locks + 1);
    expect(vm.spt[loc]! & SPTE_WRITABLE).toBe(SPTE_WRITABLE); // not a page table: the slow path grants W

    map4k(vm, ROOT, L1, VA, DATA, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    v.mmu.translate(VA, ACC_WRITE, PRV_S, SATP, 0);
    const [iloc] = leafSpte(vm, v.mmu.root, VA);
    protect(iloc, false);
    locks = mmuLockAcquired(vm);
    expect(v.mmu.translate(VA, ACC_WRITE, PRV_S, SATP, 0)).toBe(pfnOf(vm, gfnOf(DATA)) * 4096);
    expect(vstat(vm, KVCPU_STAT_FAST_PF_TO_SLOW)).toBe(2); // indirect page: never fast (the ABA problem)
    expect(mmuLockAcquired(vm)).toBe(locks + 1);

    expect(fastPageFault(v.mmu, v.mmu.nonpagingRoot, pa)).toBe(RET_PF_RETRY); // already writable
    expect(vstat(vm, KVCPU_STAT_FAST_PF_SPURIOUS)).toBe(1);
  });
});

describe('MMU notifier (§2.9)', () => {
  it('zaps through the rmap carrying D to the host page, and makes a racing fault retry', () => {
    const vm = makeVm();
    const host = new Kvm(vm);
    const { mmu } = makeVcpu(vm);
    const pa = RAM + 0x9000;
    mmu.translate(pa, ACC_WRITE, PRV_M, 0, 0);
    const pfn = pfnOf(vm, RAM_GFN + 9);
    vm.pfnFlags[pfn] = 0;
    kvmMmuNotifierInvalidateRangeStart(host, RAM_GFN + 9, RAM_GFN + 10);
    kvmMmuNotifierInvalidateRangeEnd(host);
    expect(leafSpte(vm, mmu.nonpagingRoot, pa)[1]).toBe(0);
    expect(vm.pfnFlags[pfn]).toBe(PFN_ACCESSED | PFN_DIRTY);

    // A fault that looked its pfn up while an invalidation ran must not install it.
    let calls = 0;
    mmu.kvm.hookAfterGfnToPfn = (gfn) => {
      calls++;
      if (calls === 1) kvmMmuNotifierInvalidateRangeStart(host, gfn, gfn + 1); // count != 0
      else if (calls === 2) kvmMmuNotifierInvalidateRangeEnd(host); // seq moved
    };
    expect(mmu.translate(RAM + 0xa000, ACC_READ, PRV_M, 0, 0)).toBe(pfnOf(vm, RAM_GFN + 10) * 4096);
    expect(calls).toBe(3);
    expect(vstat(vm, KVCPU_STAT_PF_RETRY)).toBe(2);
  });
});

describe('pools', () => {
  it('zaps everything and reloads roots when shadow pages run low, and keeps translating', () => {
    const vm = makeVm({ memBytes: 64 << 20, shadowPages: 12 });
    const { mmu } = makeVcpu(vm);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 16; i++) {
        const pa = RAM + i * 0x40_0000 + 0x1000;
        expect(mmu.translate(pa, ACC_READ, PRV_M, 0, 0)).toBe(pfnOf(vm, gfnOf(pa)) * 4096);
      }
    }
    expect(vm.stats[STAT_MMU_RECYCLED]).toBeGreaterThan(0);
    expect(vm.kvm[KVM_N_USED_MMU_PAGES]).toBeLessThanOrEqual(12);
  });

  it('counts mmu_lock acquisitions: one per slow fault', () => {
    const vm = makeVm();
    const { mmu } = makeVcpu(vm);
    mmu.translate(RAM, ACC_READ, PRV_M, 0, 0); // root load + fault
    const n = mmuLockAcquired(vm);
    mmu.translate(RAM + 0x1000, ACC_READ, PRV_M, 0, 0);
    expect(mmuLockAcquired(vm)).toBe(n + 1);
    mmu.translate(RAM + 0x1000, ACC_READ, PRV_M, 0, 0); // present now: the walk alone
    expect(mmuLockAcquired(vm)).toBe(n + 1);
  });
});
