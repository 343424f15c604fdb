// The status line: VM state, what is loaded, exit code, and the last error as
// plain text. Also publishes the state on <body> as data attributes, which the
// end-to-end tests wait on instead of sleeping:
//   data-vm-state  empty | loaded | running | paused | exited | error
//   data-busy      "true" while a control call is in flight
//   data-exit-code the guest's exit code once it exited
import { h, hex32 } from './dom.ts';
import type { SessionState } from './session.ts';
import type { VmState } from './vmm-api.ts';

const LABEL: Record<VmState, string> = {
  empty: 'No program',
  loaded: 'Loaded',
  running: 'Running',
  paused: 'Paused',
  exited: 'Exited',
  error: 'Error',
};

export function describeState(s: SessionState): string {
  const p = s.program;
  const name = p ? p.name : 'the program';
  const n = s.views?.vcpus ?? 0;
  const cpus = `${n} vCPU${n === 1 ? '' : 's'}`;
  switch (s.vm) {
    case 'empty':
      return s.canRun ? 'Pick a guest and press Run, upload an ELF, or assemble a program.' : 'Unavailable in this page.';
    case 'loaded':
      return p ? `${name} is loaded: entry ${hex32(p.entry)}, boots in ${p.bootMode}-mode, ${cpus}.` : 'Loaded.';
    case 'running':
      return `${name} is running on ${cpus}.`;
    case 'paused':
      return `${name} is paused.`;
    case 'exited':
      return `${name} exited with code ${s.exitCode ?? '?'}${s.vmMessage ? ` (${s.vmMessage})` : ''}.`;
    case 'error':
      return s.vmMessage ? `${name} stopped: ${s.vmMessage}` : `${name} stopped with an error.`;
  }
}

export function createStatusLine(slot: HTMLElement): (s: SessionState) => void {
  const pill = h('span', { class: 'state-pill', 'data-testid': 'vm-state' });
  const text = h('span', { class: 'status-text', 'data-testid': 'status-text' });
  const busy = h('span', { class: 'status-busy' });
  const error = h('p', { class: 'status-error', 'data-testid': 'status-error', hidden: true });
  slot.replaceChildren(h('p', { class: 'status-line' }, pill, text, busy), error);

  return (s) => {
    pill.textContent = LABEL[s.vm];
    pill.dataset.state = s.vm;
    text.textContent = describeState(s);
    busy.textContent = s.busy ?? '';
    const err = s.error
      ? s.error.source === 'asm' ? `Assembly failed: ${s.error.text.split('\n')[0]}` : s.error.text
      : '';
    error.textContent = err;
    error.hidden = !err;

    const ds = document.body.dataset;
    ds.vmState = s.vm;
    ds.busy = String(s.busy !== null);
    if (s.vm === 'exited' && s.exitCode !== undefined) ds.exitCode = String(s.exitCode);
    else delete ds.exitCode;
  };
}
