// Fast versus slow page faults over time (uPlot).
//
// Every 250 ms (1 s under reduced motion) the panel reads each vCPU's
// kvm_stat counters from shared memory (kvm-stat-view.ts): fast-path fixes
// (the lock-free cmpxchg of fast_page_fault), fast-path failures (it lost the
// cmpxchg race and fell back) and slow-path faults (under mmu_lock), and
// charts their rates, summed over the vCPUs or one line per vCPU.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h, uniqueId } from '../dom.ts';
import { FAULT_KINDS, FAULT_KIND_LABELS, FaultSeries, type FaultKind } from '../fault-series.ts';
import { KvmStatView } from '../kvm-stat-view.ts';
import { cssVar, darkScheme } from '../media.ts';
import { registerPanel, type Frame } from '../panel.ts';
import type { SharedViews } from '../shared-views.ts';

const SAMPLE_MS = 250;
const SAMPLE_MS_REDUCED = 1000;
const CHART_HEIGHT = 180;

/** Kind colours (Okabe–Ito) for the summed view; the dash tells them apart without colour too. */
const KIND_STYLE: Record<FaultKind, { colour: string; dash: number[] | undefined }> = {
  fastFixed: { colour: '#009e73', dash: undefined },
  fastFailed: { colour: '#d55e00', dash: [2, 3] },
  slow: { colour: '#0072b2', dash: [8, 4] },
};

/** Per-vCPU legend entries stay short: twelve or more of them share one line. */
const SHORT_LABELS: Record<FaultKind, string> = { fastFixed: 'fast', fastFailed: 'failed', slow: 'slow' };

export const FAULT_CHART_DESCRIPTION =
  'Write faults per second. A fast-path fix is the lock-free cmpxchg of fast_page_fault (no mmu_lock); ' +
  'a fast-path failure lost that race and fell back; a slow fault took mmu_lock and walked the tables. ' +
  'After each GET_DIRTY_LOG the next stores to write-protected pages show up as fast fixes.';

type Mode = 'sum' | 'vcpu';

