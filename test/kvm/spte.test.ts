import { describe, expect, it } from 'vitest';
import {
  SPTE_ACCESSED, SPTE_DIRTY, SPTE_EXEC, SPTE_HOST_WRITEABLE, SPTE_MMIO, SPTE_MMU_WRITEABLE, SPTE_PRESENT,
  SPTE_READ, SPTE_USER, SPTE_WRITABLE, isLastSpte, isShadowPresentPte, mmuSpteClearTrackBits, mmuSpteUpdate,
  spteHasVolatileBits, spteIsLocklesslyModifiable, spteWriteProtect,
} from '../../src/kvm/spte.ts';
import { PFN_ACCESSED, PFN_DIRTY } from '../../src/kvm/fields.ts';
import { makeVm } from './mmu-helpers.ts';
import { A, D, HW, MW, P, R, W } from './spte-bits.ts';

const pfn = (n: number): number => n << 12;

describe('SPTE layout', () => {
  it('keeps the 3.6 bit positions for the software-writable bits', () => {
    expect([SPTE_PRESENT, SPTE_WRITABLE, SPTE_USER, SPTE_EXEC, SPTE_READ, SPTE_ACCESSED, SPTE_DIRTY]).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(SPTE_MMIO).toBe(1 << 9);
    expect(SPTE_HOST_WRITEABLE).toBe(1 << 10);
    expect(SPTE_MMU_WRITEABLE).toBe(1 << 11);
  });

  it('tells leaves from table links and MMIO SPTEs from present ones', () => {
    expect(isLastSpte(P | pfn(7), 2)).toBe(false); // link: P with R/W/X clear
    expect(isLastSpte(P | R | pfn(7), 2)).toBe(true);
    expect(isLastSpte(P | pfn(7), 1)).toBe(true);
    expect(isShadowPresentPte(SPTE_MMIO | R | pfn(0x10000))).toBe(false);
  });
});

describe('spteIsLocklesslyModifiable / spteHasVolatileBits (§2.5)', () => {
  it('needs HOST_W and MMU_W together', () => {
    expect(spteIsLocklesslyModifiable(P | HW | MW)).toBe(true);
    expect(spteIsLocklesslyModifiable(P | HW)).toBe(false);
    expect(spteIsLocklesslyModifiable(P | MW)).toBe(false);
  });

  it('follows the 3.6 rule', () => {
    // The fast path may set W: volatile even with A set and W clear.
    expect(spteHasVolatileBits(P | R | A | HW | MW)).toBe(true);
    // Not present: nothing can change it outside the lock.
    expect(spteHasVolatileBits(0)).toBe(false);
    expect(spteHasVolatileBits(SPTE_MMIO | R)).toBe(false);
    // Hardware may still set A.
    expect(spteHasVolatileBits(P | R | HW)).toBe(true);
    // Hardware may set D on a writable SPTE.
    expect(spteHasVolatileBits(P | R | W | A | HW)).toBe(true);
    // A set and (W clear or D set): stable.
    expect(spteHasVolatileBits(P | R | A | HW)).toBe(false);
    expect(spteHasVolatileBits(P | R | W | A | D | HW)).toBe(false);
  });
});

describe('mmuSpteUpdate / mmuSpteClearTrackBits', () => {
  it('asks for a flush exactly when write access goes away', () => {
    const vm = makeVm();
    const base = P | R | A | HW | MW | pfn(3);
    vm.spt[0] = base | W;
    expect(mmuSpteUpdate(vm, 0, base)).toBe(true); // W -> RO
    expect(vm.spt[0]).toBe(base);
    expect(mmuSpteUpdate(vm, 0, base)).toBe(false); // RO -> RO
    expect(mmuSpteUpdate(vm, 0, base | W)).toBe(false); // RO -> W
    vm.spt[1] = 0;
    expect(mmuSpteUpdate(vm, 1, base | W)).toBe(false); // not present: a plain set
    expect(vm.spt[1]).toBe(base | W);
  });

  it('carries A/D the update clears to the host page', () => {
    const vm = makeVm();
    vm.pfnFlags[3] = 0;
    vm.spt[0] = P | R | W | A | D | HW | MW | pfn(3);
    mmuSpteUpdate(vm, 0, P | R | HW | MW | pfn(3));
    expect(vm.pfnFlags[3]! & (PFN_ACCESSED | PFN_DIRTY)).toBe(PFN_ACCESSED | PFN_DIRTY);
  });

  it('clears a leaf and reports A and D of the value it removed', () => {
    const vm = makeVm();
    vm.pfnFlags[9] = 0;
    vm.spt[5] = P | R | W | A | HW | MW | pfn(9);
    const old = mmuSpteClearTrackBits(vm, 5);
    expect(old).toBe(P | R | W | A | HW | MW | pfn(9));
    expect(vm.spt[5]).toBe(0);
    expect(vm.pfnFlags[9]).toBe(PFN_ACCESSED); // no D: the page was never written
    vm.spt[6] = SPTE_MMIO | R | pfn(9);
    vm.pfnFlags[9] = 0;
    mmuSpteClearTrackBits(vm, 6);
    expect(vm.pfnFlags[9]).toBe(0); // an MMIO SPTE maps no host page
  });
});

describe('spteWriteProtect (§2.6)', () => {
  it('keeps MMU_W for dirty logging and clears it for shadowed page tables', () => {
    const vm = makeVm();
    const s = P | R | W | A | D | HW | MW | pfn(4);
    vm.spt[0] = s;
    expect(spteWriteProtect(vm, 0, false)).toBe(true);
    expect(vm.spt[0]).toBe(s & ~W);
    // Already read-only, but the fast path could make it writable: pt_protect
    // still acts (clears MMU_W) though no flush is needed.
    expect(spteWriteProtect(vm, 0, true)).toBe(false);
    expect(vm.spt[0]).toBe(s & ~(W | MW));
    expect(spteWriteProtect(vm, 0, true)).toBe(false);
    expect(vm.spt[0]).toBe(s & ~(W | MW));
  });
});
