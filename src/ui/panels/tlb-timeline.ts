// The TLB timeline: every remote TLB flush (kvm_flush_remote_tlbs) as it
// happens, one lane per vCPU, coloured by its cause, with a log-scale
// histogram of flush latencies next to it.
//
// Each frame the panel reads new EV_TLB_FLUSH records from the event ring in
// shared memory (EventReader, src/kvm/event-format.ts; no comlink), decodes
// them (flush-timeline.ts) and redraws a canvas whose right edge is "now".
// The legend's counts come from the per-cause counters in 'kvm-stats', which
// count every flush even when the ring overflowed or recording is off.
import { cssVar, darkScheme } from '../media.ts';
import { eventClockUs, EventReader, eventTypes, type KvmEventRecord } from '../../kvm/event-format.ts';
import {
  CAUSE_COLOURS, causeSlug, decodeFlush, describeFlush, FlushLog, laneHeight, requesterLane,
  xOfTime, type Flush, type TimelineGeometry,
} from '../flush-timeline.ts';
import { h, uniqueId } from '../dom.ts';
import { KvmStatView } from '../kvm-stat-view.ts';
import { bucketLabel, formatUs, LatencyHistogram, LAT_BUCKETS } from '../latency-histogram.ts';
import { registerPanel, type Frame } from '../panel.ts';
import {
  EV_TLB_FLUSH, FLUSH_CAUSE_NAMES, MAX_VCPUS, REGION_EVENTS, STAT_REMOTE_TLB_FLUSH,
} from '../shared-layout.ts';
import type { SharedViews } from '../shared-views.ts';

const TEXT_INTERVAL_MS = 250;
/** Records read per frame at most: the ring holds 16384, a frame should stay short. */
const MAX_PER_FRAME = 8192;
const LABEL_PX = 54;
const AXIS_PX = 16;
const WINDOWS_S = [2, 10, 60];
const DEFAULT_WINDOW_S = 10;

export const TLB_TIMELINE_DESCRIPTION =
  'Each remote TLB flush as it happens: a bar on every vCPU lane it was sent to, a triangle on the ' +
  "lane of whoever asked (the VMM's lane on top), coloured by its cause. The histogram shows how long " +
  'requesters waited for the acknowledgements. Hover or click a mark for its details; with the ' +
  'timeline focused, the arrow keys step through the flushes.';

interface Colours {
  text: string;
  muted: string;
  laneA: string;
  laneB: string;
  grid: string;
  bar: string;
  select: string;
}

