// The event ring's producer side: kvmEvent() records one event into region
// 'events' of `hv` (format, reader and the rationale of the protocol in
// event-format.ts). Any thread may call it, many at once: a ticket from
// Atomics.add picks the slot, and the seq word is stored last. It never
// waits and allocates nothing. Called only on fault, flush, zap, collection
// and contended-lock paths, never per instruction; when recording is off it
// costs one Atomics.load.

import {
  EV_A, EV_B, EV_C, EV_DISABLED, EV_HDR_WORDS, EV_HEAD, EV_MASK, EV_RECORD_WORDS, EV_SEQ, EV_TIME_HI,
  EV_TIME_LO, EV_TYPE, EV_VCPU, eventClockUs,
} from './event-format.ts';

export * from './event-format.ts';

/**
 * Record one event. `ev` is vm.view('events') (Kvm.events); `vcpu` the
 * producing vCPU or -1. Payload words are stored as int32 (`| 0`).
 */
export function kvmEvent(ev: Int32Array, type: number, vcpu: number, a: number, b: number, c: number): void {
  if (Atomics.load(ev, EV_DISABLED) !== 0) return;
  const ticket = Atomics.add(ev, EV_HEAD, 1);
  const base = EV_HDR_WORDS + (ticket & EV_MASK) * EV_RECORD_WORDS;
  const t = eventClockUs();
  const hi = Math.floor(t / 4294967296);
  // Invalidate first: a reader still on the previous lap of this slot now
  // sees its seq change and drops what it read. The payload stores are plain
  // (a seq-cst store costs about as much as a locked instruction, and this
  // runs on every fault): the seq words around them are atomic, the reader
  // loads seq, payload, seq and keeps the record only if both seqs match
  // (event-format.ts), and the final seq store publishes the payload to a
  // reader whose Atomics.load sees it.
  Atomics.store(ev, base + EV_SEQ, 0);
  ev[base + EV_TYPE] = type;
  ev[base + EV_VCPU] = vcpu;
  ev[base + EV_TIME_LO] = (t - hi * 4294967296) | 0;
  ev[base + EV_TIME_HI] = hi | 0;
  ev[base + EV_A] = a | 0;
  ev[base + EV_B] = b | 0;
  ev[base + EV_C] = c | 0;
  Atomics.store(ev, base + EV_SEQ, (ticket + 1) | 0);
}
