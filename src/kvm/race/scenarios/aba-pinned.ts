// Variant of the ABA: the fast path on an indirect page, but pinning the gfn
// first (gfn_to_pfn_atomic), locking.txt's documented alternative. The pin
// keeps pfn1 out of the pool, so gfn2 gets another page, the SPTE value
// changes and the cmpxchg fails: nothing is lost. Unsafe: no pin.
import { UNSAFE_INDIRECT_FAST_PF } from '../../unsafe.ts';
import { RACE_FLAG_PIN_INDIRECT } from '../pause-points.ts';
import type { RaceScenario } from '../scenario.ts';
import { abaScript } from './aba-indirect.ts';

export const abaPinned: RaceScenario = {
  info: {
    name: 'aba-pinned',
    title: 'The ABA with the fast path pinning the gfn first',
    source: 'locking.txt 2 "Fast page fault" case 1), gfn_to_pfn_atomic (semantics §2.4, §7.1 variant)',
    protection: 'gfn_to_pfn_atomic pins the pfn before the cmpxchg (unsafe: indirect fast path without the pin)',
    lanes: ['vcpu0', 'host', 'vcpu1'],
    expectSafe: "pfn1 stays pinned, gfn2 gets another page, the SPTE value changes and the cmpxchg fails; gfn2's write is logged",
    expectUnsafe: 'without the pin pfn1 is reused for gfn2, the cmpxchg succeeds and marks gfn1: gfn2 is lost from the dirty log',
  },
  unsafeBits: () => UNSAFE_INDIRECT_FAST_PF,
  raceFlags: (unsafe) => (unsafe ? 0 : RACE_FLAG_PIN_INDIRECT),
  script: (e, unsafe) => abaScript(e, 'fast-pf:before-cmpxchg', unsafe
    ? 'The fast path (indirect-fast, no pin) read the SPTE and the gfn (gfn1) and is about to cmpxchg.'
    : 'The fast path pinned gfn1 with gfn_to_pfn_atomic (a reference on pfn1), read the SPTE, and is about to cmpxchg.'),
};
