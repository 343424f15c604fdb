// The TLB timeline's model: the recent remote TLB flushes decoded from
// EV_TLB_FLUSH records, where each one lands on the canvas, and which one is
// under the pointer. Pure (no DOM), so it is unit-tested; panels/tlb-timeline.ts
// draws it.
//
// Lanes, top to bottom: lane 0 is the VMM (it requests the dirty-log and
// MMU-notifier flushes), lane 1 + v is vCPU v. A flush is drawn as a bar on
// every vCPU lane it targeted and a small triangle on its requester's lane.
import { FLUSH_CAUSES, FLUSH_CAUSE_NAMES } from './shared-layout.ts';
import { flushEventCause, flushEventTargets, type KvmEventRecord } from '../kvm/event-format.ts';
import { formatUs } from './latency-histogram.ts';

/** Okabe–Ito colours (safe for the common colour-vision deficiencies), one per FLUSH_CAUSE_*. */
export const CAUSE_COLOURS: readonly string[] = [
  '#e69f00', // dirty log: orange
  '#56b4e9', // sp write-protect: sky blue
  '#009e73', // remote fence: bluish green
  '#cc79a7', // mmu notifier: reddish purple
  '#d55e00', // zap: vermillion
  '#0072b2', // spte update: blue
  '#999999',
  '#999999',
];

/** 'dirty log' -> 'dirty-log': for data attributes and CSS classes. */
export function causeSlug(cause: number): string {
  return (FLUSH_CAUSE_NAMES[cause] ?? `cause-${cause}`).replace(/[^a-z0-9]+/g, '-');
}

export function causeName(cause: number): string {
  return FLUSH_CAUSE_NAMES[cause] ?? `cause ${cause}`;
}

export interface Flush {
  seq: number;
  /** When the flush completed (the event's time), µs since the epoch. */
  timeUs: number;
  cause: number;
  /** The requesting vCPU, or -1 for the VMM. */
  requester: number;
  /** Bit v = vCPU v was asked to flush. */
  targets: number;
  /** vCPUs the requester had to wait for (they were in guest mode). */
  waited: number;
  latencyUs: number;
}

/** Decode an EV_TLB_FLUSH record of a VM with `vcpus` vCPUs. */
export function decodeFlush(r: KvmEventRecord, vcpus: number, out: Flush): Flush {
  out.seq = r.seq;
  out.timeUs = r.timeUs;
  out.cause = flushEventCause(r.a);
  out.targets = flushEventTargets(r.a, vcpus);
  out.requester = r.vcpu;
  out.waited = r.b >>> 0;
  out.latencyUs = r.c >>> 0;
  return out;
}

/** "vCPU 0-3", "vCPU 1, 3", "none". */
export function formatVcpuMask(mask: number, vcpus: number): string {
  const ids: number[] = [];
  for (let v = 0; v < vcpus; v++) if ((mask >>> v) & 1) ids.push(v);
  if (ids.length === 0) return 'none';
  if (ids.length > 2 && ids.at(-1)! - ids[0]! === ids.length - 1) return `vCPU ${ids[0]}-${ids.at(-1)}`;
  return `vCPU ${ids.join(', ')}`;
}

/** One sentence about a flush, for the details line and screen readers. */
export function describeFlush(f: Flush, vcpus: number, nowUs: number): string {
  const ago = Math.max(0, nowUs - f.timeUs);
  const who = f.requester < 0 ? 'the VMM' : `vCPU ${f.requester}`;
  return `Flush #${f.seq}, ${formatUs(ago)} ago: ${causeName(f.cause)}, requested by ${who}, ` +
    `sent to ${formatVcpuMask(f.targets, vcpus)}, waited for ${f.waited} vCPU${f.waited === 1 ? '' : 's'} ` +
    `in guest mode, latency ${formatUs(f.latencyUs)}.`;
}

/** Where the timeline is drawn, in canvas pixels. */
export interface TimelineGeometry {
  width: number;
  height: number;
  /** Left margin for the lane labels. */
  left: number;
  lanes: number;
  /** The time at the right edge, µs since the epoch. */
  endUs: number;
  windowUs: number;
}

export function laneHeight(g: TimelineGeometry): number {
  return g.height / g.lanes;
}

