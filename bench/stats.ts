// Small statistics for the benchmarks: the box they run on is shared and
// noisy, so figures are medians (and p99 where a tail matters) of several
// samples, never a single run or a best case.

/** The q-quantile (0..1) of the samples, nearest rank; NaN for none. Sorts a copy. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const s = Float64Array.from(samples).sort();
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i]!;
}

export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

/** Sleep without blocking the event loop. */
export function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

/**
 * How long `f` worked, in ms, for single-thread figures on a shared machine:
 * the smaller of the wall-clock time and the process's CPU time (user +
 * system). Both can only over-count the thread's own work: the wall clock
 * counts time the scheduler kept the thread off a core, and CPU time counts
 * the process's other threads too (V8's GC and background compiler). Neither
 * misses any of it, so the smaller is the tighter bound.
 */
export function workMs(f: () => void): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return Math.min(wall, (c.user + c.system) / 1000);
}
