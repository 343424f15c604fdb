// The fast page fault's cmpxchg against GET_DIRTY_LOG (semantics §7.5). The
// fast path has set W but not yet marked g; GET exchanges g's word (another
// page's bit set in it, g's not), so it neither reports nor write-protects g.
// vCPU 1 even writes g through the now-writable SPTE meanwhile. Then
// mark_page_dirty sets g's bit: the next GET reports g, and with it vCPU 1's
// write (§6 I1: a write is reported by the first GET that starts after the
// handler finishes). No protection to remove: clean both ways by design
// ('no-flush' is the unsafe run: g is never write-protected here, so no flush
// concerns it).
import { OP_GET_LOG, OP_STORE } from '../lane.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_NO_FLUSH_AFTER_WRPROT } from '../../unsafe.ts';
import { RACE_RAM_GFN } from '../engine.ts';
import { Q } from './quotes.ts';
import { hex, physPage } from './layout.ts';

/** g and a neighbour in the same bitmap word (word 3). */
const GFN = RACE_RAM_GFN + 0x60;
const GPA = GFN * 4096;
const NEIGHBOUR = RACE_RAM_GFN + 0x61;

export const fastpfVsGet: RaceScenario = {
  info: {
    name: 'fastpf-vs-get',
    title: 'The fast-path cmpxchg against GET_DIRTY_LOG',
    source: 'fast_pf_fix_direct_spte: cmpxchg, then mark_page_dirty; kvm_vm_ioctl_get_dirty_log (semantics §7.5, §6 I1)',
    protection: 'mark_page_dirty after a successful cmpxchg, before the fault handler returns: the next GET sees the bit; clean both ways by design (unsafe: no-flush, which changes nothing here)',
    lanes: ['vcpu0', 'host', 'vcpu1'],
    expectSafe: "GET runs between the cmpxchg and the mark: g is not in it and stays writable; the mark then sets g's bit and the next GET reports both writes",
    expectUnsafe: 'still clean: GET never write-protects g in this interleaving, so no flush is involved',
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_NO_FLUSH_AFTER_WRPROT : 0),
  oopsWhenUnsafe: false,
  async script(e) {
    await physPage(e, GFN, 'g, direct shadow page', 'vcpu0', 'vcpu1');
    e.watchGfn(NEIGHBOUR);
    await e.command('vcpu1', OP_STORE, [GPA, 1], 'done', {
      narrative: `vCPU 1 writes g ${hex(GFN)}: mapped writable and marked. (vCPU 0 has no TLB entry for g.)`,
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: 'The VMM collects: g reported and write-protected (TLBs flushed, unless no-flush). The next write to g from vCPU 0 faults.',
    });
    await e.command('vcpu1', OP_STORE, [NEIGHBOUR * 4096, 1], 'done', {
      narrative: `vCPU 1 writes g's neighbour ${hex(NEIGHBOUR)}: its bit goes into the same bitmap word as g's.`,
    });
    await e.command('vcpu0', OP_STORE, [GPA, 2], { park: 'fast-pf:before-mark' }, {
      narrative: 'vCPU 0 writes g: fault on the read-only SPTE, the fast path cmpxchg set W. mark_page_dirty is next.',
      quote: Q.fastPf,
    });
    await e.command('vcpu1', OP_STORE, [GPA, 3], 'done', {
      narrative: 'vCPU 1 writes g too, between the cmpxchg and the mark (the variant with a second vCPU): the SPTE has W again, so no fault and no mark of its own (a TLB miss walks into W; with no-flush its old entry hits, and is no longer stale). The write lands.',
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: "GET exchanges the word: the neighbour's bit, not g's (not set yet). Only the neighbour is write-protected; g keeps W.",
    });
    await e.release('vcpu0', 'done', {
      narrative: "vCPU 0's handler goes on: mark_page_dirty sets g's bit, in the live bitmap GET left empty. The store lands.",
      quote: Q.dirtyOk,
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: "The next GET reports g: it covers vCPU 0's write and vCPU 1's, made before the mark. The checkers look for a write no collection reported.",
    });
  },
};
