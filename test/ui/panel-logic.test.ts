// Pure logic behind the live panels: latency buckets, counter rates, the
// fault series, the flush timeline's decoding and hit-testing, and the
// kvm_stat readers, checked against the real hypervisor structures.
import { describe, expect, it } from 'vitest';
import { createVm } from '../../src/kvm/shm.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import { kvmFlushRemoteTlbs } from '../../src/kvm/requests.ts';
import { KvmLock, readLockStats } from '../../src/kvm/locks.ts';
import {
  FLUSH_CAUSE_DIRTY_LOG, FLUSH_CAUSE_REMOTE_FENCE, KVCPU_STAT_FAST_PF_FAILED, KVCPU_STAT_FAST_PF_FIXED,
  KVCPU_STAT_PF_FIXED, KVCPU_WORDS, MMU_LOCK, LOCK_WORDS, LOCK_WAIT_NS_LO, LOCK_WAIT_NS_HI,
} from '../../src/kvm/fields.ts';
import { createSharedViews, readU64 } from '../../src/ui/shared-views.ts';
import { EventReader, eventTypes, type KvmEventRecord } from '../../src/kvm/event-format.ts';
import { EV_TLB_FLUSH, REGION_EVENTS } from '../../src/ui/shared-layout.ts';
import {
  bucketHigh, bucketLabel, bucketLow, formatUs, LatencyHistogram, latencyBucket, LAT_BUCKETS,
} from '../../src/ui/latency-histogram.ts';
import { counterDelta, CounterRate } from '../../src/ui/counter-rate.ts';
import { FaultSeries } from '../../src/ui/fault-series.ts';
import {
  causeSlug, decodeFlush, describeFlush, FlushLog, formatVcpuMask, xOfTime, type Flush, type TimelineGeometry,
} from '../../src/ui/flush-timeline.ts';
import { KvmStatView, ownerName } from '../../src/ui/kvm-stat-view.ts';

const views = (vm: ReturnType<typeof createVm>) =>
  createSharedViews({ hv: vm.hv, ram: vm.ram, layout: vm.layout.toRecord(), vcpus: vm.config.vcpus });

describe('latency histogram (log2 buckets)', () => {
  it('puts each latency in the bucket whose range holds it', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(0.9)).toBe(0);
    expect(latencyBucket(-5)).toBe(0);
    expect(latencyBucket(NaN)).toBe(0);
    expect(latencyBucket(1)).toBe(1);
    expect(latencyBucket(1.99)).toBe(1);
    expect(latencyBucket(2)).toBe(2);
    expect(latencyBucket(37)).toBe(6); // [32, 64)
    expect(latencyBucket(1e9)).toBe(LAT_BUCKETS - 1);
    for (const us of [1, 3, 17, 100, 1023, 1024, 5000, 60000]) {
      const k = latencyBucket(us);
      expect(us).toBeGreaterThanOrEqual(bucketLow(k));
      expect(us).toBeLessThan(bucketHigh(k));
    }
    expect(bucketHigh(LAT_BUCKETS - 1)).toBe(Infinity);
  });

  it('labels and formats', () => {
    expect(bucketLabel(0)).toBe('< 1 µs');
    expect(bucketLabel(6)).toBe('32 µs–64 µs');
    expect(bucketLabel(LAT_BUCKETS - 1)).toMatch(/^≥ 65.5 ms$/);
    expect(formatUs(37)).toBe('37 µs');
    expect(formatUs(1536)).toBe('1.54 ms');
    expect(formatUs(2_500_000)).toBe('2.5 s');
  });

  it('counts, peak and quantile bounds', () => {
    const hgram = new LatencyHistogram();
    expect(hgram.quantileBound(0.5)).toBeNaN();
    for (let i = 0; i < 98; i++) hgram.add(10); // bucket [8, 16)
    hgram.add(3000);
    hgram.add(50_000);
    expect(hgram.total).toBe(100);
    expect(hgram.counts[latencyBucket(10)]).toBe(98);
    expect(hgram.peak()).toBe(98);
    expect(hgram.quantileBound(0.5)).toBe(16);
    expect(hgram.quantileBound(0.99)).toBe(4096);
    expect(hgram.quantileBound(1)).toBe(50_000); // capped at the max seen
    expect(hgram.maxUs).toBe(50_000);
    hgram.clear();
    expect(hgram.total).toBe(0);
    expect(hgram.peak()).toBe(0);
  });
});

