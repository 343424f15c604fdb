// Collection controls of the dirty-bitmap panel: the collection mode (bitmap,
// bitmap + CLEAR with manual protect, dirty ring), logging on slot 0,
// GET_DIRTY_LOG, ring harvest, CLEAR_DIRTY_LOG of a range, collection every
// N ms, and the pre-copy migration loop (dirty-migrate-view.ts). These are
// control calls to the VMM worker (comlink), never made from a frame
// callback; the heat map itself reads shared memory only.
//
// One call at a time: a collection, a CLEAR or a migration round never
// overlaps another (the timer of "collect every N ms" skips a beat instead),
// and automatic collection pauses while a migration runs, so the migration's
// rounds see every dirty page.
import { createMigrateView } from './dirty-migrate-view.ts';
import { h, uniqueId } from './dom.ts';
import { userMessage } from './errors.ts';
import type { DirtyLog, DirtyMode, VmmApi } from './vmm-api.ts';

export interface DirtyControls {
  readonly element: HTMLElement;
  /** A new VM: re-apply the mode and the logging switch (a fresh VM starts in bitmap mode, logging off). */
  vmChanged(hasVm: boolean): void;
}

export interface DirtyHooks {
  /** A collection arrived: `label` names how it was made (GET, ring, migrate round 3...). */
  publish(log: DirtyLog, label: string): void;
  /** Pages of slot 0 backed by a host page (the migration's full first round). */
  backedPages(): number;
}

const DEFAULT_PERIOD_MS = 250;
const MIN_PERIOD_MS = 20;
const MODE_LABELS: Record<DirtyMode, string> = {
  bitmap: 'bitmap (GET_DIRTY_LOG)',
  clear: 'bitmap + CLEAR (manual protect)',
  ring: 'dirty ring (harvest + reset)',
};
const COLLECT_LABEL: Record<DirtyMode, string> = { bitmap: 'GET_DIRTY_LOG', clear: 'GET + CLEAR', ring: 'Ring harvest' };

