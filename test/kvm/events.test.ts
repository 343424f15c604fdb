// The event ring (src/kvm/events.ts, event-format.ts): one producer in order,
// many producers on real threads, overrun, the disabled flag, and the events
// the KVM paths emit (faults, write-protects, flushes, collections, zaps,
// contended locks).
import { afterEach, describe, expect, it } from 'vitest';
import { createVm, type VmShared } from '../../src/kvm/shm.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import {
  DIRTY_OP_GET, EV_A, EV_B, EV_C, EV_CAPACITY, EV_DIRTY_COLLECT, EV_FAST_PF_FIXED, EV_HDR_WORDS, EV_HEAD,
  EV_LOCK_CONTENDED, EV_RECORD_WORDS, EV_SEQ, EV_SLOW_PF, EV_TIME_HI, EV_TIME_LO, EV_TLB_FLUSH, EV_TYPE, EV_VCPU,
  EV_WRITE_PROTECT, EV_ZAP, WP_CAUSE_DIRTY_LOG, eventClockUs, eventsEnabled, eventsHead, formatEvent, kvmEvent,
  setEventsEnabled, type KvmEventRecord,
} from '../../src/kvm/events.ts';
import { readEvents } from './read-events.ts';
import { kvmFlushRemoteTlbs } from '../../src/kvm/requests.ts';
import {
  FLUSH_CAUSE_DIRTY_LOG, FLUSH_CAUSE_REMOTE_FENCE, FLUSH_CAUSE_ZAP, IN_GUEST_MODE, KVCPU_MODE, KVCPU_WORDS,
  KVM_MEM_LOG_DIRTY_PAGES, MMU_LOCK,
} from '../../src/kvm/fields.ts';
import { readLockStats } from '../../src/kvm/locks.ts';
import { kvmGetDirtyLog } from '../../src/kvm/dirtylog.ts';
import { kvmSetUserMemoryRegion } from '../../src/kvm/set-memory-region.ts';
import { collectStats } from '../../src/kvm/stats.ts';
import { ACC_WRITE, PRV_M } from '../../src/cpu/memory.ts';
import { RAM, RAM_GFN, makeVcpu, makeVm, zapAll } from './mmu-helpers.ts';
import { DONE, GO, READY, WORDS, eventCheck } from './workers/event-words.ts';
import { READY as VCPU_READY, STOP as VCPU_STOP, WORDS as VCPU_WORDS } from './workers/flush-words.ts';
import { TestThreads } from './threads.ts';

const threads = new TestThreads();
afterEach(() => threads.terminate());

const smallVm = (vcpus = 1): VmShared => createVm({ memBytes: 1 << 20, vcpus });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Everything from `cursor` to the head, in chunks of `chunk`. */
function drain(ev: Int32Array, cursor: number, chunk = 1000): { events: KvmEventRecord[]; cursor: number; lost: number } {
  const events: KvmEventRecord[] = [];
  let lost = 0;
  for (;;) {
    const r = readEvents(ev, cursor, chunk);
    events.push(...r.events);
    lost += r.lost;
    if (r.cursor === cursor && r.events.length === 0) return { events, cursor, lost };
    cursor = r.cursor;
  }
}

