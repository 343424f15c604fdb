// The numbers src/ui/shared-layout.ts writes out instead of re-exporting (they
// live in modules the UI may not import: shm.ts, vcpu-ctl.ts, the console ring
// of src/devices) must equal the originals: the panels read live shared memory
// by them, and a mismatch would draw garbage instead of failing. This test is
// the guard. (What shared-layout.ts re-exports from fields.ts and
// event-format.ts cannot drift.)
import { describe, expect, it } from 'vitest';
import * as UI from '../../src/ui/shared-layout.ts';
import { HV_REGIONS, MAX_VCPUS, PAGE_WORDS } from '../../src/kvm/shm.ts';
import * as RING from '../../src/devices/console-ring.ts';
import { VCPU_INSTRET_HI, VCPU_INSTRET_LO, VCPU_STRIDE } from '../../src/kvm/vcpu-ctl.ts';

describe('src/ui/shared-layout.ts mirrors src/kvm', () => {
  it('vcpu-ctl.ts: the vCPU block stride and the instret words', () => {
    expect(UI.VCPU_STRIDE_WORDS).toBe(VCPU_STRIDE);
    expect(UI.VCPU_INSTRET_LO).toBe(VCPU_INSTRET_LO);
    expect(UI.VCPU_INSTRET_HI).toBe(VCPU_INSTRET_HI);
  });

  it.each(['RING_HEAD', 'RING_TAIL', 'RING_SIZE', 'RING_DROPPED', 'RING_HEADER_WORDS'] as const)(
    'devices/console-ring.ts %s', (name) => {
      expect(UI[name]).toBe(RING[name]);
    });

  it('MAX_VCPUS, PAGE_WORDS and the region names the panels look up', () => {
    expect(UI.MAX_VCPUS).toBe(MAX_VCPUS);
    expect(UI.PAGE_WORDS).toBe(PAGE_WORDS);
    const names = HV_REGIONS.map((r) => r.name);
    for (const r of [UI.REGION_EVENTS, UI.REGION_KVM_VCPU, UI.REGION_KVM_STATS, UI.REGION_LOCKS, UI.REGION_VCPU,
      UI.REGION_MEMSLOTS, UI.REGION_DIRTY_BITMAP, UI.REGION_GFN_TABLE, UI.REGION_SWAP_MAP, UI.REGION_SWAP, UI.REGION_KVM,
      UI.REGION_SP_META, UI.REGION_PFN_REFCOUNT]) {
      expect(names).toContain(r);
    }
  });

  it('the flush-cause and lock name tables cover every id the UI indexes', () => {
    expect(UI.FLUSH_CAUSE_NAMES.length).toBeGreaterThan(UI.FLUSH_CAUSE_SPTE_UPDATE);
    expect(UI.FLUSH_CAUSE_NAMES.length).toBeLessThanOrEqual(UI.FLUSH_CAUSES);
    expect(UI.LOCK_NAMES[UI.MMU_LOCK]).toBe('mmu_lock');
    expect(UI.LOCK_NAMES[UI.KVM_LOCK]).toBe('kvm_lock');
    expect(UI.EV_TYPE_NAMES[UI.EV_TLB_FLUSH]).toBe('tlb_flush');
  });
});
