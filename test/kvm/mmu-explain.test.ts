// The shadow-MMU explorer's read-only walks (src/kvm/mmu-explain.ts): bare
// and Sv32 guests, direct and indirect shadow pages, a megapage, a swapped-out
// guest table, the rmap of a page, and that explaining changes nothing.
import { describe, expect, it } from 'vitest';
import { ACC_READ, ACC_WRITE, PRV_M, PRV_S } from '../../src/cpu/memory.ts';
import { describePage, explainAddress, formatExplanation } from '../../src/kvm/mmu-explain.ts';
import { kvmKsmMergePages, kvmSwapOutPage } from '../../src/kvm/host-ops.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import type { VmShared } from '../../src/kvm/shm.ts';
import {
  PTE_A, PTE_D, PTE_R, PTE_V, PTE_W, PTE_X, RAM, RAM_GFN, gpte, makeVcpu, makeVm, map4k, pfnOf, rmapOf, satpFor,
  writePhys,
} from './mmu-helpers.ts';

const ROOT = RAM + 0x10000;
const L1 = RAM + 0x11000;
const DATA = RAM + 0x20000;
const VA = 0x0040_0000;
const MEGA_VA = 0x0080_0000;
const MEGA_PA = RAM + 0x40_0000;
const SATP = satpFor(ROOT);
const RWAD = PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;

const gfnOf = (pa: number) => Math.floor(pa / 4096);

/** Copies of both buffers, to prove a walk wrote nothing. */
function snapshot(vm: VmShared): [Int32Array, Int32Array] {
  return [new Int32Array(vm.hv).slice(), new Int32Array(vm.ram).slice()];
}

/** The first word that differs ('hv@i' / 'ram@i'), or 'same' (no giant diff on failure). */
function changed(vm: VmShared, before: [Int32Array, Int32Array]): string {
  const now = [new Int32Array(vm.hv), new Int32Array(vm.ram)];
  for (let b = 0; b < 2; b++) {
    for (let i = 0; i < now[b]!.length; i++) if (now[b]![i] !== before[b]![i]) return `${b ? 'ram' : 'hv'}@${i}`;
  }
  return 'same';
}

