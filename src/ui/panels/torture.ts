// The Torture panel: dirty_log_test in the browser (src/kvm/torture-run.ts,
// running inside the VMM worker). Start creates a fresh VM with the chosen
// vCPUs and the dirty guest, then the worker loops: collect in the chosen
// mode, check every written page against the log, optionally swap out,
// KSM-merge and migrate pages meanwhile, with one protection switched off if
// asked. The counters are polled over comlink at 4 Hz (a control-plane call,
// never per frame); the heat map and timeline panels show the same run live.
//
// Readiness for tests and screen readers comes from data attributes on the
// panel section: data-torture-state (idle | starting | running | stopped |
// error), data-collections, data-passed, data-failed, data-lost,
// data-swap-outs, data-ksm-merges, data-migrations.
import { h, uniqueId } from '../dom.ts';
import { userMessage } from '../errors.ts';
import { registerPanel } from '../panel.ts';
import type { Session } from '../session.ts';
import type { DirtyMode, TortureCounters, VmmApi } from '../vmm-api.ts';

const POLL_MS = 250;

export const TORTURE_DESCRIPTION =
  'dirty_log_test, live: every vCPU writes iteration numbers into its pages while the VMM collects the ' +
  'dirty log and checks that no written page is missing. Switch one protection off to watch the checks fail ' +
  '(no-flush), or turn on host operations to swap, merge and migrate the pages under the guest.';

/** Protections the panel can switch off (names as in src/kvm/unsafe.ts), with what breaks. */
const UNSAFE_CHOICES: [string, string][] = [
  ['', 'none: every protection on'],
  ['no-flush', 'no-flush: no TLB flush after write-protect (T1)'],
  ['indirect-fast', 'indirect-fast: fast fault on indirect pages (F2)'],
  ['plain-clear', 'plain-clear: plain store on volatile SPTEs (F4)'],
  ['no-mode-order', 'no-mode-order: request after reading vcpu->mode (T2)'],
  ['no-notifier-retry', 'no-notifier-retry: fault ignores the notifier sequence (T4)'],
  ['no-entry-order', 'no-entry-order: guest entry checks requests before its mode (T2)'],
  ['no-walk-mode', 'no-walk-mode: lockless walk not announced, page freed under it (F7)'],
];
const MODES: [DirtyMode, string][] = [['bitmap', 'bitmap (GET)'], ['clear', 'bitmap + CLEAR'], ['ring', 'dirty ring']];

/** Creates a fresh VM with `vcpus` vCPUs and the dirty guest loaded; false if that failed. */
export type LoadDirtyGuest = (vcpus: number) => Promise<boolean>;

