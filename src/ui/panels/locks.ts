// The locks panel: mmu_lock, kvm_lock and the other hypervisor locks, read
// from their records in region 'locks' (locks.ts keeps acquisitions,
// contended acquisitions, total and maximum wait and hold times), with rates
// per second, and the latest contended acquisitions from the event ring
// (EV_LOCK_CONTENDED: who waited, for which lock, how long).
import { h } from '../dom.ts';
import { CounterRate } from '../counter-rate.ts';
import { eventClockUs, EventReader, eventTypes, type KvmEventRecord } from '../../kvm/event-format.ts';
import { emptyLock, KvmStatView, ownerName, type LockSnapshot } from '../kvm-stat-view.ts';
import { formatUs } from '../latency-histogram.ts';
import { registerPanel, type Frame } from '../panel.ts';
import { EV_LOCK_CONTENDED, LOCK_NAMES, REGION_EVENTS } from '../shared-layout.ts';
import type { SharedViews } from '../shared-views.ts';

const SAMPLE_MS = 500;
const SAMPLE_MS_REDUCED = 1000;
const RECENT = 10;
const MAX_PER_FRAME = 8192;

export const LOCKS_DESCRIPTION =
  'The hypervisor locks. mmu_lock guards shadow pages and SPTEs: slow faults, GET_DIRTY_LOG and ' +
  'MMU notifiers take it, the fast page fault does not. A contended acquisition found the lock held ' +
  'and waited (spinning briefly, then sleeping on Atomics.wait).';

/** 1234 -> "1.2 µs", 12 -> "12 ns". */
export function formatNs(ns: number): string {
  return ns < 1000 ? `${Math.round(ns)} ns` : formatUs(ns / 1000);
}

interface Row {
  label: string;
  cell(l: LockSnapshot, r: { acq: CounterRate; cont: CounterRate }): string;
}

const ROWS: Row[] = [
  { label: 'held by', cell: (l) => (l.held ? ownerName(l.owner) : 'free') },
  { label: 'acquisitions', cell: (l) => l.acquired.toLocaleString() },
  { label: 'acquisitions / s', cell: (_l, r) => Math.round(r.acq.rate).toLocaleString() },
  { label: 'contended', cell: (l) => l.contended.toLocaleString() },
  { label: 'contended / s', cell: (_l, r) => Math.round(r.cont.rate).toLocaleString() },
  { label: 'contended %', cell: (l) => (l.acquired ? `${((100 * l.contended) / l.acquired).toFixed(2)} %` : '—') },
  { label: 'wait total', cell: (l) => formatNs(l.waitNs) },
  { label: 'wait max', cell: (l) => formatNs(l.maxWaitNs) },
  { label: 'wait mean (contended)', cell: (l) => (l.contended ? formatNs(l.waitNs / l.contended) : '—') },
  { label: 'hold total', cell: (l) => formatNs(l.holdNs) },
  { label: 'hold max', cell: (l) => formatNs(l.maxHoldNs) },
];

interface Contention {
  timeUs: number;
  vcpu: number;
  lock: number;
  waitNs: number;
}