describe('event ring, one producer', () => {
  it('delivers every record once, in order, with its payload and a shared clock', () => {
    const vm = smallVm();
    const ev = vm.view('events');
    expect(eventsEnabled(ev)).toBe(true);
    const t0 = eventClockUs();
    for (let i = 0; i < 1000; i++) kvmEvent(ev, EV_SLOW_PF, i & 3, i, -i, i * 7);
    const t1 = eventClockUs();
    let cursor = 0;
    const got: KvmEventRecord[] = [];
    for (let k = 0; k < 5; k++) {
      const r = readEvents(ev, cursor, 300);
      expect(r.lost).toBe(0);
      expect(r.events.length).toBe(Math.min(300, 1000 - cursor));
      got.push(...r.events);
      cursor = r.cursor;
    }
    expect(cursor).toBe(1000);
    expect(got.length).toBe(1000);
    got.forEach((e, i) => {
      expect([e.seq, e.type, e.vcpu, e.a, e.b, e.c]).toEqual([i, EV_SLOW_PF, i & 3, i, -i | 0, i * 7]);
      if (i > 0) expect(e.timeUs).toBeGreaterThanOrEqual(got[i - 1]!.timeUs);
    });
    expect(got[0]!.timeUs).toBeGreaterThanOrEqual(t0);
    expect(got[999]!.timeUs).toBeLessThanOrEqual(t1);
    expect(Math.abs(got[0]!.timeUs / 1000 - Date.now())).toBeLessThan(5000); // epoch-based µs
    expect(readEvents(ev, cursor, 100)).toEqual({ events: [], cursor: 1000, lost: 0 });
    expect(formatEvent(got[5]!)).toBe('5 vcpu1 slow_pf gfn=5 spte=4294967291');
  });

  it('holds back a record whose producer has reserved its slot but not yet published it', () => {
    const vm = smallVm();
    const ev = vm.view('events');
    kvmEvent(ev, EV_ZAP, -1, 1, 2, 3);
    // A producer that took ticket 1 and is still writing its payload ...
    const ticket = Atomics.add(ev, EV_HEAD, 1);
    const base = EV_HDR_WORDS + ticket * EV_RECORD_WORDS;
    Atomics.store(ev, base + EV_SEQ, 0);
    Atomics.store(ev, base + EV_TYPE, EV_ZAP);
    kvmEvent(ev, EV_ZAP, -1, 7, 8, 9); // ... while ticket 2 completes.
    const r = readEvents(ev, 0, 100);
    expect(r.events.map((e) => e.a)).toEqual([1]);
    expect(r.cursor).toBe(1);
    expect(r.lost).toBe(0);
    for (const [w, v] of [[EV_VCPU, -1], [EV_TIME_LO, 0], [EV_TIME_HI, 0], [EV_A, 4], [EV_B, 5], [EV_C, 6]] as const) Atomics.store(ev, base + w, v);
    Atomics.store(ev, base + EV_SEQ, ticket + 1);
    const r2 = readEvents(ev, r.cursor, 100);
    expect(r2.events.map((e) => [e.seq, e.a])).toEqual([[1, 4], [2, 7]]);
    expect(r2.cursor).toBe(3);
  });

  it('counts records overwritten before they were read as lost, and resumes at the oldest one left', () => {
    const vm = smallVm();
    const ev = vm.view('events');
    const extra = 100;
    for (let i = 0; i < EV_CAPACITY + extra; i++) kvmEvent(ev, EV_ZAP, 0, i, 0, 0);
    const { events, lost, cursor } = drain(ev, 0, 4096);
    expect(lost).toBe(extra);
    expect(events.length).toBe(EV_CAPACITY);
    expect(events[0]!.seq).toBe(extra);
    expect(events[0]!.a).toBe(extra);
    expect(events.every((e, i) => e.a === extra + i)).toBe(true);
    expect(cursor).toBe(EV_CAPACITY + extra);
    // A reader that is up to date loses nothing across the wrap.
    for (let i = 0; i < 10; i++) kvmEvent(ev, EV_ZAP, 0, -i, 0, 0);
    const r = readEvents(ev, cursor, 100);
    expect([r.events.length, r.lost]).toEqual([10, 0]);
  });

  it('records nothing while the flag is off, at any call site', () => {
    const vm = smallVm();
    const ev = vm.view('events');
    const kvm = new Kvm(vm);
    setEventsEnabled(ev, false);
    expect(eventsEnabled(ev)).toBe(false);
    kvmEvent(ev, EV_ZAP, 0, 1, 2, 3);
    kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_ZAP);
    expect(eventsHead(ev)).toBe(0);
    expect(readEvents(ev, 0, 10).events).toEqual([]);
    setEventsEnabled(ev, true);
    kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_ZAP);
    expect(readEvents(ev, 0, 10).events.map((e) => e.type)).toEqual([EV_TLB_FLUSH]);
    expect(collectStats(vm, 1).events).toEqual({ recorded: 1, capacity: EV_CAPACITY, enabled: true });
  });
});

