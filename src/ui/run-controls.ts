// Run / Pause / Step / Reset, the step target, and the "Pause live view" toggle.
//
// The buttons stay in the tab order when unavailable (aria-disabled) so focus
// is never dropped; Run is truly disabled only when the page cannot run at all.
import { h, isAvailable, setAvailable, uniqueId } from './dom.ts';
import type { Session, SessionState } from './session.ts';

export interface RunControls {
  /** The vCPU that Step and the register view target. */
  stepVcpu(): number;
  onStepVcpuChange(listener: () => void): void;
  /** Whether panels and meters update (WCAG 2.2.2). */
  readonly liveView: boolean;
}

export function createRunControls(slot: HTMLElement, session: Session): RunControls {
  const run = h('button', { type: 'button', class: 'primary', 'data-action': 'run' }, 'Run');
  const pause = h('button', { type: 'button', 'data-action': 'pause' }, 'Pause');
  const step = h('button', { type: 'button', 'data-action': 'step' }, 'Step');
  const reset = h('button', { type: 'button', 'data-action': 'reset' }, 'Reset');
  const vcpuId = uniqueId('step-vcpu');
  const vcpuSel = h('select', { id: vcpuId, class: 'compact' }, h('option', { value: 0 }, '0'));
  const live = h('button', { type: 'button', 'aria-pressed': 'false', 'data-action': 'live-view', class: 'toggle' },
    'Pause live view');

  let liveView = true;
  live.addEventListener('click', () => {
    liveView = !liveView;
    live.setAttribute('aria-pressed', String(!liveView));
    live.textContent = liveView ? 'Pause live view' : 'Resume live view';
    document.body.dataset.liveView = liveView ? 'on' : 'paused';
  });
  document.body.dataset.liveView = 'on';

  const on = (btn: HTMLButtonElement, fn: () => unknown) =>
    btn.addEventListener('click', () => {
      if (isAvailable(btn)) void fn();
    });
  on(run, () => session.run());
  on(pause, () => session.pause());
  on(step, () => session.step(Number(vcpuSel.value)));
  on(reset, () => session.reset());

  slot.replaceChildren(
    h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Machine controls' },
      run, pause,
      h('span', { class: 'group' }, step,
        h('label', { for: vcpuId, class: 'compact-label' }, 'vCPU'), vcpuSel),
      reset),
    live,
  );

  let vcpuCount = 1;
  const vcpuListeners: (() => void)[] = [];
  vcpuSel.addEventListener('change', () => vcpuListeners.forEach((l) => l()));

  const update = (s: SessionState) => {
    const idle = !s.busy;
    const loadedLike = s.vm === 'loaded' || s.vm === 'paused';
    if (!s.canRun) run.disabled = true;
    setAvailable(run, s.canRun && idle && s.vm !== 'running');
    setAvailable(pause, s.canRun && idle && s.vm === 'running');
    setAvailable(step, s.canRun && idle && loadedLike);
    setAvailable(reset, s.canRun && idle && s.vm !== 'empty');
    run.textContent = s.vm === 'paused' ? 'Resume' : s.vm === 'exited' || s.vm === 'error' ? 'Run again' : 'Run';
    const n = s.views?.vcpus ?? 1;
    if (n !== vcpuCount) {
      vcpuCount = n;
      const keep = Math.min(Number(vcpuSel.value), n - 1);
      vcpuSel.replaceChildren(...Array.from({ length: n }, (_, i) => h('option', { value: i, selected: i === keep }, String(i))));
    }
  };
  session.subscribe(update);

  return {
    stepVcpu: () => Number(vcpuSel.value),
    onStepVcpuChange: (l) => vcpuListeners.push(l),
    get liveView() {
      return liveView;
    },
  };
}
