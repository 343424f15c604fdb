// The lost dirty bit (locking.txt 2 case 2), §2.5 / §7.2). The host zaps a
// read-only SPTE with A set; between its read and its store, the fast path
// sets W and the guest's write sets D. A plain store (the old "not volatile"
// shortcut, 'plain-clear') overwrites that D: the host page is never marked
// dirty. The exchange (spte_has_volatile_bits: a locklessly modifiable SPTE is
// volatile) returns the D bit and kvm_set_pfn_dirty runs.
import { OP_GET_LOG, OP_LOAD, OP_STORE, OP_ZAP } from '../lane.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_PLAIN_SPTE_CLEAR } from '../../unsafe.ts';
import { RACE_RAM_GFN } from '../engine.ts';
import { Q } from './quotes.ts';
import { hex, physPage } from './layout.ts';

const GFN = RACE_RAM_GFN + 0x20;
const GPA = GFN * 4096;

export const lostDirtyBit: RaceScenario = {
  info: {
    name: 'lost-dirty-bit',
    title: 'The lost dirty bit: a plain store against the fast path',
    source: 'locking.txt 2 "Fast page fault" case 2): Dirty bit tracking (semantics §2.5, §7.2)',
    protection: 'spte_has_volatile_bits forces xchg on a locklessly modifiable SPTE (unsafe: plain-clear)',
    lanes: ['host', 'vcpu0'],
    expectSafe: "the zap's exchange returns the D bit the write set: kvm_set_pfn_dirty marks the host page",
    expectUnsafe: "the zap's plain store wins over W and D: the host page's dirty flag is lost",
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_PLAIN_SPTE_CLEAR : 0),
  async script(e) {
    await physPage(e, GFN, 'direct shadow page', 'vcpu0');
    await e.command('vcpu0', OP_LOAD, [GPA], 'done', {
      narrative: `vCPU 0 reads gfn ${hex(GFN)}: the slow path maps it (A set, D clear).`,
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: 'The VMM collects the dirty log: the SPTE is write-protected. Now W=0, A=1, D=0, and HOST_WRITEABLE + MMU_WRITEABLE say the fast path may set W at any time.',
      quote: Q.dirtyStart,
    });
    const loc = e.spteFor(0, GPA, true)?.loc ?? -1;
    await e.command('host', OP_ZAP, [GFN], { park: 'spte:after-read' }, {
      narrative: 'The host invalidates the page (an MMU-notifier zap, under mmu_lock): mmu_spte_clear_track_bits has read the SPTE (W=0, A=1) and is about to clear it.',
      quote: Q.dirtyRead,
    }, { points: ['spte:after-read'], arg: loc });
    await e.command('vcpu0', OP_STORE, [GPA, 7], 'done', {
      narrative: 'Meanwhile vCPU 0 writes the page: no lock needed. The fast path sets W with a cmpxchg, then the "hardware" walk sets D and the store lands.',
      quote: Q.dirtyRace,
    });
    await e.release('host', 'done', {
      narrative: 'The zap finishes. A plain store of 0 returns nothing: only the stale copy (no D) is carried to the host page. An exchange returns the value with D set.',
      quote: Q.dirtyStore,
    });
  },
};