describe('events from the KVM paths', () => {
  it('a remote TLB flush records its cause, the vCPUs waited for and a latency', () => {
    const vm = smallVm();
    const kvm = new Kvm(vm);
    const ev = vm.view('events');
    kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_DIRTY_LOG);
    const [e] = readEvents(ev, 0, 10).events;
    expect(e).toMatchObject({ type: EV_TLB_FLUSH, vcpu: -1, a: FLUSH_CAUSE_DIRTY_LOG, b: 0 });
    expect(e!.c).toBeGreaterThanOrEqual(0);
  });

  it('dirty logging: slow fault, GET (write-protect, flush, collect), fast fault, zap', () => {
    const vm = makeVm();
    const kvm = new Kvm(vm);
    const v = makeVcpu(vm);
    const ev = vm.view('events');
    kvmSetUserMemoryRegion(kvm, { slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM, memorySize: 16 << 20 });
    let cursor = eventsHead(ev);
    v.mmu.translate(RAM + 40 * 4096, ACC_WRITE, PRV_M, 0, 0);
    let r = drain(ev, cursor);
    expect(r.events.map((e) => [e.type, e.vcpu, e.a])).toEqual([[EV_SLOW_PF, 0, RAM_GFN + 40]]);
    expect(r.events[0]!.b).not.toBe(0); // the SPTE it installed
    cursor = r.cursor;

    kvmGetDirtyLog(kvm, 0);
    r = drain(ev, cursor);
    expect(r.events.map((e) => [e.type, e.a, e.b])).toEqual([
      [EV_WRITE_PROTECT, RAM_GFN + 32, 1], // one event per bitmap word: base gfn, pages
      [EV_TLB_FLUSH, FLUSH_CAUSE_DIRTY_LOG, 0],
      [EV_DIRTY_COLLECT, (DIRTY_OP_GET << 16) | 0, 1],
    ]);
    expect(r.events[0]!.c).toBe(WP_CAUSE_DIRTY_LOG);
    cursor = r.cursor;

    v.mmu.translate(RAM + 40 * 4096, ACC_WRITE, PRV_M, 0, 0);
    r = drain(ev, cursor);
    expect(r.events.map((e) => [e.type, e.vcpu, e.a])).toEqual([[EV_FAST_PF_FIXED, 0, RAM_GFN + 40]]);
    cursor = r.cursor;

    zapAll(kvm);
    r = drain(ev, cursor);
    const zaps = r.events.filter((e) => e.type === EV_ZAP);
    expect(zaps.length).toBeGreaterThanOrEqual(2); // the root and the direct page under it
    expect(r.events.at(-1)).toMatchObject({ type: EV_TLB_FLUSH, a: FLUSH_CAUSE_ZAP });

    const st = collectStats(vm, 1).kvm_stat;
    expect(st['dirty_log_collect']).toBe(1);
    expect(st['dirty_log_collect_pages']).toBe(1);
    expect(st['dirty_log_write_protect_pages']).toBe(1);
    expect(st['fast_pf_fixed']).toBe(1);
    expect(st['pf_fixed']).toBe(1);
    expect(st['mmu_shadow_zapped']).toBe(zaps.length);
    expect(st['mmu_lock_acquired']).toBeGreaterThan(0);
  });
});

