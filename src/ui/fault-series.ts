// Fast versus slow page faults over time, as rates: the pure half of the
// fault chart (panels/fault-chart.ts draws it with uPlot).
//
// Every sample reads each vCPU's three counters (fast-path fixes, fast-path
// failures, slow-path faults; kvm-stat-view.ts) and turns the change since the
// previous sample into a rate per second. The last `capacity` samples are
// kept, per vCPU, so the chart can show them per vCPU or summed.
import { counterDelta } from './counter-rate.ts';
import type { FaultCounters } from './kvm-stat-view.ts';

export const FAULT_KINDS = ['fastFixed', 'fastFailed', 'slow'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export const FAULT_KIND_LABELS: Record<FaultKind, string> = {
  fastFixed: 'fast path fixed',
  fastFailed: 'fast path failed',
  slow: 'slow path',
};

export class FaultSeries {
  /** Sample times in seconds since the first sample. */
  readonly times: number[] = [];
  /** rates[kind][vcpu][i]: per second, over the interval ending at times[i]. */
  readonly rates: number[][][];
  /** Cumulative counters summed over vCPUs, as of the last sample. */
  readonly totals: FaultCounters = { fastFixed: 0, fastFailed: 0, slow: 0 };
  private readonly prev: Float64Array;
  private t0 = -1;
  private lastMs = -1;
  private readonly scratch: FaultCounters = { fastFixed: 0, fastFailed: 0, slow: 0 };

  constructor(readonly vcpus: number, readonly capacity = 120) {
    this.rates = FAULT_KINDS.map(() => Array.from({ length: vcpus }, () => [] as number[]));
    this.prev = new Float64Array(vcpus * FAULT_KINDS.length);
  }

  /** Samples taken so far that produced a point (the first only sets the baseline). */
  get points(): number {
    return this.times.length;
  }

  /**
   * Read every vCPU's counters at time `nowMs` (performance.now()); returns
   * true when a new point was added.
   */
  sample(nowMs: number, read: (vcpu: number, out: FaultCounters) => FaultCounters): boolean {
    const first = this.lastMs < 0;
    const dt = (nowMs - this.lastMs) / 1000;
    if (!first && !(dt > 0)) return false;
    const tot = this.totals;
    tot.fastFixed = tot.fastFailed = tot.slow = 0;
    for (let v = 0; v < this.vcpus; v++) {
      const c = read(v, this.scratch);
      FAULT_KINDS.forEach((k, i) => {
        const slot = v * FAULT_KINDS.length + i;
        const now = c[k] >>> 0;
        if (!first) push(this.rates[i]![v]!, counterDelta(now, this.prev[slot]!) / dt, this.capacity);
        this.prev[slot] = now;
        tot[k] += now;
      });
    }
    this.lastMs = nowMs;
    if (first) {
      this.t0 = nowMs;
      return false;
    }
    push(this.times, (nowMs - this.t0) / 1000, this.capacity);
    return true;
  }

  /** Series for the chart: [times, fastFixed, fastFailed, slow], each summed over vCPUs. */
  summed(): number[][] {
    const n = this.times.length;
    const out: number[][] = [this.times.slice()];
    for (let i = 0; i < FAULT_KINDS.length; i++) {
      const s = new Array<number>(n).fill(0);
      for (const per of this.rates[i]!) for (let j = 0; j < n; j++) s[j]! += per[j] ?? 0;
      out.push(s);
    }
    return out;
  }

  /** Series for the chart: [times, then for each vCPU: fastFixed, fastFailed, slow]. */
  perVcpu(): number[][] {
    const out: number[][] = [this.times.slice()];
    for (let v = 0; v < this.vcpus; v++) for (let i = 0; i < FAULT_KINDS.length; i++) out.push(this.rates[i]![v]!.slice());
    return out;
  }

  /** The latest summed rate of one kind (per second), or 0 before two samples. */
  lastRate(kind: FaultKind): number {
    const i = FAULT_KINDS.indexOf(kind);
    let s = 0;
    for (const per of this.rates[i]!) s += per.at(-1) ?? 0;
    return s;
  }
}

function push(a: number[], x: number, cap: number): void {
  a.push(x);
  if (a.length > cap) a.splice(0, a.length - cap);
}