/** x of a time; < left when it has scrolled out. */
export function xOfTime(g: TimelineGeometry, timeUs: number): number {
  return g.left + (g.width - g.left) * (1 - (g.endUs - timeUs) / g.windowUs);
}

/** Lane of a requester: 0 for the VMM, 1 + v for vCPU v. */
export function requesterLane(requester: number): number {
  return requester < 0 ? 0 : requester + 1;
}

/**
 * The last `capacity` flushes in a ring of typed arrays (no allocation per
 * flush), plus counts of every flush seen by cause.
 */
export class FlushLog {
  private readonly seq: Float64Array;
  private readonly time: Float64Array;
  private readonly cause: Uint8Array;
  private readonly requester: Int8Array;
  private readonly targets: Uint8Array;
  private readonly waited: Uint8Array;
  private readonly latency: Float64Array;
  private next = 0;
  /** Flushes held (≤ capacity). */
  size = 0;
  /** Every flush seen, by cause (FLUSH_CAUSES entries). */
  readonly byCause = new Float64Array(FLUSH_CAUSES);
  total = 0;

  constructor(readonly capacity = 4096) {
    this.seq = new Float64Array(capacity);
    this.time = new Float64Array(capacity);
    this.cause = new Uint8Array(capacity);
    this.requester = new Int8Array(capacity);
    this.targets = new Uint8Array(capacity);
    this.waited = new Uint8Array(capacity);
    this.latency = new Float64Array(capacity);
  }

  add(f: Flush): void {
    const i = this.next;
    this.seq[i] = f.seq;
    this.time[i] = f.timeUs;
    this.cause[i] = f.cause;
    this.requester[i] = f.requester;
    this.targets[i] = f.targets;
    this.waited[i] = Math.min(255, f.waited);
    this.latency[i] = f.latencyUs;
    this.next = (i + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    if (f.cause < FLUSH_CAUSES) this.byCause[f.cause]!++;
    this.total++;
  }

  clear(): void {
    this.next = this.size = this.total = 0;
    this.byCause.fill(0);
  }

  /** Ring index of the k-th newest flush (k = 0 newest). */
  private index(k: number): number {
    return (this.next - 1 - k + this.capacity * 2) % this.capacity;
  }

  /** The k-th newest flush (0 = newest), into `out`; false if there are fewer. */
  get(k: number, out: Flush): boolean {
    if (k < 0 || k >= this.size) return false;
    const i = this.index(k);
    out.seq = this.seq[i]!;
    out.timeUs = this.time[i]!;
    out.cause = this.cause[i]!;
    out.requester = this.requester[i]!;
    out.targets = this.targets[i]!;
    out.waited = this.waited[i]!;
    out.latencyUs = this.latency[i]!;
    return true;
  }

  /** The k (0 = newest) of the flush with this seq, or -1. */
  find(seq: number): number {
    for (let k = 0; k < this.size; k++) if (this.seq[this.index(k)] === seq) return k;
    return -1;
  }

  /** Slugs of the causes seen so far, e.g. "dirty-log zap". */
  causesSeen(): string {
    const out: string[] = [];
    for (let c = 0; c < FLUSH_CAUSES; c++) if (this.byCause[c]! > 0) out.push(causeSlug(c));
    return out.join(' ');
  }

  /**
   * The flush nearest to (x, y) within `slop` pixels horizontally, preferring
   * one drawn on the lane under y (a target lane or its requester's lane).
   * Returns its k (0 = newest) or -1.
   */
  hitTest(g: TimelineGeometry, x: number, y: number, slop = 5): number {
    const lane = Math.floor(y / laneHeight(g));
    let best = -1;
    let bestD = Infinity;
    let bestOnLane = false;
    for (let k = 0; k < this.size; k++) {
      const i = this.index(k);
      const fx = xOfTime(g, this.time[i]!);
      if (fx < g.left - slop) break; // older ones are further left still
      const d = Math.abs(fx - x);
      if (d > slop) continue;
      const onLane = lane === requesterLane(this.requester[i]!) || (lane >= 1 && ((this.targets[i]! >>> (lane - 1)) & 1) === 1);
      if ((onLane && !bestOnLane) || (onLane === bestOnLane && d < bestD)) {
        best = k;
        bestD = d;
        bestOnLane = onLane;
      }
    }
    return best;
  }
}