describe('counter rates', () => {
  it('takes differences of wrapping uint32 counters, and treats a huge drop as a reset', () => {
    expect(counterDelta(10, 4)).toBe(6);
    expect(counterDelta(0x10, 0xfffffff0)).toBe(0x20); // wrapped
    expect(counterDelta(-16 >>> 0, -32)).toBe(16); // int32 reads
    expect(counterDelta(7, 5000)).toBe(7); // counter went back to zero: count from zero
  });

  it('CounterRate: per second over the last interval', () => {
    const r = new CounterRate();
    expect(r.update(1000, 100)).toBe(0);
    expect(r.update(1500, 200)).toBe(200);
    expect(r.update(1500, 999)).toBe(200); // no time passed: unchanged
    expect(r.update(2500, 300)).toBe(100);
  });

  it('FaultSeries: rates per vCPU and summed, a bounded history', () => {
    const counters = [
      { fastFixed: 0, fastFailed: 0, slow: 0 },
      { fastFixed: 0, fastFailed: 0, slow: 0 },
    ];
    const s = new FaultSeries(2, 3);
    const read = (v: number, out: { fastFixed: number; fastFailed: number; slow: number }) => Object.assign(out, counters[v]);
    expect(s.sample(0, read)).toBe(false); // baseline
    counters[0] = { fastFixed: 50, fastFailed: 1, slow: 10 };
    counters[1] = { fastFixed: 25, fastFailed: 0, slow: 5 };
    expect(s.sample(250, read)).toBe(true);
    expect(s.totals).toEqual({ fastFixed: 75, fastFailed: 1, slow: 15 });
    expect(s.summed()).toEqual([[0.25], [300], [4], [60]]);
    expect(s.perVcpu()).toEqual([[0.25], [200], [4], [40], [100], [0], [20]]);
    expect(s.lastRate('fastFixed')).toBe(300);
    for (let t = 500; t <= 1500; t += 250) s.sample(t, read);
    expect(s.points).toBe(3); // capacity
    expect(s.summed()[0]).toEqual([1, 1.25, 1.5]);
    expect(s.lastRate('slow')).toBe(0);
  });
});

describe('flush timeline', () => {
  const blank = (): Flush => ({ seq: 0, timeUs: 0, cause: 0, requester: 0, targets: 0, waited: 0, latencyUs: 0 });

  it('decodes cause, requester and target vCPUs from real kvmFlushRemoteTlbs events', () => {
    const vm = createVm({ memBytes: 1 << 20, vcpus: 4 });
    const v = views(vm);
    const reader = new EventReader(v.region(REGION_EVENTS)!.i32, 'now');
    kvmFlushRemoteTlbs(new Kvm(vm), FLUSH_CAUSE_DIRTY_LOG); // the VMM, all vCPUs
    kvmFlushRemoteTlbs(new Kvm(vm, 2), FLUSH_CAUSE_REMOTE_FENCE, 0b1010); // vCPU 2: an SBI fence to harts 1 and 3
    const got: Flush[] = [];
    reader.poll(10, (r: KvmEventRecord) => got.push(decodeFlush(r, 4, blank())), eventTypes(EV_TLB_FLUSH));
    expect(got).toHaveLength(2);
    expect(got[0]).toMatchObject({ seq: 0, cause: FLUSH_CAUSE_DIRTY_LOG, requester: -1, targets: 0b1111, waited: 0 });
    expect(got[1]).toMatchObject({ seq: 1, cause: FLUSH_CAUSE_REMOTE_FENCE, requester: 2, targets: 0b1010, waited: 0 });
    expect(got[0]!.latencyUs).toBeGreaterThanOrEqual(0);
    expect(causeSlug(got[0]!.cause)).toBe('dirty-log');
    expect(describeFlush(got[1]!, 4, got[1]!.timeUs + 1500)).toBe(
      'Flush #1, 1.5 ms ago: remote fence, requested by vCPU 2, sent to vCPU 1, 3, waited for 0 vCPUs in guest mode, latency ' +
        `${formatUs(got[1]!.latencyUs)}.`);
  });

  it('formats vCPU masks', () => {
    expect(formatVcpuMask(0b1111, 4)).toBe('vCPU 0-3');
    expect(formatVcpuMask(0b0110, 4)).toBe('vCPU 1, 2');
    expect(formatVcpuMask(0b1011, 4)).toBe('vCPU 0, 1, 3');
    expect(formatVcpuMask(0, 4)).toBe('none');
  });

  it('keeps the newest flushes, counts by cause, and finds the one under the pointer', () => {
    const log = new FlushLog(4);
    const add = (seq: number, timeUs: number, cause: number, requester: number, targets: number) =>
      log.add({ seq, timeUs, cause, requester, targets, waited: 1, latencyUs: 10 });
    add(0, 1_000_000, 0, -1, 0b11);
    add(1, 5_000_000, 4, 0, 0b10);
    add(2, 5_000_050, 0, -1, 0b01);
    add(3, 9_000_000, 2, 1, 0b11);
    add(4, 9_500_000, 0, -1, 0b11); // pushes seq 0 out of the ring
    expect(log.size).toBe(4);
    expect(log.total).toBe(5);
    expect(log.byCause[0]).toBe(3);
    expect(log.causesSeen()).toBe('dirty-log remote-fence zap');
    expect(log.find(0)).toBe(-1);
    expect(log.find(4)).toBe(0);
    const f = blank();
    expect(log.get(3, f) && f.seq).toBe(1);
    expect(log.get(4, f)).toBe(false);

    // 3 lanes (VMM, vCPU 0, vCPU 1) of 10 px; 10 s across 1000 px after a 100 px label column.
    const g: TimelineGeometry = { width: 1100, height: 30, left: 100, lanes: 3, endUs: 10_000_000, windowUs: 10_000_000 };
    expect(xOfTime(g, 10_000_000)).toBe(1100);
    expect(xOfTime(g, 5_000_000)).toBe(600);
    // seq 1 (vCPU 0 asked, vCPU 1 flushed) and seq 2 (the VMM asked, vCPU 0 flushed) are 0.005 px apart:
    // the lane under the pointer decides.
    expect(log.hitTest(g, 600, 25)).toBe(log.find(1)); // vCPU 1's lane: only seq 1 targeted it
    expect(log.hitTest(g, 600, 5)).toBe(log.find(2)); // VMM lane: seq 2's requester
    expect(log.hitTest(g, 1000, 15)).toBe(log.find(3));
    expect(log.hitTest(g, 800, 15)).toBe(-1); // nothing within 5 px
    log.clear();
    expect(log.size).toBe(0);
    expect(log.hitTest(g, 600, 15)).toBe(-1);
  });
});

