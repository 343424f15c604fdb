// The event-ring consumer the panels use (EventReader, src/kvm/event-format.ts),
// on the region view the UI gets, against the real producer (src/kvm/events.ts
// kvmEvent), on one thread and on four real producer threads, plus the cases a
// panel meets: overflow, a half-written slot, a filter, and a ring reset.
import { afterEach, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { createVm, type VmShared } from '../../src/kvm/shm.ts';
import {
  EV_HDR_WORDS, EV_HEAD, EV_LOCK_CONTENDED, EV_RECORD_WORDS, EV_SEQ, EV_TLB_FLUSH, EV_ZAP, EventReader, eventTypes,
  kvmEvent, STUCK_MS, type KvmEventRecord,
} from '../../src/kvm/events.ts';
import { readEvents } from '../kvm/read-events.ts';
import { createSharedViews } from '../../src/ui/shared-views.ts';
import { EV_CAPACITY, REGION_EVENTS } from '../../src/ui/shared-layout.ts';
import { DONE, GO, READY, WORDS, eventCheck } from '../kvm/workers/event-words.ts';

const boot = new URL('../../workers/node-boot.mjs', import.meta.url);
const workerEntry = new URL('../kvm/workers/event-worker.ts', import.meta.url).href;
const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The 'events' region as the UI gets it: through VmHandles.layout and createSharedViews. */
function uiEvents(vm: VmShared): Int32Array {
  const views = createSharedViews({ hv: vm.hv, ram: vm.ram, layout: vm.layout.toRecord(), vcpus: vm.config.vcpus });
  const r = views.region(REGION_EVENTS);
  if (!r) throw new Error('no events region');
  return r.i32;
}

const copy = (r: KvmEventRecord): KvmEventRecord => ({ ...r });

describe('EventReader on one thread', () => {
  it('reads what kvmEvent wrote, in order, with the same fields as the hypervisor reader', () => {
    const vm = createVm({ memBytes: 1 << 20, vcpus: 2 });
    const ev = vm.view('events');
    for (let i = 0; i < 10; i++) kvmEvent(ev, i % 2 ? EV_ZAP : EV_TLB_FLUSH, i % 3 - 1, i, -i, i * 1000);
    const reader = new EventReader(uiEvents(vm));
    const got: KvmEventRecord[] = [];
    expect(reader.poll(100, (r) => got.push(copy(r)))).toBe(10);
    expect(got).toEqual(readEvents(ev, 0, 100).events);
    expect(reader.cursor).toBe(10);
    expect(reader.poll(100, () => {})).toBe(0); // nothing new
    kvmEvent(ev, EV_ZAP, 0, 7, 7, 7);
    expect(reader.poll(100, (r) => got.push(copy(r)))).toBe(1);
    expect(got.at(-1)).toMatchObject({ seq: 10, type: EV_ZAP, a: 7 });
  });

  it("'now' skips what is already there; a type filter delivers only those types but moves past all", () => {
    const vm = createVm({ memBytes: 1 << 20 });
    const ev = vm.view('events');
    kvmEvent(ev, EV_TLB_FLUSH, -1, 0, 0, 0);
    const reader = new EventReader(uiEvents(vm), 'now');
    kvmEvent(ev, EV_ZAP, 0, 1, 0, 0);
    kvmEvent(ev, EV_TLB_FLUSH, -1, 2, 0, 0);
    kvmEvent(ev, EV_LOCK_CONTENDED, 0, 3, 0, 0);
    const got: number[] = [];
    expect(reader.poll(100, (r) => got.push(r.a), eventTypes(EV_TLB_FLUSH, EV_LOCK_CONTENDED))).toBe(2);
    expect(got).toEqual([2, 3]);
    expect(reader.cursor).toBe(4);
  });

  it('counts records overwritten before it read them and resumes at the oldest one left', () => {
    const vm = createVm({ memBytes: 1 << 20 });
    const ev = vm.view('events');
    const reader = new EventReader(uiEvents(vm), 'now');
    const extra = 100;
    for (let i = 0; i < EV_CAPACITY + extra; i++) kvmEvent(ev, EV_ZAP, 0, i, 0, 0);
    let first = -1;
    let n = 0;
    while (reader.poll(4096, (r) => {
      if (first < 0) first = r.a;
      n++;
    }) > 0);
    expect(reader.lost).toBe(extra);
    expect(first).toBe(extra);
    expect(n).toBe(EV_CAPACITY);
  });

  it('stops at a half-written slot, delivers it once complete, and gives up on one that never completes', () => {
    const vm = createVm({ memBytes: 1 << 20 });
    const ev = vm.view('events');
    kvmEvent(ev, EV_ZAP, 0, 1, 0, 0);
    kvmEvent(ev, EV_ZAP, 0, 2, 0, 0);
    kvmEvent(ev, EV_ZAP, 0, 3, 0, 0);
    const slot1 = EV_HDR_WORDS + 1 * EV_RECORD_WORDS + EV_SEQ;
    Atomics.store(ev, slot1, 0); // ticket 1 "being written"
    let t = 0;
    const reader = new EventReader(uiEvents(vm), 'oldest', () => t);
    const got: number[] = [];
    const visit = (r: KvmEventRecord) => got.push(r.a);
    expect(reader.poll(100, visit)).toBe(1);
    expect(reader.poll(100, visit)).toBe(0); // still waits at ticket 1
    expect(got).toEqual([1]);
    Atomics.store(ev, slot1, 2); // completed
    expect(reader.poll(100, visit)).toBe(2);
    expect(got).toEqual([1, 2, 3]);

    kvmEvent(ev, EV_ZAP, 0, 4, 0, 0);
    kvmEvent(ev, EV_ZAP, 0, 5, 0, 0);
    Atomics.store(ev, EV_HDR_WORDS + 3 * EV_RECORD_WORDS + EV_SEQ, 0); // its producer "died" mid-record
    for (let i = 0; i < 1000; i++) expect(reader.poll(100, visit)).toBe(0); // many polls: still waits
    t += STUCK_MS / 2;
    expect(reader.poll(100, visit)).toBe(0);
    t += STUCK_MS;
    expect(reader.poll(100, visit)).toBe(1);
    expect(got).toEqual([1, 2, 3, 5]);
    expect(reader.lost).toBe(1);
  });

  it('a ring that restarted (head behind the cursor) starts over at the head', () => {
    const vm = createVm({ memBytes: 1 << 20 });
    const ev = vm.view('events');
    for (let i = 0; i < 5; i++) kvmEvent(ev, EV_ZAP, 0, i, 0, 0);
    const reader = new EventReader(uiEvents(vm));
    reader.poll(100, () => {});
    Atomics.store(ev, EV_HEAD, 2);
    expect(reader.poll(100, () => {})).toBe(0);
    expect(reader.cursor).toBe(2);
  });
});

describe('EventReader across threads', () => {
  async function produce(variant: 'ok' | 'seq-first', count: number) {
    const vm = createVm({ memBytes: 1 << 20 });
    const shared = new SharedArrayBuffer(WORDS * 4);
    const s = new Int32Array(shared);
    const done = [0, 1, 2, 3].map((id) => {
      const w = new Worker(boot, { workerData: { entry: workerEntry, hv: vm.hv, ram: vm.ram, id, count, shared, variant } });
      workers.push(w);
      return new Promise((res, rej) => {
        w.once('message', res);
        w.once('error', rej);
      });
    });
    while (Atomics.load(s, READY) < 4) await sleep(5);
    const reader = new EventReader(uiEvents(vm), 'now');
    Atomics.store(s, GO, 1);
    Atomics.notify(s, GO);
    let torn = 0;
    let delivered = 0;
    const next = [0, 0, 0, 0];
    let misordered = 0;
    const visit = (r: KvmEventRecord) => {
      delivered++;
      if (r.type !== EV_LOCK_CONTENDED || r.vcpu !== r.a || r.c !== eventCheck(r.a, r.b)) {
        torn++;
        return;
      }
      if (r.b !== next[r.a]) misordered++;
      next[r.a] = r.b + 1;
    };
    // Poll while they produce, as a panel does each frame (here: as fast as it can, small batches).
    for (;;) {
      const finished = Atomics.load(s, DONE) === 4;
      reader.poll(128, visit);
      if (finished && reader.cursor === reader.head()) break;
    }
    await Promise.all(done);
    return { delivered, torn, misordered, lost: reader.lost, next };
  }

  it('4 producers: every record complete, each once, each producer in order', async () => {
    const n = 3000; // 4n < capacity: nothing may be lost
    const r = await produce('ok', n);
    expect(r).toMatchObject({ delivered: 4 * n, torn: 0, misordered: 0, lost: 0 });
    expect(r.next).toEqual([n, n, n, n]);
  }, 60_000);

  it('the same check sees torn records from a producer that publishes seq before its payload', async () => {
    // A tear needs the reader to land inside a producer's window, which a
    // loaded machine can make rare: try a few rounds, stop at the first tear.
    let torn = 0;
    let delivered = 0;
    for (let round = 0; round < 6 && torn === 0; round++) {
      for (const w of workers.splice(0)) await w.terminate();
      const r = await produce('seq-first', 3000);
      torn += r.torn;
      delivered += r.delivered;
    }
    expect(delivered).toBeGreaterThan(0);
    expect(torn).toBeGreaterThan(0);
  }, 60_000);
});