export function registerTlbTimelinePanel(): void {
  const detailsId = uniqueId('tlb-details');
  const canvas = h('canvas', {
    class: 'tlb-canvas', tabindex: 0, role: 'img', 'data-testid': 'tlb-canvas',
    'aria-label': 'Remote TLB flushes over time, one lane per vCPU; arrow keys select a flush',
    'aria-describedby': detailsId,
  });
  const histCanvas = h('canvas', { class: 'tlb-hist', role: 'img', 'data-testid': 'tlb-hist', 'aria-label': 'Flush latency histogram: no flushes yet' });
  const ctx = canvas.getContext('2d')!;
  const hctx = histCanvas.getContext('2d')!;
  const details = h('p', { class: 'tlb-details', id: detailsId }, 'Hover or click a flush for its details.');
  const summary = h('p', { class: 'tlb-summary' }, 'No flushes yet.');
  const histInfo = h('p', { class: 'tlb-hist-info' });
  const windowId = uniqueId('tlb-window');
  const windowSel = h('select', { id: windowId },
    ...WINDOWS_S.map((s) => h('option', { value: s, selected: s === DEFAULT_WINDOW_S }, `${s} s`)));
  const clear = h('button', { type: 'button' }, 'Clear');
  const legendCounts: HTMLElement[] = [];
  const legend = h('ul', { class: 'tlb-legend', 'aria-label': 'Flush causes and how many of each so far' },
    ...FLUSH_CAUSE_NAMES.map((name, c) => {
      const count = h('span', { class: 'tlb-legend-count' }, '0');
      legendCounts.push(count);
      return h('li', { 'data-cause': causeSlug(c) },
        h('span', { class: 'swatch', style: `background: ${CAUSE_COLOURS[c]}` }), `${name} `, count);
    }));

  const log = new FlushLog();
  const hist = new LatencyHistogram();
  const scratch: Flush = { seq: 0, timeUs: 0, cause: 0, requester: -1, targets: 0, waited: 0, latencyUs: 0 };
  let root: HTMLElement = h('div');
  let views: SharedViews | null = null;
  let reader: EventReader | null = null;
  let stats: KvmStatView | null = null;
  let vcpus = 1;
  let windowS = DEFAULT_WINDOW_S;
  let geom: TimelineGeometry | null = null;
  let selectedSeq = -1;
  let hoverK = -1;
  let lastText = 0;
  let histHover = -1;
  let colours = themeColours();
  darkScheme.onChange(() => (colours = themeColours()));

  const onFlush = (r: KvmEventRecord) => {
    decodeFlush(r, vcpus, scratch);
    log.add(scratch);
    hist.add(scratch.latencyUs);
  };

  const resetData = () => {
    log.clear();
    hist.clear();
    selectedSeq = hoverK = -1;
    details.textContent = 'Hover or click a flush for its details.';
  };

  // CSS widths of the two canvases, kept by a ResizeObserver: reading clientWidth
  // every frame would force a layout after the DOM writes of the other panels.
  const cssWidth = new Map<Element, number>();
  if (typeof ResizeObserver !== 'undefined') {
    const ro = new ResizeObserver((entries) => {
      for (const e of entries) cssWidth.set(e.target, Math.round(e.contentRect.width));
    });
    ro.observe(canvas);
    ro.observe(histCanvas);
  }

  const fitCanvas = (c: HTMLCanvasElement, cssHeight: number) => {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round((cssWidth.get(c) ?? c.clientWidth) * dpr));
    const hgt = Math.round(cssHeight * dpr);
    if (c.width !== w || c.height !== hgt) {
      c.width = w;
      c.height = hgt;
    }
    return dpr;
  };

  const detailsFor = (k: number): string => {
    if (!log.get(k, scratch)) return 'Hover or click a flush for its details.';
    return describeFlush(scratch, vcpus, eventClockUs());
  };

  const pointer = (ev: MouseEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    const dpr = canvas.width / Math.max(1, r.width);
    return [(ev.clientX - r.left) * dpr, (ev.clientY - r.top) * dpr];
  };
  canvas.addEventListener('mousemove', (ev) => {
    if (!geom) return;
    const [x, y] = pointer(ev);
    hoverK = log.hitTest(geom, x, y, 6 * (window.devicePixelRatio || 1));
    if (hoverK >= 0) details.textContent = detailsFor(hoverK);
  });
  canvas.addEventListener('mouseleave', () => {
    hoverK = -1;
    const k = log.find(selectedSeq);
    details.textContent = k >= 0 ? detailsFor(k) : 'Hover or click a flush for its details.';
  });
  canvas.addEventListener('click', (ev) => {
    if (!geom) return;
    const [x, y] = pointer(ev);
    const k = log.hitTest(geom, x, y, 6 * (window.devicePixelRatio || 1));
    selectedSeq = k >= 0 && log.get(k, scratch) ? scratch.seq : -1;
    root.dataset.selectedSeq = String(selectedSeq);
    details.textContent = detailsFor(k);
  });
  canvas.addEventListener('keydown', (ev) => {
    const keys = ['ArrowLeft', 'ArrowRight', 'Home', 'Escape'];
    if (!keys.includes(ev.key)) return;
    ev.preventDefault();
    let k = log.find(selectedSeq);
    if (ev.key === 'Escape') k = -1;
    else if (ev.key === 'Home' || k < 0) k = log.size > 0 ? 0 : -1;
    else if (ev.key === 'ArrowLeft') k = Math.min(log.size - 1, k + 1); // older
    else k = Math.max(0, k - 1); // newer
    selectedSeq = k >= 0 && log.get(k, scratch) ? scratch.seq : -1;
    root.dataset.selectedSeq = String(selectedSeq);
    details.textContent = detailsFor(k);
  });
  windowSel.addEventListener('change', () => (windowS = Number(windowSel.value) || DEFAULT_WINDOW_S));
  clear.addEventListener('click', resetData);
  histCanvas.addEventListener('mousemove', (ev) => {
    const r = histCanvas.getBoundingClientRect();
    histHover = Math.min(LAT_BUCKETS - 1, Math.max(0, Math.floor(((ev.clientX - r.left) / r.width) * LAT_BUCKETS)));
    histInfo.textContent = `${bucketLabel(histHover)}: ${hist.counts[histHover]} flush${hist.counts[histHover] === 1 ? '' : 'es'}`;
  });
  histCanvas.addEventListener('mouseleave', () => {
    histHover = -1;
    histInfo.textContent = '';
  });

  const drawTimeline = (f: Frame) => {
    const lanes = vcpus + 1;
    const dpr = fitCanvas(canvas, Math.min(22 * lanes, 200) + AXIS_PX);
    const W = canvas.width;
    const H = canvas.height;
    const axis = AXIS_PX * dpr;
    const windowUs = windowS * 1e6;
    // Reduced motion: the view moves in quarter-window steps instead of scrolling.
    const step = windowUs / 4;
    const nowUs = eventClockUs();
    const endUs = f.reducedMotion ? Math.ceil(nowUs / step) * step : nowUs;
    // One geometry object, updated in place (hit-testing reads it between frames).
    const g = (geom ??= { width: 0, height: 0, left: 0, lanes: 1, endUs: 0, windowUs: 1 });
    g.width = W;
    g.height = H - axis;
    g.left = LABEL_PX * dpr;
    g.lanes = lanes;
    g.endUs = endUs;
    g.windowUs = windowUs;
    const lh = laneHeight(g);
    ctx.clearRect(0, 0, W, H);
    ctx.font = fontPx(11 * dpr);
    ctx.textBaseline = 'middle';
    for (let l = 0; l < lanes; l++) {
      ctx.fillStyle = l % 2 ? colours.laneB : colours.laneA;
      ctx.fillRect(g.left, l * lh, W - g.left, lh);
      ctx.fillStyle = colours.text;
      ctx.fillText(LANE_LABELS[l] ?? `vCPU ${l - 1}`, 4 * dpr, l * lh + lh / 2);
    }
    // One grid line per second (per 10 s on the long window), labelled "−n s".
    const gridS = windowS > 20 ? 10 : windowS > 5 ? 2 : 0.5;
    ctx.strokeStyle = colours.grid;
    ctx.fillStyle = colours.muted;
    ctx.lineWidth = 1;
    ctx.textBaseline = 'top';
    for (let s = 0; s <= windowS + 1e-9; s += gridS) {
      const x = xOfTime(g, endUs - s * 1e6);
      if (x < g.left) break;
      ctx.beginPath();
      ctx.moveTo(x + 0.5, 0);
      ctx.lineTo(x + 0.5, g.height);
      ctx.stroke();
      const label = gridLabel(s);
      const tw = ctx.measureText(label).width;
      ctx.fillText(label, Math.max(g.left, Math.min(W - tw, x - tw / 2)), g.height + 2 * dpr);
    }
    const bw = Math.max(2, 2 * dpr);
    // Bars first (the colour set only when the cause changes), then every
    // requester's triangle in one path and one fill: thousands of flushes in
    // the window stay thousands of rects, not thousands of fills.
    let style = -1;
    for (let k = 0; k < log.size; k++) {
      log.get(k, scratch);
      const x = xOfTime(g, scratch.timeUs);
      if (x < g.left - bw) break;
      if (x > W + bw) continue;
      if (scratch.cause !== style) {
        style = scratch.cause;
        ctx.fillStyle = CAUSE_COLOURS[style] ?? '#999999';
      }
      for (let v = 0; v < vcpus; v++) {
        if (((scratch.targets >>> v) & 1) === 0) continue;
        ctx.fillRect(x - bw / 2, (v + 1) * lh + lh * 0.15, bw, lh * 0.7);
      }
    }
    ctx.beginPath();
    for (let k = 0; k < log.size; k++) {
      log.get(k, scratch);
      const x = xOfTime(g, scratch.timeUs);
      if (x < g.left - bw) break;
      if (x > W + bw) continue;
      triangle(ctx, x, requesterLane(scratch.requester) * lh + lh / 2, lh * 0.3);
    }
    ctx.fillStyle = colours.text;
    ctx.fill();
    const sel = log.find(selectedSeq);
    const mark = hoverK >= 0 ? hoverK : sel;
    if (mark >= 0 && log.get(mark, scratch)) {
      const x = xOfTime(g, scratch.timeUs);
      ctx.strokeStyle = colours.select;
      ctx.lineWidth = 2 * dpr;
      ctx.strokeRect(x - 4 * dpr, 1, 8 * dpr, g.height - 2);
    }
  };

  const drawHistogram = () => {
    const dpr = fitCanvas(histCanvas, 90);
    const W = histCanvas.width;
    const H = histCanvas.height;
    const axis = 14 * dpr;
    hctx.clearRect(0, 0, W, H);
    const peak = hist.peak();
    const bw = W / LAT_BUCKETS;
    for (let k = 0; k < LAT_BUCKETS; k++) {
      const c = hist.counts[k]!;
      if (c === 0) continue;
      // sqrt so a bucket with a handful of flushes is still visible beside thousands.
      const bh = Math.max(1, (Math.sqrt(c) / Math.sqrt(peak)) * (H - axis - 2));
      hctx.fillStyle = k === histHover ? colours.select : colours.bar;
      hctx.fillRect(k * bw + 1, H - axis - bh, bw - 2, bh);
    }
    hctx.fillStyle = colours.muted;
    hctx.font = fontPx(10 * dpr);
    hctx.textBaseline = 'top';
    for (const [k, text] of [[1, '1 µs'], [11, '1 ms'], [LAT_BUCKETS - 1, '65 ms+']] as const) {
      const tw = hctx.measureText(text).width;
      hctx.fillText(text, Math.min(W - tw, Math.max(0, k * bw)), H - axis + 2 * dpr);
    }
  };

  const updateText = () => {
    root.dataset.flushes = String(log.total);
    root.dataset.causes = log.causesSeen();
    root.dataset.lost = String(reader?.lost ?? 0);
    root.dataset.latencyMaxUs = String(hist.maxUs);
    for (let c = 0; c < legendCounts.length; c++) {
      const n = stats ? stats.flushesByCause(c) : 0;
      legendCounts[c]!.textContent = n.toLocaleString();
      root.dataset[datasetKey(causeSlug(c))] = String(n);
    }
    const statTotal = stats ? stats.stat(STAT_REMOTE_TLB_FLUSH) : 0;
    root.dataset.flushStat = String(statTotal);
    if (hist.total === 0) {
      summary.textContent = views ? `No flushes recorded yet (${statTotal} counted).` : 'No VM yet: load or run a guest.';
      histCanvas.setAttribute('aria-label', 'Flush latency histogram: no flushes yet');
    } else {
      const text = `${hist.total.toLocaleString()} flushes seen (${statTotal.toLocaleString()} counted); latency ` +
        `median ≤ ${formatUs(hist.quantileBound(0.5))}, p99 ≤ ${formatUs(hist.quantileBound(0.99))}, max ${formatUs(hist.maxUs)}` +
        (reader && reader.lost > 0 ? `; ${reader.lost.toLocaleString()} events lost to ring overflow` : '');
      summary.textContent = text;
      histCanvas.setAttribute('aria-label', `Flush latency histogram, log scale: ${text}`);
    }
    const k = hoverK >= 0 ? hoverK : log.find(selectedSeq);
    if (k >= 0) details.textContent = detailsFor(k);
  };

  const draw = (f: Frame) => {
    if (f.views !== views) {
      views = f.views;
      const ev = views?.region(REGION_EVENTS) ?? null;
      reader = ev ? new EventReader(ev.i32, 'oldest') : null;
      stats = views ? new KvmStatView(views) : null;
      vcpus = views?.vcpus ?? 1;
      resetData();
    }
    reader?.poll(MAX_PER_FRAME, onFlush, eventTypes(EV_TLB_FLUSH));
    drawTimeline(f);
    if (f.now - lastText >= TEXT_INTERVAL_MS || f.reducedMotion) {
      lastText = f.now;
      drawHistogram();
      updateText();
    }
  };

  registerPanel({
    id: 'tlb-timeline',
    title: 'TLB flush timeline',
    description: TLB_TIMELINE_DESCRIPTION,
    mount(body) {
      root = body.parentElement ?? body;
      root.dataset.flushes = '0';
      root.dataset.causes = '';
      body.append(
        h('div', { class: 'tlb-toolbar' },
          h('label', { for: windowId }, 'Window '), windowSel, clear),
        h('div', { class: 'tlb-layout' },
          h('div', { class: 'tlb-frame' }, canvas),
          h('figure', { class: 'tlb-hist-box' },
            histCanvas,
            h('figcaption', {}, 'Flush latency (log scale)'),
            histInfo)),
        legend,
        summary,
        details,
      );
    },
    draw,
    reset() {
      views = null;
      reader = null;
      resetData();
    },
  });
}

