// Live MIPS per vCPU: Δinstret / Δt, sampled from shared memory every ~250 ms
// (rates need no 60 Hz; notes §5.2). The counters are monotonic, so a sample
// that goes backwards (VM reset, or a torn 64-bit read) only re-bases.
//
// For tests and scripts each row carries data-instret (the last raw counter)
// and data-mips; the table carries data-samples (how many samples were taken).
import { h } from './dom.ts';
import type { SharedViews } from './shared-views.ts';

export const SAMPLE_INTERVAL_MS = 250;

interface Row {
  tr: HTMLTableRowElement;
  mips: HTMLElement;
  bar: HTMLElement;
  total: HTMLElement;
  last: number;
}

export interface MipsMeter {
  /** Called every frame; samples when SAMPLE_INTERVAL_MS has passed. */
  tick(now: number, views: SharedViews | null): void;
  /** Current total MIPS across vCPUs (for the spoken summary). */
  readonly totalMips: number;
}

function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  if (n < 1e4) return String(n);
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, unit] of units) if (n >= scale) return `${(n / scale).toFixed(2)} ${unit}`;
  return String(n);
}

/** Round a peak up to 1, 2 or 5 × 10^k so the bar scale changes rarely. */
function niceCeil(x: number): number {
  if (x <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

export function createMipsMeter(slot: HTMLElement): MipsMeter {
  const body = h('tbody');
  const scaleLabel = h('span', { class: 'meter-scale' });
  const totalCell = h('td', { class: 'num' }, '—');
  const table = h('table', { class: 'meter', 'data-testid': 'mips-meter', 'data-samples': '0' },
    h('caption', { class: 'visually-hidden' }, 'Guest instructions per second, per vCPU'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'vCPU'),
      h('th', { scope: 'col', class: 'num' }, 'MIPS'),
      h('th', { scope: 'col', class: 'bar-col' }, h('span', { 'aria-hidden': 'true' }, 'rate '), scaleLabel),
      h('th', { scope: 'col', class: 'num' }, 'retired'))),
    body,
    h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, 'total'), totalCell, h('td'), h('td'))));
  slot.replaceChildren(
    h('div', { class: 'section-head' }, h('h2', {}, 'Speed')),
    table,
    h('p', { class: 'hint' }, 'Millions of guest instructions retired per second, read from each vCPU\u2019s instret counter in shared memory.'),
  );

  let rows: Row[] = [];
  let viewsSeen: SharedViews | null = null;
  let lastTime = 0;
  let samples = 0;
  let peak = 1;
  let total = 0;

  const build = (n: number) => {
    rows = [];
    body.replaceChildren();
    if (n === 0) body.append(h('tr', {}, h('td', { colspan: 4, class: 'meter-empty' }, 'No VM yet: rates appear once a program is loaded.')));
    for (let i = 0; i < n; i++) {
      const mips = h('td', { class: 'num' }, '—');
      const bar = h('span', { class: `bar vcpu-${i % 8}` });
      const total = h('td', { class: 'num' }, '—');
      const tr = h('tr', { 'data-vcpu': i, 'data-instret': '0', 'data-mips': '0' },
        h('th', { scope: 'row' }, h('span', { class: `swatch vcpu-${i % 8}`, 'aria-hidden': 'true' }), `vCPU ${i}`),
        mips,
        h('td', { class: 'bar-col', 'aria-hidden': 'true' }, h('span', { class: 'bar-track' }, bar)),
        total);
      body.append(tr);
      rows.push({ tr, mips, bar, total, last: NaN });
    }
    peak = 1;
    lastTime = 0;
  };

  return {
    get totalMips() {
      return total;
    },
    tick(now, views) {
      if (views !== viewsSeen) {
        viewsSeen = views;
        build(views?.vcpus ?? 0);
      }
      if (!views || (lastTime && now - lastTime < SAMPLE_INTERVAL_MS)) return;
      const dt = lastTime ? (now - lastTime) / 1000 : 0;
      lastTime = now;
      let sum = 0;
      const rates: number[] = [];
      rows.forEach((row, i) => {
        const v = views.readInstret(i);
        const rate = dt > 0 && v >= row.last ? (v - row.last) / dt / 1e6 : NaN;
        row.last = v;
        rates.push(rate);
        if (Number.isFinite(rate)) sum += rate;
        row.tr.dataset.instret = String(v);
        row.tr.dataset.mips = Number.isFinite(rate) ? rate.toFixed(3) : '';
        row.mips.textContent = Number.isFinite(rate) ? rate.toFixed(rate < 10 ? 2 : 1) : '—';
        row.total.textContent = formatCount(v);
      });
      peak = Math.max(peak, ...rates.filter(Number.isFinite));
      const scale = niceCeil(peak);
      scaleLabel.textContent = `(0–${scale})`;
      rows.forEach((row, i) => {
        const r = rates[i]!;
        row.bar.style.inlineSize = `${Number.isFinite(r) ? Math.min(100, (r / scale) * 100) : 0}%`;
      });
      total = sum;
      totalCell.textContent = dt > 0 ? sum.toFixed(sum < 10 ? 2 : 1) : '—';
      samples += 1;
      table.dataset.samples = String(samples);
    },
  };
}
