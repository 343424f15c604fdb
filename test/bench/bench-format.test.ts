// The benchmark's output is meant to be grepped and diffed: one line per
// figure, the target verdict spelled out. Its statistics are nearest-rank.
import { describe, expect, it } from 'vitest';
import { formatRow } from '../../bench/bench.ts';
import { median, quantile } from '../../bench/stats.ts';

describe('bench output', () => {
  it('prints name, value, unit and the target verdict on one line', () => {
    expect(formatRow({ name: 'fault.fast_over_slow', value: 0.36, unit: 'ratio', target: { op: '<=', value: 0.2 } }))
      .toMatch(/^fault\.fast_over_slow +0\.36 ratio {2}\(target <= 0\.2: NOT met\)$/);
    expect(formatRow({ name: 'flush.rtt_us.vcpus2.median', value: 41.234, unit: 'us', target: { op: '<=', value: 50 }, note: '2 of 2 waited' }))
      .toMatch(/ 41\.23 us {2}\(target <= 50: met; 2 of 2 waited\)$/);
    expect(formatRow({ name: 'dirty.pages_per_s', value: 123456.7, unit: 'pages/s' })).toMatch(/ 123456\.7 pages\/s$/);
  });

  it('takes nearest-rank medians and quantiles without reordering the samples', () => {
    const s = [5, 1, 4, 2, 3];
    expect(median(s)).toBe(3);
    expect(quantile(s, 0.99)).toBe(5);
    expect(quantile(s, 0)).toBe(1);
    expect(s).toEqual([5, 1, 4, 2, 3]);
    expect(Number.isNaN(median([]))).toBe(true);
  });
});