export function registerFaultChartPanel(): void {
  const modeName = uniqueId('fault-mode');
  const sumRadio = h('input', { type: 'radio', name: modeName, value: 'sum', checked: true, id: uniqueId('fault-sum') });
  const vcpuRadio = h('input', { type: 'radio', name: modeName, value: 'vcpu', id: uniqueId('fault-vcpu') });
  const chartBox = h('div', { class: 'fault-chart', role: 'img', 'aria-label': 'Fault rates: no samples yet' });
  const totals = new Map<FaultKind, { total: HTMLElement; rate: HTMLElement }>();
  const tbody = h('tbody', {}, ...FAULT_KINDS.map((k) => {
    const total = h('td', { class: 'num' }, '0');
    const rate = h('td', { class: 'num' }, '0');
    totals.set(k, { total, rate });
    return h('tr', {},
      h('th', { scope: 'row' }, h('span', { class: `fault-key fault-key-${k}`, 'aria-hidden': 'true' }), FAULT_KIND_LABELS[k]),
      total, rate);
  }));
  const table = h('table', { class: 'fault-table' },
    h('caption', { class: 'visually-hidden' }, 'Page faults so far and per second, all vCPUs'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'kind'), h('th', { scope: 'col', class: 'num' }, 'total'),
      h('th', { scope: 'col', class: 'num' }, 'per s'))),
    tbody);
  const note = h('p', { class: 'fault-note' }, 'No VM yet: load or run a guest.');

  let root: HTMLElement = h('div');
  let views: SharedViews | null = null;
  let stats: KvmStatView | null = null;
  let series: FaultSeries | null = null;
  let plot: uPlot | null = null;
  let plotKey = '';
  let mode: Mode = 'sum';
  let lastSample = -1;
  let dark = darkScheme.matches;
  darkScheme.onChange((d) => {
    dark = d;
    plotKey = ''; // rebuild with the new axis colours
  });

  const width = () => Math.max(200, chartBox.clientWidth || 400);

  const buildPlot = () => {
    plot?.destroy();
    plot = null;
    if (!series) return;
    const muted = cssVar('--muted') || (dark ? '#9aa6b2' : '#56606b');
    const grid = cssVar('--border') || (dark ? '#2f3a46' : '#d5dbe1');
    const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const lines: uPlot.Series[] = [{ label: 'time (s)' }];
    if (mode === 'sum') {
      for (const k of FAULT_KINDS) {
        lines.push({ label: FAULT_KIND_LABELS[k], stroke: KIND_STYLE[k].colour, dash: KIND_STYLE[k].dash, width: 2, points: { show: false } });
      }
    } else {
      for (let v = 0; v < series.vcpus; v++) {
        const colour = cssVar(`--vcpu-${v}`) || '#888888';
        for (const k of FAULT_KINDS) {
          lines.push({ label: `vCPU ${v} ${SHORT_LABELS[k]}`, stroke: colour, dash: KIND_STYLE[k].dash, width: 1.5, points: { show: false } });
        }
      }
    }
    const opts: uPlot.Options = {
      width: width(),
      height: CHART_HEIGHT,
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(10, max * 1.1)] } },
      axes: [{ ...axis, label: 'seconds', labelSize: 18 }, { ...axis, label: 'faults / s', labelSize: 18, size: 56 }],
      series: lines,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    plot = new uPlot(opts, data(), chartBox);
    plotKey = `${mode}|${series.vcpus}|${dark}`;
  };

  const data = (): uPlot.AlignedData => {
    if (!series) return [[]];
    return (mode === 'sum' ? series.summed() : series.perVcpu()) as uPlot.AlignedData;
  };

  const publish = () => {
    if (!series) return;
    const t = series.totals;
    root.dataset.fast = String(t.fastFixed);
    root.dataset.fastFailed = String(t.fastFailed);
    root.dataset.slow = String(t.slow);
    root.dataset.points = String(series.points);
    for (const k of FAULT_KINDS) {
      const cells = totals.get(k)!;
      cells.total.textContent = t[k].toLocaleString();
      cells.rate.textContent = Math.round(series.lastRate(k)).toLocaleString();
    }
    const span = series.points > 0 ? series.times.at(-1)! - series.times[0]! : 0;
    chartBox.setAttribute('aria-label',
      `Fault rates per second over the last ${Math.round(span)} s: ` +
      FAULT_KINDS.map((k) => `${FAULT_KIND_LABELS[k]} ${Math.round(series!.lastRate(k))}`).join(', '));
  };

  const draw = (f: Frame) => {
    if (f.views !== views) {
      views = f.views;
      stats = views ? new KvmStatView(views) : null;
      series = views ? new FaultSeries(views.vcpus) : null;
      lastSample = -1;
      plotKey = '';
      note.textContent = views ? (stats?.problem || '') : 'No VM yet: load or run a guest.';
      if (!views) {
        plot?.destroy();
        plot = null;
      }
    }
    if (!series || !stats) return;
    const every = f.reducedMotion ? SAMPLE_MS_REDUCED : SAMPLE_MS;
    if (lastSample >= 0 && f.now - lastSample < every) return;
    lastSample = f.now;
    const s = stats;
    const added = series.sample(f.now, (v, out) => s.faults(v, out));
    publish();
    const key = `${mode}|${series.vcpus}|${dark}`;
    if (key !== plotKey) buildPlot();
    else if (added) plot?.setData(data());
  };

  const setMode = (m: Mode) => {
    mode = m;
    root.dataset.mode = m;
    plotKey = '';
    if (series) buildPlot();
  };
  sumRadio.addEventListener('change', () => sumRadio.checked && setMode('sum'));
  vcpuRadio.addEventListener('change', () => vcpuRadio.checked && setMode('vcpu'));

  if (typeof ResizeObserver !== 'undefined') {
    new ResizeObserver(() => plot?.setSize({ width: width(), height: CHART_HEIGHT })).observe(chartBox);
  }

  registerPanel({
    id: 'fault-chart',
    title: 'Fast versus slow page faults',
    description: FAULT_CHART_DESCRIPTION,
    mount(body) {
      root = body.parentElement ?? body;
      root.dataset.fast = root.dataset.fastFailed = root.dataset.slow = root.dataset.points = '0';
      root.dataset.mode = mode;
      body.append(
        h('fieldset', { class: 'fault-mode' },
          h('legend', {}, 'Show'),
          h('label', { class: 'check', for: sumRadio.id }, sumRadio, ' all vCPUs summed'),
          h('label', { class: 'check', for: vcpuRadio.id }, vcpuRadio, ' each vCPU')),
        chartBox,
        table,
        note,
      );
    },
    draw,
    reset() {
      views = null;
    },
  });
}