export function registerTorturePanel(api: VmmApi | null, session: Session, loadDirtyGuest: LoadDirtyGuest): void {
  const id = (p: string) => uniqueId(`torture-${p}`);
  const ids = { mode: id('mode'), vcpus: id('vcpus'), pages: id('pages'), ops: id('ops'), unsafe: id('unsafe') };
  const mode = h('select', { id: ids.mode }, ...MODES.map(([v, t]) => h('option', { value: v }, t)));
  const vcpus = h('input', { type: 'number', id: ids.vcpus, min: 1, max: 8, value: 2, class: 'dirty-num' });
  const pages = h('input', { type: 'number', id: ids.pages, min: 1, max: 1024, value: 64, class: 'dirty-num' });
  const hostOps = h('input', { type: 'checkbox', id: ids.ops });
  const unsafe = h('select', { id: ids.unsafe }, ...UNSAFE_CHOICES.map(([v, t]) => h('option', { value: v }, t)));
  const start = h('button', { type: 'button', 'data-testid': 'torture-start' }, 'Start torture');
  const stop = h('button', { type: 'button', 'data-testid': 'torture-stop', disabled: true }, 'Stop');
  const verdict = h('p', { class: 'torture-verdict', role: 'status' }, 'Not started.');
  const cells = {
    collections: h('dd', {}, '0'), passed: h('dd', {}, '0'), failed: h('dd', {}, '0'), lost: h('dd', {}, '0'),
    reported: h('dd', {}, '0'), host: h('dd', {}, '—'), elapsed: h('dd', {}, '0 s'),
  };
  const lostList = h('ul', { class: 'torture-lost', 'aria-label': 'Lost pages' });
  let root: HTMLElement = h('div');
  let timer: ReturnType<typeof setInterval> | null = null;
  let polling = false;
  /** Lost pages in the list now: it only grows during a run, so it is rebuilt only when this changes. */
  let lostShown = -1;

  const setRunning = (running: boolean) => {
    start.disabled = running || api === null;
    stop.disabled = !running;
    for (const el of [mode, vcpus, pages, hostOps, unsafe]) el.disabled = running;
  };

  const show = (c: TortureCounters | null) => {
    const d = root.dataset;
    if (!c) {
      d.tortureState = 'idle';
      return;
    }
    d.tortureState = c.state;
    d.collections = String(c.collections);
    d.passed = String(c.passed);
    d.failed = String(c.failed);
    d.lost = String(c.lostPages);
    d.swapOuts = String(c.host.swapOut);
    d.ksmMerges = String(c.host.ksmMerge);
    d.migrations = String(c.host.migrate);
    cells.collections.textContent = c.collections.toLocaleString();
    cells.passed.textContent = c.passed.toLocaleString();
    cells.failed.textContent = c.failed.toLocaleString();
    cells.lost.textContent = c.lostPages.toLocaleString();
    cells.reported.textContent = c.reportedPages.toLocaleString();
    cells.host.textContent = c.hostOps
      ? `${c.host.swapOut} swap-outs, ${c.host.ksmMerge} KSM merges, ${c.host.migrate} migrations, ${c.host.skipped} skipped`
      : 'off';
    cells.elapsed.textContent = `${(c.elapsedMs / 1000).toFixed(1)} s`;
    if (c.lostPages !== lostShown) {
      lostShown = c.lostPages;
      lostList.replaceChildren(...c.lost.map((p) =>
        h('li', {}, `LOST gfn 0x${p.gfn.toString(16)} (gpa 0x${(p.gpa >>> 0).toString(16)}) at collection ${p.collection}: written, never in the dirty log`)));
      if (c.lostPages > c.lost.length) lostList.append(h('li', {}, `… and ${c.lostPages - c.lost.length} more`));
    }
    const what = `${c.vcpus} vCPUs × ${c.pages} pages, ${c.mode}${c.hostOps ? ', host ops' : ''}${c.unsafe ? `, UNSAFE ${c.unsafe}` : ''}`;
    verdict.textContent = c.state === 'error' ? `Torture stopped: ${c.error ?? 'error'}` :
      `${c.state === 'running' ? 'Running' : c.state === 'stopped' ? 'Stopped' : 'Starting'} (${what}): ` +
      `${c.passed} passed, ${c.failed} failed.`;
    setRunning(c.state === 'running' || c.state === 'starting');
  };

  const stopPolling = () => {
    if (timer !== null) clearInterval(timer);
    timer = null;
  };
  const poll = async () => {
    if (!api || polling) return;
    polling = true;
    try {
      const c = await api.tortureStatus();
      show(c);
      if (!c || (c.state !== 'running' && c.state !== 'starting')) stopPolling();
    } catch (e) {
      verdict.textContent = `Torture status failed: ${userMessage(e)}`;
      stopPolling();
    } finally {
      polling = false;
    }
  };

  start.addEventListener('click', async () => {
    if (!api) return;
    setRunning(true);
    lostShown = -1; // a new run: its list is new even if its count is the same
    root.dataset.tortureState = 'starting';
    verdict.textContent = 'Creating the VM and loading the dirty guest…';
    const n = clampInt(vcpus.value, 1, 8, 2);
    try {
      if (!(await loadDirtyGuest(n))) throw new Error(session.current.error?.text ?? 'could not load the dirty guest');
      const c = await api.startTorture({
        mode: mode.value as DirtyMode, pages: clampInt(pages.value, 1, 1024, 64), intervalMs: 2,
        hostOps: hostOps.checked, unsafe: unsafe.value,
      });
      show(c);
      void session.refresh();
      stopPolling();
      timer = setInterval(() => void poll(), POLL_MS);
    } catch (e) {
      root.dataset.tortureState = 'error';
      verdict.textContent = `Torture could not start: ${userMessage(e)}`;
      setRunning(false);
    }
  });

  stop.addEventListener('click', async () => {
    if (!api) return;
    stop.disabled = true;
    stopPolling();
    try {
      show(await api.stopTorture());
    } catch (e) {
      verdict.textContent = `Stop failed: ${userMessage(e)}`;
    }
    setRunning(false);
    void session.refresh();
  });

  const label = (forId: string, text: string, control: HTMLElement) => h('label', { for: forId, class: 'check' }, text, control);

  registerPanel({
    id: 'torture',
    title: 'Torture (dirty_log_test)',
    description: TORTURE_DESCRIPTION,
    mount(body) {
      root = body.parentElement ?? body;
      root.dataset.tortureState = 'idle';
      body.append(
        h('div', { class: 'dirty-controls torture-controls' },
          label(ids.mode, 'Mode', mode),
          label(ids.vcpus, 'Torture vCPUs', vcpus),
          label(ids.pages, 'Pages per vCPU', pages),
          label(ids.ops, 'Host ops (swap, KSM, migrate)', hostOps),
          label(ids.unsafe, 'Protection off', unsafe),
          start, stop),
        verdict,
        h('dl', { class: 'torture-counters' },
          h('dt', {}, 'Collections'), cells.collections,
          h('dt', {}, 'Checks passed'), cells.passed,
          h('dt', {}, 'Checks failed'), cells.failed,
          h('dt', {}, 'Lost pages'), cells.lost,
          h('dt', {}, 'Dirty pages collected'), cells.reported,
          h('dt', {}, 'Host ops'), cells.host,
          h('dt', {}, 'Time'), cells.elapsed),
        lostList,
      );
      setRunning(false);
    },
    draw() {
      // Counters arrive by polling (4 Hz), not per frame.
    },
    reset() {
      // A new VM: a torture on the old one has ended with it.
      if (timer === null) return;
      void poll();
    },
  });
}

function clampInt(raw: string, min: number, max: number, fallback: number): number {
  const n = Number(raw);
  return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : fallback;
}
