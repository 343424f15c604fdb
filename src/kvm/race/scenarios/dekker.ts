// Request vs guest entry (Dekker), §2.8 / §7.8. The requester (GET_DIRTY_LOG's
// flush) sets KVM_REQ_TLB_FLUSH, then reads vcpu->mode; the vCPU stores
// IN_GUEST_MODE, then reads its requests. Both in that order, at least one
// sees the other. With 'no-mode-order' the requester reads the mode first:
// it sees OUTSIDE_GUEST_MODE (no kick, no wait), the vCPU enters and finds no
// request, and then writes through its stale writable TLB entry.
import { OP_ENTER, OP_EXIT, OP_GET_LOG, OP_STORE } from '../lane.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_NO_MODE_ORDER } from '../../unsafe.ts';
import { RACE_RAM_GFN } from '../engine.ts';
import { Q } from './quotes.ts';
import { hex, physPage } from './layout.ts';

const GFN = RACE_RAM_GFN + 0x40;
const GPA = GFN * 4096;

export const dekker: RaceScenario = {
  info: {
    name: 'dekker',
    title: 'A flush request against guest entry (Dekker)',
    source: 'kvm_main.c make_all_cpus_request / x86.c vcpu_enter_guest (semantics §2.8, §7.8)',
    protection: 'requester: set request, barrier, read mode; vCPU: set mode, barrier, read requests (unsafe: no-mode-order)',
    lanes: ['vcpu0', 'host'],
    expectSafe: 'the vCPU entering guest mode sees the flush request, flushes its TLB and its next write is logged',
    expectUnsafe: 'the requester saw OUTSIDE_GUEST_MODE before publishing: the vCPU enters with its stale TLB and writes unlogged',
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_NO_MODE_ORDER : 0),
  async script(e) {
    await physPage(e, GFN, 'direct shadow page', 'vcpu0');
    await e.command('vcpu0', OP_STORE, [GPA, 1], 'done', {
      narrative: `vCPU 0 writes gfn ${hex(GFN)}; its TLB caches the writable translation.`,
    });
    await e.command('vcpu0', OP_EXIT, [], 'done', {
      narrative: 'vCPU 0 exits to the host (OUTSIDE_GUEST_MODE). Its TLB keeps the entry, as hardware does across exits.',
    });
    await e.command('host', OP_GET_LOG, [], { park: 'request:between' }, {
      narrative: 'GET_DIRTY_LOG write-protected the page and is flushing: it has done the first half of the handshake with vCPU 0. In the right order that is "set KVM_REQ_TLB_FLUSH"; with no-mode-order it read the mode first (OUTSIDE: no kick, no wait).',
      quote: Q.flush,
    }, { points: ['request:between'], arg: 0 });
    await e.command('vcpu0', OP_ENTER, [], { park: 'enter:after-mode' }, {
      narrative: 'vCPU 0 re-enters the guest: it stored mode = IN_GUEST_MODE and is about to check its requests.',
    });
    await e.release('vcpu0', 'done', {
      narrative: 'vCPU 0 checks its requests: if the flush request is already there it leaves, flushes its TLB, acks and enters again; if not, it runs guest code as is.',
    });
    await e.release('host', 'done', {
      narrative: 'The requester finishes the handshake: it reads the mode (IN_GUEST: kick and wait for the ack) or, with no-mode-order, publishes the request now, having seen OUTSIDE, and waits for nobody.',
    });
    await e.command('vcpu0', OP_STORE, [GPA, 2], 'done', {
      narrative: 'vCPU 0 writes the page. With a flushed TLB it faults and the fast path marks the page; with the stale entry the write goes straight to memory.',
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: 'The next collection; the checkers look for the write.',
    });
  },
};
