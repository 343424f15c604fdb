// GET_DIRTY_LOG against a concurrent store, point (b): the store lands
// between the exchange of g's word and g's write protection (semantics §7.4 b).
// g was already dirty, so its SPTE is still writable and the store needs no
// fault: no new mark, but g's bit is in the snapshot GET just took, and the
// copy userspace makes after GET returns sees the data. Then g is protected.
// Clean both ways by design ('no-flush' is the unsafe run: the store came
// before the protection, so the flush does not concern it).
import { OP_GET_LOG, OP_STORE } from '../lane.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_NO_FLUSH_AFTER_WRPROT } from '../../unsafe.ts';
import { RACE_RAM_GFN } from '../engine.ts';
import { Q } from './quotes.ts';
import { hex, physPage } from './layout.ts';

/** g: page 0x50 of the slot, bitmap word 2. */
const GFN = RACE_RAM_GFN + 0x50;
const GPA = GFN * 4096;

export const getVsStoreB: RaceScenario = {
  info: {
    name: 'get-vs-store-b',
    title: 'GET_DIRTY_LOG vs a store (b): between the exchange and the write-protect',
    source: 'kvm_vm_ioctl_get_dirty_log (3.6) against a store through a writable SPTE (semantics §7.4 b, §6 I1)',
    protection: 'exchange first, write-protect second: a page in the snapshot may still be written until it is protected, and is reported now; clean both ways by design (unsafe: no-flush, which changes nothing here)',
    lanes: ['vcpu0', 'host'],
    expectSafe: 'the store lands while g is still writable: g is in this snapshot (reported now), then its SPTE is write-protected',
    expectUnsafe: 'still clean: the store came before the write-protect, so the missing flush does not concern it',
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_NO_FLUSH_AFTER_WRPROT : 0),
  oopsWhenUnsafe: false,
  async script(e) {
    await physPage(e, GFN, 'g, direct shadow page', 'vcpu0');
    await e.command('vcpu0', OP_STORE, [GPA, 1], 'done', {
      narrative: `vCPU 0 writes g ${hex(GFN)}: mapped writable, marked (word 2), and cached writable in its TLB.`,
    });
    await e.command('host', OP_GET_LOG, [], { park: 'get-log:after-xchg' }, {
      narrative: "GET_DIRTY_LOG exchanged g's word with 0 (g is in the snapshot, its live bit is clear) and is about to write-protect it. The SPTE is still writable.",
    }, { points: ['get-log:after-xchg'], arg: 2 });
    await e.command('vcpu0', OP_STORE, [GPA, 2], 'done', {
      narrative: 'vCPU 0 writes g again: a TLB hit on a writable SPTE, legitimately: no fault, no new mark. The snapshot GET holds already has g.',
    });
    await e.release('host', 'done', {
      narrative: 'GET write-protects g and flushes: g is reported now, and the data the store wrote are there for the copy made after GET returns.',
      quote: Q.flush,
    });
    await e.command('host', OP_GET_LOG, [], 'done', { narrative: 'A final collection; the checkers look for a write no collection reported.' });
  },
};
