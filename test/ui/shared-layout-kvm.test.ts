// The UI's copy of the hypervisor layout (src/ui/shared-layout.ts) must equal
// src/kvm's: the panels read live shared memory by these numbers, and a
// mismatch would draw garbage instead of failing. This test is the guard.
import { describe, expect, it } from 'vitest';
import * as UI from '../../src/ui/shared-layout.ts';
import * as F from '../../src/kvm/fields.ts';
import * as E from '../../src/kvm/events.ts';
import { HV_REGIONS, MAX_VCPUS } from '../../src/kvm/shm.ts';

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

const MIRRORED_EVENTS = [
  'EV_HEAD', 'EV_DISABLED', 'EV_HDR_WORDS', 'EV_SEQ', 'EV_TYPE', 'EV_VCPU', 'EV_TIME_LO', 'EV_TIME_HI', 'EV_A',
  'EV_B', 'EV_C', 'EV_RECORD_WORDS', 'EV_CAPACITY', 'EV_MASK', 'EV_FAST_PF_FIXED', 'EV_FAST_PF_FAILED',
  'EV_SLOW_PF', 'EV_GUEST_FAULT', 'EV_TLB_FLUSH', 'EV_WRITE_PROTECT', 'EV_ZAP', 'EV_DIRTY_COLLECT',
  'EV_LOCK_CONTENDED', 'EV_TYPE_NAMES', 'EV_FLUSH_CAUSE_MASK', 'EV_FLUSH_SKIP_SHIFT',
] as const;

describe('src/ui/shared-layout.ts mirrors src/kvm', () => {
  it.each(MIRRORED_FIELDS)('fields.ts %s', (name) => {
    expect((UI as Record<string, unknown>)[name]).toEqual((F as Record<string, unknown>)[name]);
  });

  it.each(MIRRORED_EVENTS)('event-format.ts / events.ts %s', (name) => {
    expect((UI as Record<string, unknown>)[name]).toEqual((E as Record<string, unknown>)[name]);
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
