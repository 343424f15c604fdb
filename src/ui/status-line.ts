// The status line: VM state, what is loaded, exit code, and the last error as
// plain text. Also publishes the state on <body> as data attributes, which the
// end-to-end tests wait on instead of sleeping:
//   data-vm-state  empty | loaded | running | paused | exited | error
//   data-busy      "true" while a control call is in flight
//   data-exit-code the guest's exit code once it exited
import { h, hex32 } from './dom.ts';
import { findSourceLocation } from './errors.ts';
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
      // The VMM's message usually names the exit path and code already.
      return s.vmMessage ? `${name} exited: ${s.vmMessage.replace(/\.$/, '')}.` : `${name} exited with code ${s.exitCode ?? '?'}.`;
    case 'error':
      return s.vmMessage ? `${name} stopped: ${s.vmMessage}` : `${name} stopped with an error.`;
  }
}

/** The error line; an assembler message is shortened to its first line (the editor shows it all). */
function errorSummary(s: SessionState): string {
  const e = s.error;
  if (!e) return '';
  if (e.source !== 'asm') return e.text;
  const first = e.text.split('\n')[0]!;
  return findSourceLocation(first) ? `Assembly failed: ${first}` : `Could not load the program: ${first}`;
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
    error.textContent = errorSummary(s);
    error.hidden = !error.textContent;

    const ds = document.body.dataset;
    ds.vmState = s.vm;
    ds.busy = String(s.busy !== null);
    if (s.vm === 'exited' && s.exitCode !== undefined) ds.exitCode = String(s.exitCode);
    else delete ds.exitCode;
  };
}
