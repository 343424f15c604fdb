// Worker for events.test.ts: one producer of the event ring. It waits for GO,
// then records `count` events (a = its id, b = i, c = eventCheck(id, i)).
// variant 'ok' uses the real kvmEvent; 'seq-first' is a deliberately broken
// producer that publishes the seq word *before* the payload (and dawdles in
// between, as a preempted thread would), to show that the test's validation
// catches torn records.
import { parentPort, workerData } from 'node:worker_threads';
import { attachVm } from '../../../src/kvm/shm.ts';
import {
  EV_A, EV_B, EV_C, EV_HDR_WORDS, EV_HEAD, EV_MASK, EV_RECORD_WORDS, EV_SEQ, EV_TYPE, EV_VCPU, EV_LOCK_CONTENDED,
  kvmEvent,
} from '../../../src/kvm/events.ts';
import { DONE, GO, READY, eventCheck } from './event-words.ts';

const { hv, ram, id, count, shared, variant } = workerData as {
  hv: SharedArrayBuffer; ram: SharedArrayBuffer; id: number; count: number; shared: SharedArrayBuffer; variant: 'ok' | 'seq-first';
};
const s = new Int32Array(shared);
const ev = attachVm(hv, ram).view('events');
let junk = 0;

function brokenEvent(a: number, b: number, c: number): void {
  const ticket = Atomics.add(ev, EV_HEAD, 1);
  const base = EV_HDR_WORDS + (ticket & EV_MASK) * EV_RECORD_WORDS;
  Atomics.store(ev, base + EV_SEQ, (ticket + 1) | 0); // BUG: published before the payload
  for (let k = 0; k < 2000; k++) junk = (junk * 31 + k) | 0;
  Atomics.store(ev, base + EV_TYPE, EV_LOCK_CONTENDED);
  Atomics.store(ev, base + EV_VCPU, id);
  Atomics.store(ev, base + EV_A, a);
  Atomics.store(ev, base + EV_B, b);
  Atomics.store(ev, base + EV_C, c);
}

Atomics.add(s, READY, 1);
while (Atomics.load(s, GO) === 0) Atomics.wait(s, GO, 0, 50);
for (let i = 0; i < count; i++) {
  if (variant === 'ok') kvmEvent(ev, EV_LOCK_CONTENDED, id, id, i, eventCheck(id, i));
  else brokenEvent(id, i, eventCheck(id, i));
}
Atomics.add(s, DONE, 1);
parentPort!.postMessage(junk);