/** "mmu_lock" -> "mmuLock": the dataset key prefix (data-mmu-lock-acq). */
function keyOf(name: string): string {
  return name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

export function registerLocksPanel(): void {
  const locks = LOCK_NAMES.map((_, id) => id);
  const snaps = locks.map(() => emptyLock());
  const rates = locks.map(() => ({ acq: new CounterRate(), cont: new CounterRate() }));
  const cells: HTMLElement[][] = ROWS.map(() => locks.map(() => h('td', { class: 'num' }, '—')));
  const table = h('table', { class: 'locks-table' },
    h('caption', { class: 'visually-hidden' }, 'Lock statistics, one column per lock'),
    h('thead', {}, h('tr', {}, h('td'), ...LOCK_NAMES.map((n) => h('th', { scope: 'col', class: 'num' }, n)))),
    h('tbody', {}, ...ROWS.map((row, i) => h('tr', {}, h('th', { scope: 'row' }, row.label), ...cells[i]!))));
  const recentList = h('ol', { class: 'locks-recent', reversed: true });
  const recentItems = Array.from({ length: RECENT }, () => h('li'));
  /** The last RECENT contended acquisitions, a ring indexed by `seen` (no allocation per event). */
  const recent: Contention[] = Array.from({ length: RECENT }, () => ({ timeUs: 0, vcpu: 0, lock: 0, waitNs: 0 }));
  const recentNote = h('p', { class: 'locks-note' }, 'No contended acquisitions yet.');

  let root: HTMLElement = h('div');
  let views: SharedViews | null = null;
  let stats: KvmStatView | null = null;
  let reader: EventReader | null = null;
  let seen = 0;
  let lastSample = -1;

  const onContended = (r: KvmEventRecord) => {
    const e = recent[seen % RECENT]!;
    e.timeUs = r.timeUs;
    e.vcpu = r.vcpu;
    e.lock = r.a;
    e.waitNs = r.b >>> 0;
    seen++;
  };

  const render = () => {
    for (let c = 0; c < locks.length; c++) {
      const l = snaps[c]!;
      for (let r = 0; r < ROWS.length; r++) cells[r]![c]!.textContent = ROWS[r]!.cell(l, rates[c]!);
      const k = keyOf(LOCK_NAMES[c]!);
      root.dataset[`${k}Acq`] = String(l.acquired);
      root.dataset[`${k}Contended`] = String(l.contended);
    }
    root.dataset.contentionEvents = String(seen);
    const now = eventClockUs();
    // Newest first, in the same RECENT list items (their "ago" changes every time).
    const n = Math.min(seen, RECENT);
    for (let i = 0; i < n; i++) {
      const e = recent[(seen - 1 - i) % RECENT]!;
      recentItems[i]!.textContent =
        `${formatUs(Math.max(0, now - e.timeUs))} ago: ${e.vcpu < 0 ? 'the VMM' : `vCPU ${e.vcpu}`} waited ` +
        `${formatNs(e.waitNs)} for ${LOCK_NAMES[e.lock] ?? `lock ${e.lock}`}`;
    }
    if (recentList.childElementCount !== n) recentList.replaceChildren(...recentItems.slice(0, n));
    recentNote.textContent = seen === 0
      ? (views ? 'No contended acquisitions yet.' : 'No VM yet: load or run a guest.')
      : `${seen.toLocaleString()} contended acquisitions seen in the event ring; the latest:`;
  };

  const draw = (f: Frame) => {
    if (f.views !== views) {
      views = f.views;
      stats = views ? new KvmStatView(views) : null;
      const ev = views?.region(REGION_EVENTS) ?? null;
      reader = ev ? new EventReader(ev.i32, 'oldest') : null;
      seen = 0;
      lastSample = -1;
      rates.forEach((r) => (r.acq.reset(), r.cont.reset()));
      snaps.forEach((s) => Object.assign(s, emptyLock()));
    }
    reader?.poll(MAX_PER_FRAME, onContended, eventTypes(EV_LOCK_CONTENDED));
    const every = f.reducedMotion ? SAMPLE_MS_REDUCED : SAMPLE_MS;
    if (lastSample >= 0 && f.now - lastSample < every) return;
    lastSample = f.now;
    if (stats) {
      for (let c = 0; c < locks.length; c++) {
        const l = stats.readLock(c, snaps[c]);
        rates[c]!.acq.update(f.now, l.acquired);
        rates[c]!.cont.update(f.now, l.contended);
      }
    }
    render();
  };

  registerPanel({
    id: 'locks',
    title: 'Locks',
    description: LOCKS_DESCRIPTION,
    mount(body) {
      root = body.parentElement ?? body;
      render();
      body.append(
        h('div', { class: 'locks-scroll' }, table),
        h('h4', { class: 'locks-sub' }, 'Recent contention'),
        recentNote,
        recentList,
      );
    },
    draw,
    reset() {
      views = null;
    },
  });
}
