// The stale writable TLB entry after write-protection (locking.txt 2 case 3),
// §2.6 / §7.3). GET_DIRTY_LOG write-protects a page that vCPU 0 has cached
// writable in its TLB; without the remote flush ('no-flush') vCPU 0 keeps
// writing through the stale entry, with no fault and no mark_page_dirty.
import { OP_GET_LOG, OP_STORE } from '../lane.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_NO_FLUSH_AFTER_WRPROT } from '../../unsafe.ts';
import { RACE_RAM_GFN } from '../engine.ts';
import { Q } from './quotes.ts';
import { hex, physPage } from './layout.ts';

const GFN = RACE_RAM_GFN + 0x30;
const GPA = GFN * 4096;

export const staleTlb: RaceScenario = {
  info: {
    name: 'stale-tlb',
    title: 'Write-protect without a TLB flush: the stale writable entry',
    source: 'locking.txt 2 "Fast page fault" case 3): flush tlbs due to spte updated (semantics §2.6, §7.3)',
    protection: 'every writable -> read-only change is followed by a remote TLB flush (unsafe: no-flush)',
    lanes: ['vcpu0', 'host'],
    expectSafe: "the flush empties vCPU 0's TLB; its next write faults, the fast path marks the page, the next GET reports it",
    expectUnsafe: "vCPU 0 writes through its stale writable TLB entry: no fault, no mark, the write is in no dirty log",
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_NO_FLUSH_AFTER_WRPROT : 0),
  async script(e) {
    await physPage(e, GFN, 'direct shadow page', 'vcpu0');
    await e.command('vcpu0', OP_STORE, [GPA, 1], 'done', {
      narrative: `vCPU 0 writes gfn ${hex(GFN)}: mapped writable, and its TLB caches the writable translation.`,
    });
    await e.command('host', OP_GET_LOG, [], { park: 'get-log:before-flush' }, {
      narrative: 'GET_DIRTY_LOG exchanged the bitmap word (the page is in this snapshot) and write-protected the SPTE. The flush is next: until then vCPU 0 still holds a writable TLB entry for a read-only SPTE.',
      quote: Q.flush,
    });
    await e.release('host', 'done', {
      narrative: 'GET finishes: with the protection on, kvm_flush_remote_tlbs kicks vCPU 0 and waits for its ack; with no-flush it returns at once.',
      quote: Q.flushWhere,
    });
    await e.command('vcpu0', OP_STORE, [GPA, 2], 'done', {
      narrative: 'vCPU 0 writes the page again. A TLB miss walks into the read-only SPTE, faults, and the fast path marks the page; a TLB hit writes without anyone knowing.',
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: 'The next collection. The checkers look for a write no collection reported.',
    });
  },
};