/** `root` gets data-logging, data-dirty-mode, data-clear-count (and the migration's attributes). */
export function createDirtyControls(api: VmmApi | null, root: HTMLElement, hooks: DirtyHooks): DirtyControls {
  const ids = { log: uniqueId('dirty-log'), auto: uniqueId('dirty-auto'), period: uniqueId('dirty-period'), mode: uniqueId('dirty-mode'),
    first: uniqueId('clear-first'), count: uniqueId('clear-count') };
  const mode = h('select', { id: ids.mode, 'data-testid': 'dirty-mode' },
    ...(Object.keys(MODE_LABELS) as DirtyMode[]).map((m) => h('option', { value: m }, MODE_LABELS[m])));
  const logging = h('input', { type: 'checkbox', id: ids.log });
  const get = h('button', { type: 'button', 'data-testid': 'dirty-get' }, 'GET_DIRTY_LOG');
  const harvest = h('button', { type: 'button', 'data-testid': 'dirty-harvest' }, 'Harvest ring + reset');
  const auto = h('input', { type: 'checkbox', id: ids.auto });
  const period = h('input', {
    type: 'number', id: ids.period, min: MIN_PERIOD_MS, max: 10000, step: 10, value: DEFAULT_PERIOD_MS, class: 'dirty-period',
    'aria-label': 'Collection period in milliseconds',
  });
  const first = h('input', { type: 'number', id: ids.first, min: 0, step: 64, value: 0, class: 'dirty-num' });
  const count = h('input', { type: 'number', id: ids.count, min: 0, step: 64, placeholder: 'to the end', class: 'dirty-num' });
  const clear = h('button', { type: 'button', 'data-testid': 'dirty-clear' }, 'CLEAR_DIRTY_LOG');
  const message = h('p', { class: 'dirty-msg', role: 'status' });

  let hasVm = false;
  let inFlight = false;
  let clears = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const current = () => mode.value as DirtyMode;

  const say = (text: string, error = false) => {
    message.textContent = text;
    message.classList.toggle('dirty-msg-error', error);
  };

  /** Run one control call unless another is in flight; errors become the message. */
  const exclusive = async <T>(fn: (api: VmmApi) => Promise<T>): Promise<T | null> => {
    if (!api || !hasVm || inFlight) return null;
    inFlight = true;
    try {
      return await fn(api);
    } catch (e) {
      say(userMessage(e), true);
      return null;
    } finally {
      inFlight = false;
    }
  };

  const migrate = createMigrateView(root, {
    canStart: () => api !== null && hasVm && logging.checked,
    collect: async (label) => {
      // Waits out a collection already in flight: a migration round must not be skipped.
      while (inFlight) await new Promise((r) => setTimeout(r, 5));
      const log = await exclusive((a) => a.collectDirty());
      if (log) hooks.publish(log, label);
      return log;
    },
    backedPages: hooks.backedPages,
    changed: () => sync(),
  });

  const sync = () => {
    const can = api !== null && hasVm;
    const on = can && logging.checked;
    const m = current();
    mode.disabled = !can || migrate.running;
    logging.disabled = !can;
    get.disabled = !on || m === 'ring';
    harvest.disabled = !on || m !== 'ring';
    clear.disabled = !on || m === 'ring';
    auto.disabled = !on;
    get.hidden = m === 'ring';
    harvest.hidden = m !== 'ring';
    root.dataset.logging = on ? 'on' : 'off';
    root.dataset.dirtyMode = m;
    migrate.sync();
  };

  let applied: DirtyMode = 'bitmap';
  const applyMode = async () => {
    const want = current();
    if (!api || !hasVm) return;
    root.dataset.dirtyMode = 'pending';
    try {
      await api.setDirtyMode(want);
      applied = want;
      say(want === 'ring'
        ? 'Dirty ring on: each vCPU pushes the pages it dirties into its own ring; harvest it before it fills, or the vCPU stops (soft-full exit).'
        : want === 'clear' ? 'Manual protect on: GET only copies the bitmap; CLEAR_DIRTY_LOG clears bits and write-protects those pages again.'
          : 'Bitmap mode: GET_DIRTY_LOG snapshots, clears and write-protects in one call.');
    } catch (e) {
      mode.value = applied;
      say(userMessage(e), true);
    }
    sync();
  };

  const applyLogging = async () => {
    if (!api || !hasVm) return;
    const on = logging.checked;
    root.dataset.logging = 'pending';
    try {
      await api.setDirtyLogging(on);
      say(on ? 'Dirty logging is on for slot 0.' : 'Dirty logging is off.');
    } catch (e) {
      logging.checked = !on;
      say(userMessage(e), true);
    }
    sync();
    schedule();
  };

  const getOnce = async () => {
    const log = await exclusive((a) => a.getDirtyLog(0));
    if (log) hooks.publish(log, current() === 'clear' ? 'GET_DIRTY_LOG (copy)' : 'GET_DIRTY_LOG');
  };

  const collect = async (): Promise<boolean> => {
    if (migrate.running) return true; // the migration owns the log while it runs
    const log = await exclusive((a) => a.collectDirty());
    if (log) hooks.publish(log, COLLECT_LABEL[log.mode]);
    return log !== null || inFlight;
  };

  const clearRange = async () => {
    const f = Number.isFinite(first.valueAsNumber) ? first.valueAsNumber : 0;
    const total = Number(root.dataset.pages ?? 0);
    const n = Number.isFinite(count.valueAsNumber) ? count.valueAsNumber : Math.max(0, total - f);
    const r = await exclusive((a) => a.clearDirtyLog(f, n));
    if (!r) return;
    clears += 1;
    root.dataset.clearCount = String(clears);
    say(`CLEAR_DIRTY_LOG pages ${f}..${f + n - 1}: bits cleared and those pages write-protected again (${r.ms.toFixed(2)} ms).`);
  };

  // One timer at a time, re-armed after each collection finishes, so a slow
  // collection never queues up calls behind it.
  const schedule = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (!auto.checked || !logging.checked || !hasVm) return;
    const ms = Math.max(MIN_PERIOD_MS, Number.isFinite(period.valueAsNumber) ? period.valueAsNumber : DEFAULT_PERIOD_MS);
    timer = setTimeout(() => void collect().then((ok) => {
      if (!ok) auto.checked = false;
      schedule();
    }), ms);
  };

  mode.addEventListener('change', () => void applyMode());
  logging.addEventListener('change', () => void applyLogging());
  get.addEventListener('click', () => void getOnce());
  harvest.addEventListener('click', () => void collect());
  clear.addEventListener('click', () => void clearRange());
  auto.addEventListener('change', schedule);
  period.addEventListener('change', schedule);

  const element = h('div', { class: 'dirty-controls-wrap' },
    h('div', { class: 'dirty-controls' },
      h('label', { for: ids.mode }, 'Collection mode'), mode,
      h('label', { for: ids.log, class: 'check' }, logging, ' Log dirty pages'),
      get, harvest,
      h('span', { class: 'check' }, auto, h('label', { for: ids.auto }, ' Collect every'), period,
        h('label', { for: ids.period }, ' ms'))),
    h('div', { class: 'dirty-controls' },
      h('label', { for: ids.first }, 'CLEAR from page'), first,
      h('label', { for: ids.count }, 'number of pages'), count, clear),
    migrate.element,
    message);
  sync();

  return {
    element,
    vmChanged(vm) {
      hasVm = vm;
      migrate.stop();
      applied = 'bitmap';
      sync();
      if (!vm) return schedule();
      void (async () => {
        if (current() !== 'bitmap') await applyMode();
        if (logging.checked) await applyLogging();
        else schedule();
      })();
    },
  };
}
