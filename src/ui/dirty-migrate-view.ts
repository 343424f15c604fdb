// "Migrate (pre-copy)": the live-migration loop of dirty-migrate.ts driven
// from the dirty-bitmap panel. Round 1 sends every backed page; each later
// round waits the simulated transfer time of the previous one, collects the
// dirty log (one comlink call) and sends what it got. The rounds show as a
// bar list, newest last; the loop stops below the threshold, at max rounds,
// or on Stop. Nothing here runs per frame.
//
// root gets data-migrate-state (idle | running | converged | max-rounds |
// stopped | failed) and data-migrate-rounds.
import { PrecopyLoop, transferMs } from './dirty-migrate.ts';
import { h, uniqueId } from './dom.ts';
import type { DirtyLog } from './vmm-api.ts';

export interface MigrateHooks {
  canStart(): boolean;
  /** One collection in the current mode, published to the heat map; null if it failed. */
  collect(label: string): Promise<DirtyLog | null>;
  backedPages(): number;
  /** Running state changed (the controls enable or disable themselves). */
  changed(): void;
}

export interface MigrateView {
  readonly element: HTMLElement;
  readonly running: boolean;
  stop(): void;
  sync(): void;
}

const MAX_BARS = 40;

export function createMigrateView(root: HTMLElement, hooks: MigrateHooks): MigrateView {
  const ids = { rounds: uniqueId('mig-rounds'), threshold: uniqueId('mig-threshold'), link: uniqueId('mig-link') };
  const maxRounds = h('input', { type: 'number', id: ids.rounds, min: 2, max: 100, step: 1, value: 10, class: 'dirty-num' });
  const threshold = h('input', { type: 'number', id: ids.threshold, min: 0, step: 1, value: 64, class: 'dirty-num' });
  const link = h('input', { type: 'number', id: ids.link, min: 1, max: 100000, step: 1, value: 256, class: 'dirty-num' });
  const start = h('button', { type: 'button', 'data-testid': 'migrate-start' }, 'Migrate (pre-copy)');
  const stopBtn = h('button', { type: 'button' }, 'Stop migration');
  const summary = h('p', { class: 'dirty-stats', 'data-testid': 'migrate-summary' });
  const bars = h('ol', { class: 'precopy-rounds', 'aria-label': 'Pages sent per round', 'data-testid': 'migrate-rounds' });

  let running = false;
  let token = 0;

  const setState = (s: string, rounds: number) => {
    root.dataset.migrateState = s;
    root.dataset.migrateRounds = String(rounds);
  };
  setState('idle', 0);

  const draw = (loop: PrecopyLoop) => {
    const shown = loop.rounds.slice(-MAX_BARS);
    const max = Math.max(1, ...shown.map((r) => r.pages));
    bars.replaceChildren(...shown.map((r) => h('li', { 'data-pages': r.pages, 'data-kind': r.kind },
      h('span', { class: 'precopy-label' }, `round ${r.round}${r.kind === 'full' ? ' (full copy)' : r.kind === 'stop-and-copy' ? ' (stop and copy)' : ''}:`),
      h('span', { class: 'precopy-bar', style: `width: ${Math.max(1, (100 * r.pages) / max).toFixed(1)}%` }),
      h('span', { class: 'precopy-pages' }, ` ${r.pages.toLocaleString('en')} pages`))));
    summary.textContent = loop.summary();
  };

  const num = (el: HTMLInputElement, d: number) => (Number.isFinite(el.valueAsNumber) ? el.valueAsNumber : d);

  const runLoop = async () => {
    let loop: PrecopyLoop;
    try {
      loop = new PrecopyLoop({ maxRounds: Math.round(num(maxRounds, 10)), threshold: num(threshold, 64) });
    } catch (e) {
      summary.textContent = (e as Error).message;
      return;
    }
    const mine = ++token;
    running = true;
    hooks.changed();
    setState('running', 0);
    // Round 1: start from a clean log (that collection is part of the full copy), send everything.
    let ok = (await hooks.collect('migrate round 1')) !== null;
    let sent = hooks.backedPages();
    if (ok) loop.record(sent);
    while (ok && mine === token && loop.state === 'running') {
      draw(loop);
      setState('running', loop.rounds.length);
      await new Promise((r) => setTimeout(r, transferMs(sent, num(link, 256))));
      if (mine !== token) break;
      const log = await hooks.collect(`migrate round ${loop.rounds.length + 1}`);
      if (!log) ok = false;
      else loop.record((sent = log.pages));
    }
    if (mine !== token && loop.state === 'running') {
      summary.textContent = `Stopped after ${loop.rounds.length} rounds.`;
      setState('stopped', loop.rounds.length);
    } else if (!ok) {
      draw(loop);
      summary.textContent = 'The migration stopped: a collection failed (see the message below).';
      setState('failed', loop.rounds.length);
    } else {
      draw(loop);
      setState(loop.state, loop.rounds.length);
    }
    if (mine === token) {
      running = false;
      hooks.changed();
    }
  };

  start.addEventListener('click', () => {
    if (!running && hooks.canStart()) void runLoop();
  });
  const stop = () => {
    if (!running) return;
    token++;
    running = false;
    hooks.changed();
  };
  stopBtn.addEventListener('click', stop);

  const element = h('div', { class: 'precopy' },
    h('div', { class: 'dirty-controls' },
      start, stopBtn,
      h('label', { for: ids.rounds }, 'max rounds'), maxRounds,
      h('label', { for: ids.threshold }, 'stop below'), threshold, h('span', {}, 'pages,'),
      h('label', { for: ids.link }, 'link'), link, h('span', {}, 'MiB/s')),
    summary, bars);

  return {
    element,
    get running() {
      return running;
    },
    stop,
    sync() {
      start.disabled = running || !hooks.canStart();
      stopBtn.disabled = !running;
    },
  };
}
