// A hand-made race run for the race lab's UI tests: the lost dirty bit of
// locking.txt §2.2 with the protection off, in the shape src/kvm/race/types.ts
// fixes (the values are made up but consistent step to step).
import type { RaceRun, RaceScenarioInfo, RaceSnapshot, RaceSpte } from '../../src/ui/vmm-api.ts';

export const INFO: RaceScenarioInfo = {
  name: 'lost-dirty-bit',
  title: 'The lost dirty bit',
  source: 'locking.txt 2.2',
  protection: 'spte_has_volatile_bits forces xchg',
  lanes: ['vcpu0', 'host', 'guest'],
  expectSafe: 'The D bit survives the zap: the page is logged.',
  expectUnsafe: 'The plain store drops D: the host page is never marked dirty.',
};

const spte = (value: number, flags: string[]): RaceSpte => ({ label: 'SPTE gfn 0x5', loc: 12, value, flags, pfn: 0x21 });
const snap = (over: Partial<RaceSnapshot>): RaceSnapshot => ({
  sptes: [spte(0x2105, ['PRESENT', 'A', 'HOST_WRITEABLE', 'MMU_WRITEABLE'])],
  dirty: [{ gfn: 5, live: false, collected: false, hostDirty: false }],
  tlb: [],
  notes: { 'vcpu0.mode': 'IN_GUEST_MODE' },
  ...over,
});

export const RUN: RaceRun = {
  scenario: 'lost-dirty-bit',
  unsafe: true,
  steps: [
    {
      index: 0, lane: 'host', action: 'mmuSpteClearTrackBits: read SPTE 0x00002105 (W=0, A=1)',
      parkedAt: 'clearTrackBits.afterRead', narrative: 'The zapper sees no volatile bit and picks a plain store.',
      quote: null, snapshot: snap({}),
    },
    {
      index: 1, lane: 'vcpu0', action: 'fastPageFault: cmpxchg sets W',
      parkedAt: null, narrative: 'The fast path makes the SPTE writable without mmu_lock.',
      quote: 'the spte can be updated out of mmu-lock',
      snapshot: snap({
        sptes: [spte(0x2107, ['PRESENT', 'W', 'A', 'HOST_WRITEABLE', 'MMU_WRITEABLE'])],
        tlb: [{ vcpu: 0, gva: 0x40005000, pfn: 0x21, writable: true }],
      }),
    },
    {
      index: 2, lane: 'guest', action: 'store to gva 0x40005000 sets D',
      parkedAt: null, narrative: 'The write goes through the TLB; the dirty bit is set.',
      quote: null,
      snapshot: snap({
        sptes: [spte(0x2187, ['PRESENT', 'W', 'A', 'D', 'HOST_WRITEABLE', 'MMU_WRITEABLE'])],
        dirty: [{ gfn: 5, live: true, collected: false, hostDirty: false }],
        tlb: [{ vcpu: 0, gva: 0x40005000, pfn: 0x21, writable: true }],
      }),
    },
    {
      index: 3, lane: 'host', action: 'mmuSpteClearTrackBits: plain store 0',
      parkedAt: 'clearTrackBits.afterStore', narrative: 'The plain store wins: D is gone and never reaches the host page.',
      quote: 'the dirty bit is lost',
      snapshot: snap({
        sptes: [{ label: 'SPTE gfn 0x5', loc: 12, value: 0, flags: [], pfn: -1 }],
        dirty: [{ gfn: 5, live: true, collected: false, hostDirty: false }],
        tlb: [],
        notes: { 'vcpu0.mode': 'OUTSIDE_GUEST_MODE', 'mmu_notifier_seq': 3 },
      }),
    },
  ],
  verdict: { checker: 'host dirty flag', violations: ['pfn 0x21 (gfn 0x5) was written but its host page is clean'], expected: true },
};

/** The same steps with the protection on: clean. */
export const SAFE_RUN: RaceRun = {
  ...RUN,
  unsafe: false,
  verdict: { checker: 'host dirty flag', violations: [], expected: true },
};
