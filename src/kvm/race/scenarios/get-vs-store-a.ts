// GET_DIRTY_LOG against a concurrent store, point (a): the store lands before
// GET exchanges its bitmap word (semantics §7.4 a). GET is parked after
// exchanging an *earlier* word (a decoy page's), mmu_lock held; vCPU 1 writes
// gfn g through the lock-free fast path, which marks g in a word GET has not
// reached yet. GET then exchanges that word: g is in this very collection.
// Clean both ways by design: the exchange takes whatever bits are there, with
// or without the flush ('no-flush' is the unsafe run; it changes nothing here).
import { OP_GET_LOG, OP_STORE } from '../lane.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_NO_FLUSH_AFTER_WRPROT } from '../../unsafe.ts';
import { RACE_RAM_GFN } from '../engine.ts';
import { Q } from './quotes.ts';
import { hex, physPage } from './layout.ts';

/** g: page 0x50 of the slot, bitmap word 2. The decoy: page 0x08, word 0. */
const GFN = RACE_RAM_GFN + 0x50;
const GPA = GFN * 4096;
const DECOY = RACE_RAM_GFN + 0x08;

export const getVsStoreA: RaceScenario = {
  info: {
    name: 'get-vs-store-a',
    title: 'GET_DIRTY_LOG vs a store (a): the store before the exchange',
    source: 'kvm_vm_ioctl_get_dirty_log (3.6) against the fast page fault (semantics §7.4 a, §6 I1)',
    protection: 'the bitmap word is taken by an atomic exchange, so a bit set before it is in the snapshot; clean both ways by design (unsafe: no-flush, which changes nothing here)',
    lanes: ['vcpu1', 'host', 'vcpu0'],
    expectSafe: 'the fast path marks g before GET reaches its word: g is reported by this very GET',
    expectUnsafe: 'still clean: the flush matters only for stores after the write-protect (see get-vs-store-c and -d)',
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_NO_FLUSH_AFTER_WRPROT : 0),
  oopsWhenUnsafe: false,
  async script(e) {
    await physPage(e, GFN, 'g, direct shadow page', 'vcpu0', 'vcpu1');
    e.watchGfn(DECOY);
    await e.command('vcpu0', OP_STORE, [GPA, 1], 'done', {
      narrative: `vCPU 0 writes g ${hex(GFN)}: the slow path maps it writable and marks it (bit 0x50: bitmap word 2).`,
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: 'The VMM collects: g is reported and its SPTE write-protected (W cleared, MMU_WRITEABLE kept): the next write to g faults.',
    });
    await e.command('vcpu1', OP_STORE, [DECOY * 4096, 1], 'done', {
      narrative: `vCPU 1 writes a decoy page ${hex(DECOY)} (bitmap word 0), so the next GET has an earlier word to exchange first.`,
    });
    await e.command('host', OP_GET_LOG, [], { park: 'get-log:after-xchg' }, {
      narrative: 'GET_DIRTY_LOG, under mmu_lock, exchanged word 0 (the decoy) with 0 and is about to write-protect it. Word 2 (g) is not taken yet.',
    }, { points: ['get-log:after-xchg'], arg: 0 });
    await e.command('vcpu1', OP_STORE, [GPA, 2], 'done', {
      narrative: 'vCPU 1 writes g: TLB miss, the walk finds the read-only SPTE, the fast path (no mmu_lock) sets W by cmpxchg and marks g in word 2.',
      quote: Q.fastPfIntro,
    });
    await e.release('host', 'done', {
      narrative: 'GET goes on: word 2 is non-zero, so it is exchanged (g in the snapshot), g write-protected, TLBs flushed (unless no-flush). g is reported now.',
    });
    await e.command('host', OP_GET_LOG, [], 'done', { narrative: 'A final collection; the checkers look for a write no collection reported.' });
  },
};
