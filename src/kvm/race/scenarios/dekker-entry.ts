// Request vs guest entry (Dekker), the vCPU's barrier (§2.8 / §7.8, T2).
// `dekker` breaks the requester's half; this one breaks the vCPU's. The
// requester (GET_DIRTY_LOG's flush) sets KVM_REQ_TLB_FLUSH, then reads
// vcpu->mode; vcpu_enter_guest stores IN_GUEST_MODE, then reads its requests.
// With 'no-entry-order' the vCPU reads its requests first (none yet) and is
// parked before it stores the mode: the requester publishes its request and
// reads OUTSIDE_GUEST_MODE (no kick, no wait); the vCPU then enters guest mode
// with the request pending and writes through its stale writable TLB entry.
import { OP_ENTER, OP_EXIT, OP_GET_LOG, OP_STORE } from '../lane.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_NO_ENTRY_ORDER } from '../../unsafe.ts';
import { RACE_RAM_GFN } from '../engine.ts';
import { Q } from './quotes.ts';
import { hex, physPage } from './layout.ts';

const GFN = RACE_RAM_GFN + 0x48;
const GPA = GFN * 4096;

export const dekkerEntry: RaceScenario = {
  info: {
    name: 'dekker-entry',
    title: "A flush request against guest entry (Dekker), the vCPU's barrier",
    source: 'x86.c vcpu_enter_guest against kvm_main.c make_all_cpus_request (semantics §2.8, §7.8, T2)',
    protection: 'vCPU: set mode = IN_GUEST_MODE, barrier, then check requests (unsafe: no-entry-order)',
    lanes: ['vcpu0', 'host'],
    expectSafe: 'the requester sees IN_GUEST_MODE and waits; the vCPU then sees the request, flushes its TLB, and its next write is logged',
    expectUnsafe: 'the vCPU checked its requests before storing its mode: the requester saw OUTSIDE_GUEST_MODE, and the vCPU enters with its stale TLB and writes unlogged',
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_NO_ENTRY_ORDER : 0),
  async script(e, unsafe) {
    await physPage(e, GFN, 'direct shadow page', 'vcpu0');
    await e.command('vcpu0', OP_STORE, [GPA, 1], 'done', {
      narrative: `vCPU 0 writes gfn ${hex(GFN)}; its TLB caches the writable translation.`,
    });
    await e.command('vcpu0', OP_EXIT, [], 'done', {
      narrative: 'vCPU 0 exits to the host (OUTSIDE_GUEST_MODE). Its TLB keeps the entry, as hardware does across exits.',
    });
    // The vCPU's half comes first: in KVM order it has stored its mode; with
    // no-entry-order it has only read its (empty) request word.
    const vcpuPoint = unsafe ? 'enter:before-mode' : 'enter:after-mode';
    await e.command('vcpu0', OP_ENTER, [], { park: vcpuPoint }, {
      narrative: 'vCPU 0 re-enters the guest and has done the first half of its handshake. In KVM order that is "mode = IN_GUEST_MODE" (the request check is next); with no-entry-order it checked its requests first, found none, and the mode store is next.',
    });
    await e.command('host', OP_GET_LOG, [], { park: 'request:between' }, {
      narrative: 'GET_DIRTY_LOG write-protected the page and is flushing: it set KVM_REQ_TLB_FLUSH on vCPU 0 (a full barrier); reading its mode is next.',
      quote: Q.flush,
    }, { points: ['request:between'], arg: 0 });
    await e.release('host', unsafe ? 'done' : 'blocked', {
      narrative: 'The requester reads the mode. IN_GUEST_MODE: it kicks (EXITING_GUEST_MODE) and waits for the ack, so GET cannot return yet. With no-entry-order the vCPU has not stored its mode: the requester sees OUTSIDE_GUEST_MODE, assumes the vCPU will see the request when it enters, and returns.',
      quote: Q.flushWhere,
    });
    await e.release('vcpu0', 'done', {
      narrative: 'vCPU 0 finishes entering. In KVM order it now reads its requests: the flush is there, so it leaves, flushes its TLB, acks and enters again. With no-entry-order it already read them: it stores IN_GUEST_MODE and runs guest code with the request pending.',
    });
    if (!unsafe) {
      await e.join('host', {
        narrative: 'The ack arrived: the flush is complete and GET returns. Every vCPU has flushed.',
      });
    }
    await e.command('vcpu0', OP_STORE, [GPA, 2], 'done', {
      narrative: 'vCPU 0 writes the page. With a flushed TLB it faults and the fast path marks the page; with the stale entry the write goes straight to memory.',
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: 'The next collection; the checkers look for the write.',
    });
  },
};
