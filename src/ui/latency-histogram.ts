// Log-scale latency histogram for the TLB timeline: bucket 0 holds < 1 µs,
// bucket k (1 ≤ k < LAT_BUCKETS - 1) holds [2^(k-1), 2^k) µs, and the last one
// everything from 2^(LAT_BUCKETS - 2) µs up. Powers of two because flush
// latencies span four orders of magnitude (a few µs when no vCPU is in guest
// mode, milliseconds when a busy vCPU must reach a poll point on a loaded
// core), and a linear axis would squash all the interesting ones into one bar.

export const LAT_BUCKETS = 18; // the last bucket starts at 2^16 µs ≈ 65 ms

/** The bucket of a latency in µs. */
export function latencyBucket(us: number): number {
  if (!(us >= 1)) return 0; // also NaN and negatives
  const k = Math.floor(Math.log2(us)) + 1;
  return k >= LAT_BUCKETS - 1 ? LAT_BUCKETS - 1 : k;
}

/** Lower bound of bucket k in µs (0 for the first). */
export function bucketLow(k: number): number {
  return k <= 0 ? 0 : 2 ** (k - 1);
}

/** Upper bound of bucket k in µs (Infinity for the last). */
export function bucketHigh(k: number): number {
  return k >= LAT_BUCKETS - 1 ? Infinity : 2 ** k;
}

/** 37 -> "37 µs", 1536 -> "1.5 ms", 2500000 -> "2.5 s". */
export function formatUs(us: number): string {
  if (!Number.isFinite(us)) return '∞';
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1e6) return `${trim(us / 1000)} ms`;
  return `${trim(us / 1e6)} s`;
}

function trim(x: number): string {
  return x >= 100 ? String(Math.round(x)) : x >= 10 ? x.toFixed(1).replace(/\.0$/, '') : x.toFixed(2).replace(/\.?0+$/, '');
}

/** "< 1 µs", "1–2 µs", "64 µs–128 µs" ..., "≥ 66 ms". */
export function bucketLabel(k: number): string {
  if (k <= 0) return '< 1 µs';
  if (k >= LAT_BUCKETS - 1) return `≥ ${formatUs(bucketLow(k))}`;
  return `${formatUs(bucketLow(k))}–${formatUs(bucketHigh(k))}`;
}

export class LatencyHistogram {
  readonly counts = new Float64Array(LAT_BUCKETS);
  total = 0;
  sumUs = 0;
  maxUs = 0;

  add(us: number): void {
    this.counts[latencyBucket(us)]!++;
    this.total++;
    if (us > 0) this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  clear(): void {
    this.counts.fill(0);
    this.total = this.sumUs = this.maxUs = 0;
  }

  /** The tallest bucket's count (for scaling bars). */
  peak(): number {
    let m = 0;
    for (const c of this.counts) if (c > m) m = c;
    return m;
  }

  /**
   * An upper bound for quantile q (0..1): the high edge of the bucket holding
   * it, capped at the largest latency seen. NaN when empty.
   */
  quantileBound(q: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let k = 0; k < LAT_BUCKETS; k++) {
      seen += this.counts[k]!;
      if (seen >= rank) return Math.min(bucketHigh(k), this.maxUs);
    }
    return this.maxUs;
  }
}
