// GET_DIRTY_LOG against a concurrent store, point (d): after the flush, before
// GET returns (semantics §7.4 d). The TLB is empty, so the store faults on
// the read-only SPTE and the fast path marks g in the live bitmap: reported
// by the next GET. Without the flush ('no-flush') the store hits the stale
// TLB entry instead; this one is still covered by the snapshot being
// returned, but the next store is in no dirty log.
import { OP_GET_LOG, OP_STORE } from '../lane.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_NO_FLUSH_AFTER_WRPROT } from '../../unsafe.ts';
import { RACE_RAM_GFN } from '../engine.ts';
import { Q } from './quotes.ts';
import { hex, physPage } from './layout.ts';

const GFN = RACE_RAM_GFN + 0x50;
const GPA = GFN * 4096;

export const getVsStoreD: RaceScenario = {
  info: {
    name: 'get-vs-store-d',
    title: 'GET_DIRTY_LOG vs a store (d): after the flush',
    source: 'kvm_vm_ioctl_get_dirty_log (3.6) against the fast page fault (semantics §7.4 d, §6 I1, I3)',
    protection: 'the remote TLB flush before GET returns (unsafe: no-flush)',
    lanes: ['vcpu0', 'host'],
    expectSafe: 'the store faults on the read-only SPTE, the fast path marks g: the next GET reports it',
    expectUnsafe: 'the store hits the stale writable TLB entry, sets no bit, and the next store too: the latter is in no dirty log',
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_NO_FLUSH_AFTER_WRPROT : 0),
  async script(e) {
    await physPage(e, GFN, 'g, direct shadow page', 'vcpu0');
    await e.command('vcpu0', OP_STORE, [GPA, 1], 'done', {
      narrative: `vCPU 0 writes g ${hex(GFN)}: mapped writable, marked, cached writable in its TLB.`,
    });
    await e.command('host', OP_GET_LOG, [], { park: 'get-log:after-flush' }, {
      narrative: 'GET_DIRTY_LOG exchanged the word (g in the snapshot), write-protected g and flushed remote TLBs (with no-flush: did not). mmu_lock is released; the copy-out is next.',
      quote: Q.flush,
    });
    await e.command('vcpu0', OP_STORE, [GPA, 2], 'done', {
      narrative: "vCPU 0 writes g. Flushed: TLB miss, the walk finds W clear, the fast path sets W and marks g's live bit (for the next GET). Not flushed: a TLB hit, no bit.",
      quote: Q.fastPf,
    });
    await e.release('host', 'done', {
      narrative: 'GET returns the snapshot (g in it: it was dirty before). The copy made now sees the store either way.',
    });
    await e.command('vcpu0', OP_STORE, [GPA, 3], 'done', {
      narrative: 'vCPU 0 writes g again, after GET returned. Safe: the SPTE is writable again and g already marked for the next GET. Unsafe: still the stale entry, still no bit.',
    });
    await e.command('host', OP_GET_LOG, [], 'done', { narrative: 'The next collection; the checkers look for a write no collection reported.' });
  },
};