describe('event ring across threads', () => {
  async function produce(variant: 'ok' | 'seq-first', count: number): Promise<{ events: KvmEventRecord[]; lost: number; torn: number }> {
    const vm = smallVm();
    const ev = vm.view('events');
    const shared = new SharedArrayBuffer(WORDS * 4);
    const s = new Int32Array(shared);
    const done = [0, 1, 2, 3].map((id) => threads.spawn('event-worker.ts', { hv: vm.hv, ram: vm.ram, id, count, shared, variant }));
    while (Atomics.load(s, READY) < 4) await sleep(5);
    Atomics.store(s, GO, 1);
    Atomics.notify(s, GO);
    // Read while they produce, as the UI does each frame (here: as fast as we can).
    const events: KvmEventRecord[] = [];
    let cursor = 0;
    let lost = 0;
    for (;;) {
      const finished = Atomics.load(s, DONE) === 4;
      const r = readEvents(ev, cursor, 256);
      events.push(...r.events);
      lost += r.lost;
      cursor = r.cursor;
      if (finished && cursor === eventsHead(ev)) break;
    }
    await Promise.all(done);
    const torn = events.filter((e) => e.type !== EV_LOCK_CONTENDED || e.vcpu !== e.a || e.c !== eventCheck(e.a, e.b)).length;
    return { events, lost, torn };
  }

  it('4 producers x N: the reader sees exactly 4N complete records, each once, each producer in order', async () => {
    const n = 4000; // 4N < capacity: nothing may be lost even if the reader falls behind
    const { events, lost, torn } = await produce('ok', n);
    expect(lost).toBe(0);
    expect(torn).toBe(0);
    expect(events.length).toBe(4 * n);
    const next = [0, 0, 0, 0];
    let misordered = 0;
    events.forEach((e, i) => {
      if (e.seq !== i || e.b !== next[e.a]) misordered++; // a producer's records appear in the order it made them
      next[e.a]!++;
    });
    expect(misordered).toBe(0);
    expect(next).toEqual([n, n, n, n]);
  }, 60_000);

  it('the same check catches a producer that publishes seq before its payload (torn records)', async () => {
    const { events, torn } = await produce('seq-first', 1500);
    expect(events.length).toBeGreaterThan(0);
    expect(torn).toBeGreaterThan(0);
  }, 60_000);

  it('a contended mmu_lock records one LOCK_CONTENDED event per contended acquisition', async () => {
    const vm = smallVm(3);
    const counter = new SharedArrayBuffer(8); // the count, the start barrier
    await Promise.all([0, 1, 2].map((id) => threads.spawn('lock-worker.ts', { hv: vm.hv, ram: vm.ram, id, iterations: 20_000, counter, parties: 3 })));
    const s = readLockStats(vm.locks, MMU_LOCK);
    const { events, lost } = drain(vm.view('events'), 0);
    expect(lost).toBe(0);
    const contended = events.filter((e) => e.type === EV_LOCK_CONTENDED && e.a === MMU_LOCK);
    expect(s.contended).toBeGreaterThan(0); // else the loop below checks nothing
    expect(contended.length).toBe(s.contended);
    for (const e of contended) {
      expect(e.vcpu).toBeGreaterThanOrEqual(0);
      expect(e.vcpu).toBeLessThan(3);
      expect(e.b).toBeGreaterThanOrEqual(0);
    }
  }, 60_000);

  it('a flush that waits for vCPUs in guest mode records them and a nonzero latency', async () => {
    const vm = smallVm(2);
    const shared = new SharedArrayBuffer(VCPU_WORDS * 4);
    const s = new Int32Array(shared);
    const done = [0, 1].map((vcpuId) => threads.spawn('vcpu-worker.ts', { hv: vm.hv, ram: vm.ram, vcpuId, shared }));
    while (Atomics.load(s, VCPU_READY) < 2) await sleep(5);
    for (let v = 0; v < 2; v++) expect(Atomics.load(vm.kvmVcpu, v * KVCPU_WORDS + KVCPU_MODE)).toBe(IN_GUEST_MODE);
    const ev = vm.view('events');
    const cursor = eventsHead(ev);
    kvmFlushRemoteTlbs(new Kvm(vm), FLUSH_CAUSE_REMOTE_FENCE);
    Atomics.store(s, VCPU_STOP, 1);
    await Promise.all(done);
    const flushes = drain(ev, cursor).events.filter((e) => e.type === EV_TLB_FLUSH);
    expect(flushes.length).toBe(1);
    expect(flushes[0]).toMatchObject({ vcpu: -1, a: FLUSH_CAUSE_REMOTE_FENCE, b: 2 });
    expect(flushes[0]!.c).toBeGreaterThan(0);
  }, 60_000);
});
