// GET_DIRTY_LOG against a concurrent store, point (c): between the write
// protection and the flush, through a stale writable TLB entry (semantics
// §7.4 c). The store needs no fault and sets no bit, yet it is covered: g is
// in the snapshot, and the flush comes before GET returns, so the copy made
// after return sees the data and every later store faults and is logged.
// Without the flush ('no-flush') the in-window store is still covered by the
// snapshot, but the TLB entry outlives GET: the store after return is lost.
import { OP_GET_LOG, OP_STORE } from '../lane.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_NO_FLUSH_AFTER_WRPROT } from '../../unsafe.ts';
import { RACE_RAM_GFN } from '../engine.ts';
import { Q } from './quotes.ts';
import { hex, physPage } from './layout.ts';

const GFN = RACE_RAM_GFN + 0x50;
const GPA = GFN * 4096;

export const getVsStoreC: RaceScenario = {
  info: {
    name: 'get-vs-store-c',
    title: 'GET_DIRTY_LOG vs a store (c): between the write-protect and the flush',
    source: 'kvm_vm_ioctl_get_dirty_log (3.6): the flush precedes return; locking.txt 2 case 3) (semantics §7.4 c, §6 I3)',
    protection: 'the remote TLB flush before GET returns (unsafe: no-flush)',
    lanes: ['vcpu0', 'host'],
    expectSafe: 'the store through the stale entry is in this snapshot; the flush then empties the TLB, so the store after return faults and is logged',
    expectUnsafe: 'the in-window store is still covered by the snapshot, but the stale entry survives GET: the store after return is in no dirty log',
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_NO_FLUSH_AFTER_WRPROT : 0),
  async script(e) {
    await physPage(e, GFN, 'g, direct shadow page', 'vcpu0');
    await e.command('vcpu0', OP_STORE, [GPA, 1], 'done', {
      narrative: `vCPU 0 writes g ${hex(GFN)}: mapped writable, marked, cached writable in its TLB.`,
    });
    await e.command('host', OP_GET_LOG, [], { park: 'get-log:before-flush' }, {
      narrative: 'GET_DIRTY_LOG exchanged the word (g in the snapshot) and write-protected g. The flush is next: the SPTE is read-only, the TLB entry still writable.',
      quote: Q.flush,
    });
    await e.command('vcpu0', OP_STORE, [GPA, 2], 'done', {
      narrative: 'vCPU 0 writes g through the stale writable TLB entry: no fault, no mark. It is covered anyway: g is in the snapshot and the copy comes after GET returns.',
    });
    await e.release('host', 'done', {
      narrative: 'GET flushes (kicks vCPU 0 and waits for its ack) and only then returns; with no-flush it returns at once, the TLB entry intact.',
      quote: Q.flushWhere,
    });
    await e.command('vcpu0', OP_STORE, [GPA, 3], 'done', {
      narrative: 'vCPU 0 writes g after GET returned. Flushed: TLB miss, fault, the fast path marks g. Not flushed: a TLB hit, nobody knows.',
    });
    await e.command('host', OP_GET_LOG, [], 'done', { narrative: 'The next collection; the checkers look for a write no collection reported.' });
  },
};