describe('explainAddress, satp bare: the direct nonpaging map', () => {
  it('walks the vCPU nonpaging root to a direct leaf with its bits and pfn', () => {
    const vm = makeVm();
    const { mmu } = makeVcpu(vm);
    const pa = RAM + 0x5000;
    mmu.translate(pa, ACC_READ, PRV_S, 0, 0);
    const before = snapshot(vm);
    const e = explainAddress(vm, 0, pa + 0x10, 0, PRV_S);
    expect(changed(vm, before)).toBe('same');
    expect(e.mode).toBe('bare');
    expect(e.guest).toEqual([]);
    expect(e.gpa).toBe(pa + 0x10);
    expect(e.gfn).toBe(RAM_GFN + 5);
    expect(e.root).toBe(mmu.nonpagingRoot);
    expect(e.rootNote).toMatch(/vCPU 0's nonpaging/);
    expect(e.shadow).toHaveLength(2);
    expect(e.shadow[0]!.leaf).toBe(false);
    const leaf = e.shadow[1]!;
    expect(leaf.page).toMatchObject({ direct: true, nonpaging: true, level: 1, gfn: RAM_GFN });
    expect(leaf.leaf).toBe(true);
    expect(leaf.target).toBe(pfnOf(vm, RAM_GFN + 5));
    expect(leaf.gfn).toBe(RAM_GFN + 5);
    expect(leaf.bits).toMatchObject({ W: true, A: true, D: false, HOST_WRITEABLE: true, MMU_WRITEABLE: true });
    expect(e.host).toMatchObject({ state: 'resident', pfn: pfnOf(vm, RAM_GFN + 5) });
    const text = formatExplanation(e).join('\n');
    expect(text).toMatch(/satp = bare/);
    expect(text).toMatch(/direct, nonpaging, level 1/);
    expect(text).toMatch(/HOST_WRITEABLE=1 MMU_WRITEABLE=1 pfn 0x/);
  });

  it('M-mode is bare whatever satp says; a page not touched yet has no SPTE', () => {
    const vm = makeVm();
    const { mmu } = makeVcpu(vm);
    mmu.translate(RAM, ACC_READ, PRV_S, 0, 0);
    const e = explainAddress(vm, 0, RAM + 0x9000, SATP, PRV_M);
    expect(e.mode).toBe('bare');
    expect(e.shadow[1]!.present).toBe(false);
    expect(e.shadowNote).toMatch(/not present/);
    expect(e.host!.state).toBe('unbacked');
  });

  it('an address outside RAM is MMIO and a VM with no root says so', () => {
    const vm = makeVm();
    makeVcpu(vm);
    expect(explainAddress(vm, 0, 0x1000_0000, 0, PRV_S).shadowNote).toMatch(/MMIO/);
    const e = explainAddress(vm, 0, RAM, 0, PRV_S);
    expect(e.root).toBe(-1);
    expect(e.shadowNote).toMatch(/no shadow root/);
  });
});

describe('explainAddress, Sv32', () => {
  it('4 KiB page: guest level 1 pointer and level 0 leaf, indirect shadow pages, then the pfn', () => {
    const vm = makeVm();
    const { mmu } = makeVcpu(vm);
    map4k(vm, ROOT, L1, VA, DATA, RWAD);
    mmu.translate(VA, ACC_READ, PRV_S, SATP, 0);
    const before = snapshot(vm);
    const e = explainAddress(vm, 0, VA + 0x123, SATP, PRV_S);
    expect(changed(vm, before)).toBe('same');
    expect(e.mode).toBe('sv32');
    expect(e.guest.map((g) => [g.level, g.kind, g.tableGfn])).toEqual([[1, 'pointer', gfnOf(ROOT)], [0, 'leaf', gfnOf(L1)]]);
    expect(e.guest[1]!.flags).toBe('VRWAD');
    expect(e.gpa).toBe(DATA + 0x123);
    expect(e.root).toBe(mmu.root);
    expect(e.shadow[0]!.page).toMatchObject({ direct: false, level: 2, gfn: gfnOf(ROOT) });
    expect(e.shadow[1]!.page).toMatchObject({ direct: false, level: 1, gfn: gfnOf(L1) });
    expect(e.shadow[1]!.target).toBe(pfnOf(vm, gfnOf(DATA)));
    expect(e.shadow[1]!.gfn).toBe(gfnOf(DATA));
    // A read of a page with D set: the SPTE is writable (the guest allows it).
    expect(e.shadow[1]!.bits).toMatchObject({ A: true, W: true, MMU_WRITEABLE: true });
    expect(formatExplanation(e).join('\n')).toMatch(/guest level 0: .* VRWAD \(leaf; host pfn/);
  });

  it('a megapage is shadowed by a direct level-1 page of 4 KiB SPTEs', () => {
    const vm = makeVm();
    const { mmu } = makeVcpu(vm);
    writePhys(vm, ROOT + (MEGA_VA >>> 22) * 4, gpte(MEGA_PA, RWAD | PTE_X));
    mmu.translate(MEGA_VA + 0x3000, ACC_WRITE, PRV_S, SATP, 0);
    const e = explainAddress(vm, 0, MEGA_VA + 0x3004, SATP, PRV_S);
    expect(e.guest).toHaveLength(1);
    expect(e.guest[0]!.kind).toBe('megapage');
    expect(e.gpa).toBe(MEGA_PA + 0x3004);
    expect(e.shadow[0]!.page.direct).toBe(false);
    expect(e.shadow[1]!.page).toMatchObject({ direct: true, nonpaging: false, level: 1, gfn: gfnOf(MEGA_PA) });
    expect(e.shadow[1]!.bits).toMatchObject({ W: true, D: true });
  });

  it('an invalid guest PTE is a guest page fault and stops the walk', () => {
    const vm = makeVm();
    makeVcpu(vm);
    map4k(vm, ROOT, L1, VA, DATA, RWAD);
    const e = explainAddress(vm, 0, VA + 0x1000, SATP, PRV_S);
    expect(e.guest[1]!.kind).toBe('invalid');
    expect(e.guestFault).toMatch(/V = 0/);
    expect(e.gpa).toBe(-1);
    expect(e.shadow).toEqual([]);
  });

  it('reads a swapped-out guest table from its swap slot without swapping it in', () => {
    const vm = makeVm();
    const { mmu } = makeVcpu(vm);
    map4k(vm, ROOT, L1, VA, DATA, RWAD);
    mmu.translate(VA, ACC_READ, PRV_S, SATP, 0);
    expect(kvmSwapOutPage(new Kvm(vm), gfnOf(L1))).toBe(true);
    const before = snapshot(vm);
    const e = explainAddress(vm, 0, VA, SATP, PRV_S);
    expect(changed(vm, before)).toBe('same');
    expect(e.guest[1]!.source).toMatch(/swap slot \d+/);
    expect(e.gpa).toBe(DATA);
    expect(describePage(vm, gfnOf(L1)).host.state).toBe('swapped');
  });
});

describe('describePage: the rmap of a gfn', () => {
  it('lists every SPTE mapping the page, and none after swap-out; KSM pages show as shared', () => {
    const vm = makeVm();
    const { mmu, kvm } = makeVcpu(vm);
    map4k(vm, ROOT, L1, VA, DATA, RWAD);
    mmu.translate(VA, ACC_READ, PRV_S, SATP, 0); // indirect SPTE -> DATA
    mmu.translate(DATA, ACC_READ, PRV_S, 0, 0); // direct SPTE -> DATA
    const d = describePage(vm, gfnOf(DATA));
    expect(d.sptes.map((s) => s.loc).sort((a, b) => a - b)).toEqual(rmapOf(kvm, gfnOf(DATA)));
    expect(d.sptes).toHaveLength(2);
    expect(d.sptes.map((s) => s.page.direct).sort()).toEqual([false, true]);
    expect(d.sptes.every((s) => s.target === d.host.pfn)).toBe(true);
    expect(d.host.refcount).toBeGreaterThanOrEqual(1);

    // Two zero pages merge into one read-only shared pfn.
    const host = new Kvm(vm);
    pfnOf(vm, RAM_GFN + 100);
    pfnOf(vm, RAM_GFN + 101);
    expect(kvmKsmMergePages(host, RAM_GFN + 100, RAM_GFN + 101)).toBe(true);
    const a = describePage(vm, RAM_GFN + 100).host;
    const b = describePage(vm, RAM_GFN + 101).host;
    expect(a.state).toBe('ksm');
    expect(b).toMatchObject({ state: 'ksm', pfn: a.pfn, refcount: 2 });

    expect(kvmSwapOutPage(host, gfnOf(DATA))).toBe(true);
    expect(describePage(vm, gfnOf(DATA)).sptes).toEqual([]);
    expect(describePage(vm, 0x10).host.state).toBe('mmio');
  });
});