/** Lane labels, made once: lane 0 is the VMM, lane 1 + v is vCPU v. */
const LANE_LABELS: readonly string[] = ['VMM', ...Array.from({ length: MAX_VCPUS }, (_, v) => `vCPU ${v}`)];

const gridLabels = new Map<number, string>();
/** "now", "−2 s": the grid labels repeat every frame, so each is made once. */
function gridLabel(s: number): string {
  let label = gridLabels.get(s);
  if (label === undefined) gridLabels.set(s, (label = s === 0 ? 'now' : `−${s} s`));
  return label;
}

const fonts = new Map<number, string>();
/** The canvas font at a pixel size (the same few sizes every frame unless the zoom changes). */
function fontPx(px: number): string {
  let font = fonts.get(px);
  if (font === undefined) fonts.set(px, (font = `${px}px system-ui, sans-serif`));
  return font;
}

/** The requester's mark, a small triangle pointing down, added to the current path. */
function triangle(ctx: CanvasRenderingContext2D, x: number, y: number, r: number): void {
  ctx.moveTo(x - r, y - r);
  ctx.lineTo(x + r, y - r);
  ctx.lineTo(x, y + r);
  ctx.closePath();
}

/** 'dirty-log' -> 'flushesDirtyLog' (the dataset key of data-flushes-dirty-log). */
function datasetKey(slug: string): string {
  return 'flushes' + slug.replace(/(^|-)([a-z0-9])/g, (_m, _d: string, ch: string) => ch.toUpperCase());
}

function themeColours(): Colours {
  return {
    text: cssVar('--text') || '#1a1f25',
    muted: cssVar('--muted') || '#56606b',
    laneA: cssVar('--surface-2') || '#f0f2f5',
    laneB: cssVar('--surface') || '#ffffff',
    grid: cssVar('--border') || '#d5dbe1',
    bar: cssVar('--accent') || '#0b5cad',
    select: cssVar('--focus') || '#1f6feb',
  };
}
