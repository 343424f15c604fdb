// Collection controls of the dirty-bitmap panel: switch logging on slot 0,
// GET_DIRTY_LOG once, or collect every N ms. These are control calls to the
// VMM worker (comlink), never made from a frame callback; the heat map itself
// reads shared memory only.
import { h, uniqueId } from './dom.ts';
import { userMessage } from './errors.ts';
import type { DirtyLog, VmmApi } from './vmm-api.ts';

export interface DirtyControls {
  readonly element: HTMLElement;
  /** A new VM: re-apply the logging switch (a fresh memslot starts without it). */
  vmChanged(hasVm: boolean): void;
}

const DEFAULT_PERIOD_MS = 250;
const MIN_PERIOD_MS = 20;

/**
 * `publish` receives each collection (and the panel's root for data attributes
 * is updated through it); `root` gets data-logging.
 */
export function createDirtyControls(
  api: VmmApi | null,
  root: HTMLElement,
  publish: (log: DirtyLog) => void,
): DirtyControls {
  const logId = uniqueId('dirty-log');
  const autoId = uniqueId('dirty-auto');
  const periodId = uniqueId('dirty-period');
  const logging = h('input', { type: 'checkbox', id: logId });
  const get = h('button', { type: 'button', 'data-testid': 'dirty-get' }, 'GET_DIRTY_LOG');
  const auto = h('input', { type: 'checkbox', id: autoId });
  const period = h('input', {
    type: 'number', id: periodId, min: MIN_PERIOD_MS, max: 10000, step: 10, value: DEFAULT_PERIOD_MS, class: 'dirty-period',
    'aria-label': 'Collection period in milliseconds',
  });
  const message = h('p', { class: 'dirty-msg', role: 'status' });
  const element = h('div', { class: 'dirty-controls' },
    h('label', { for: logId, class: 'check' }, logging, ' Log dirty pages'),
    get,
    h('span', { class: 'check' }, auto, h('label', { for: autoId }, ' Collect every'), period,
      h('label', { for: periodId }, ' ms')),
    message);

  let hasVm = false;
  let inFlight = false;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const say = (text: string, error = false) => {
    message.textContent = text;
    message.classList.toggle('dirty-msg-error', error);
  };
  const sync = () => {
    const can = api !== null && hasVm;
    logging.disabled = !can;
    get.disabled = !can || !logging.checked;
    auto.disabled = !can || !logging.checked;
    root.dataset.logging = logging.checked && can ? 'on' : 'off';
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

  const collect = async () => {
    if (!api || !hasVm || inFlight || !logging.checked) return;
    inFlight = true;
    try {
      publish(await api.getDirtyLog(0));
    } catch (e) {
      say(userMessage(e), true);
      auto.checked = false;
    } finally {
      inFlight = false;
    }
  };

  // One timer at a time, re-armed after each collection finishes, so a slow
  // GET never queues up calls behind it.
  const schedule = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (!auto.checked || !logging.checked || !hasVm) return;
    const ms = Math.max(MIN_PERIOD_MS, Number.isFinite(period.valueAsNumber) ? period.valueAsNumber : DEFAULT_PERIOD_MS);
    timer = setTimeout(() => void collect().then(schedule), ms);
  };

  logging.addEventListener('change', () => void applyLogging());
  get.addEventListener('click', () => void collect());
  auto.addEventListener('change', schedule);
  period.addEventListener('change', schedule);
  sync();

  return {
    element,
    vmChanged(vm) {
      hasVm = vm;
      sync();
      if (vm && logging.checked) void applyLogging();
      else schedule();
    },
  };
}