describe('KvmStatView', () => {
  it('reads the per-vCPU fault counters, flush causes and lock statistics the hypervisor keeps', () => {
    const vm = createVm({ memBytes: 1 << 20, vcpus: 2 });
    const k = vm.kvmVcpu;
    k[1 * KVCPU_WORDS + KVCPU_STAT_FAST_PF_FIXED] = 42;
    k[1 * KVCPU_WORDS + KVCPU_STAT_FAST_PF_FAILED] = 3;
    k[1 * KVCPU_WORDS + KVCPU_STAT_PF_FIXED] = -1; // uint32 0xffffffff
    const kvm = new Kvm(vm);
    kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_DIRTY_LOG);
    kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_DIRTY_LOG);
    const lock = new KvmLock(vm.locks, MMU_LOCK, 1);
    for (let i = 0; i < 3; i++) {
      lock.lock();
      lock.unlock();
    }
    const st = new KvmStatView(views(vm));
    expect(st.problem).toBe('');
    expect(st.faults(1, { fastFixed: 0, fastFailed: 0, slow: 0 })).toEqual({ fastFixed: 42, fastFailed: 3, slow: 0xffffffff });
    expect(st.faults(0, { fastFixed: 9, fastFailed: 9, slow: 9 })).toEqual({ fastFixed: 0, fastFailed: 0, slow: 0 });
    expect(st.faults(5, { fastFixed: 9, fastFailed: 9, slow: 9 })).toEqual({ fastFixed: 0, fastFailed: 0, slow: 0 });
    expect(st.flushesByCause(FLUSH_CAUSE_DIRTY_LOG)).toBe(2);
    expect(st.flushesByCause(99)).toBe(0);
    const mine = st.readLock(MMU_LOCK);
    const theirs = readLockStats(vm.locks, MMU_LOCK);
    expect(mine).toEqual({
      acquired: theirs.acquired, contended: theirs.contended, waitNs: theirs.waitNs, holdNs: theirs.holdNs,
      maxWaitNs: theirs.maxWaitNs, maxHoldNs: theirs.maxHoldNs, owner: theirs.owner, held: theirs.held,
    });
    expect(mine.acquired).toBe(3);
    lock.lock();
    expect(st.readLock(MMU_LOCK)).toMatchObject({ held: true, owner: 1 });
    expect(ownerName(1)).toBe('vCPU 0');
    expect(ownerName(64)).toBe('VMM');
    lock.unlock();
  });

  it('reads a uint64 split in two words', () => {
    const w = new Int32Array(LOCK_WORDS);
    w[LOCK_WAIT_NS_LO] = -1;
    w[LOCK_WAIT_NS_HI] = 2;
    expect(readU64(w, LOCK_WAIT_NS_LO, LOCK_WAIT_NS_HI)).toBe(2 * 2 ** 32 + 0xffffffff);
  });

  it('a layout without the regions reads zeros and says why', () => {
    const st = new KvmStatView(createSharedViews({ hv: new SharedArrayBuffer(64), ram: new SharedArrayBuffer(64), layout: {}, vcpus: 1 }));
    expect(st.problem).toMatch(/kvm-vcpu.*kvm-stats.*locks/);
    expect(st.readLock(MMU_LOCK).acquired).toBe(0);
    expect(st.stat(0)).toBe(0);
  });
});
