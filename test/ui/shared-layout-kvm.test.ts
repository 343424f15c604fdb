// The numbers src/ui/shared-layout.ts writes out instead of re-exporting (they
// live in src/kvm modules the UI may not import) must equal src/kvm's: the
// panels read live shared memory by them, and a mismatch would draw garbage
// instead of failing. This test is the guard. (What shared-layout.ts
// re-exports from fields.ts and event-format.ts cannot drift.)
import { describe, expect, it } from 'vitest';
import * as UI from '../../src/ui/shared-layout.ts';
import * as F from '../../src/kvm/fields.ts';
import { HV_REGIONS, MAX_VCPUS } from '../../src/kvm/shm.ts';
import { VCPU_INSTRET_HI, VCPU_INSTRET_LO, VCPU_STRIDE } from '../../src/kvm/vcpu-ctl.ts';

/** The UI constants that mirror a src/kvm constant of the same name. */
const MIRRORED_FIELDS = [
  'KVCPU_WORDS', 'KVCPU_MODE', 'KVCPU_STAT_TLB_MISS', 'KVCPU_STAT_PF_FIXED', 'KVCPU_STAT_PF_GUEST',
  'KVCPU_STAT_MMIO_EXITS', 'KVCPU_STAT_PF_EMULATE', 'KVCPU_STAT_FAST_PF_FIXED', 'KVCPU_STAT_FAST_PF_FAILED',
  'KVCPU_STAT_FAST_PF_SPURIOUS', 'KVCPU_STAT_FAST_PF_TO_SLOW', 'KVCPU_STAT_TLB_FLUSH',
  'STAT_REMOTE_TLB_FLUSH', 'STAT_FLUSH_IPIS', 'STAT_FLUSH_WAIT_US_TOTAL', 'STAT_FLUSH_WAIT_US_MAX', 'STAT_FLUSH_CAUSE',
  'FLUSH_CAUSE_DIRTY_LOG', 'FLUSH_CAUSE_SP_WRITE_PROTECT', 'FLUSH_CAUSE_REMOTE_FENCE', 'FLUSH_CAUSE_MMU_NOTIFIER',
  'FLUSH_CAUSE_ZAP', 'FLUSH_CAUSE_SPTE_UPDATE', 'FLUSH_CAUSES', 'FLUSH_CAUSE_NAMES',
  'LOCK_STATE', 'LOCK_OWNER', 'LOCK_ACQUIRED', 'LOCK_CONTENDED', 'LOCK_WAIT_NS_LO', 'LOCK_WAIT_NS_HI',
  'LOCK_HOLD_NS_LO', 'LOCK_HOLD_NS_HI', 'LOCK_MAX_WAIT_NS', 'LOCK_MAX_HOLD_NS', 'LOCK_WORDS', 'LOCK_SLOTS',
  'MMU_LOCK', 'KVM_LOCK', 'LOCK_NAMES', 'KVM_OWNER_VMM',
] as const;

describe('src/ui/shared-layout.ts mirrors src/kvm', () => {
  it.each(MIRRORED_FIELDS)('fields.ts %s', (name) => {
    expect((UI as Record<string, unknown>)[name]).toEqual((F as Record<string, unknown>)[name]);
  });

  it('vcpu-ctl.ts: the vCPU block stride and the instret words', () => {
    expect(UI.VCPU_STRIDE_WORDS).toBe(VCPU_STRIDE);
    expect(UI.VCPU_INSTRET_LO).toBe(VCPU_INSTRET_LO);
    expect(UI.VCPU_INSTRET_HI).toBe(VCPU_INSTRET_HI);
  });

  it('MAX_VCPUS and the region names the panels look up', () => {
    expect(UI.MAX_VCPUS).toBe(MAX_VCPUS);
    const names = HV_REGIONS.map((r) => r.name);
    for (const r of [UI.REGION_EVENTS, UI.REGION_KVM_VCPU, UI.REGION_KVM_STATS, UI.REGION_LOCKS, UI.REGION_VCPU,
      UI.REGION_MEMSLOTS, UI.REGION_DIRTY_BITMAP, UI.REGION_GFN_TABLE]) {
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
