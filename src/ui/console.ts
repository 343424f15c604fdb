// The guest's serial console: an xterm.js terminal wired to the UART rings.
//
// Output: each animation frame drains the console-out ring (shared memory) and
// writes a private copy of the bytes; xterm decodes UTF-8 across writes.
// Input: keystrokes are UTF-8 encoded and published to the console-in ring.
// Nothing here goes through comlink unless the VM has no input ring.
import '@xterm/xterm/css/xterm.css';
import { Terminal, type ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { focusOutside, h, uniqueId } from './dom.ts';
import { cssVar, darkScheme, reducedMotion } from './media.ts';
import type { SharedViews } from './shared-views.ts';

/** Cap per frame so a chatty guest cannot stall drawing; the rest waits in the ring. */
const MAX_BYTES_PER_FRAME = 64 * 1024;

export interface ConsoleView {
  /** Drain guest output; call once per animation frame. */
  pump(views: SharedViews | null): void;
  /** A new VM: clear the screen and forget the old rings. */
  reset(): void;
  /** Where keystrokes go when the VM has no console-in ring. */
  setFallbackInput(send: (bytes: Uint8Array) => void): void;
  focus(): void;
}

function theme(): ITheme {
  return {
    background: cssVar('--term-bg'),
    foreground: cssVar('--term-fg'),
    cursor: cssVar('--term-fg'),
    cursorAccent: cssVar('--term-bg'),
    selectionBackground: cssVar('--term-selection'),
  };
}

/** Ctrl+] leaves the terminal forwards, Ctrl+Shift+] backwards (like telnet's escape). */
function isEscapeChord(ev: KeyboardEvent): boolean {
  return ev.type === 'keydown' && ev.ctrlKey && !ev.altKey && !ev.metaKey &&
    (ev.code === 'BracketRight' || ev.key === ']' || ev.key === '}');
}

export function createConsole(slot: HTMLElement): ConsoleView {
  const hintId = uniqueId('console-hint');
  const host = h('div', { class: 'console-term', 'data-testid': 'terminal' });
  const dropped = h('span', { class: 'console-dropped', hidden: true });
  const srToggle = h('input', { type: 'checkbox', id: uniqueId('sr-mode') });
  slot.replaceChildren(
    h('div', { class: 'section-head' },
      h('h2', {}, 'Console'),
      h('label', { class: 'inline-check' }, srToggle, 'Screen reader mode'),
    ),
    host,
    h('p', { class: 'hint', id: hintId },
      'Keys typed here go to the guest, including Tab. Press ',
      h('kbd', {}, 'Ctrl'), '+', h('kbd', {}, ']'), ' to move focus to the next control, ',
      h('kbd', {}, 'Ctrl'), '+', h('kbd', {}, 'Shift'), '+', h('kbd', {}, ']'), ' for the previous one.',
      ' ', dropped),
  );

  const term = new Terminal({
    convertEol: true, // bare-metal guests often print "\n" alone
    cursorBlink: !reducedMotion.matches,
    fontFamily: 'ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace',
    fontSize: 13,
    scrollback: 5000,
    minimumContrastRatio: 4.5,
    theme: theme(),
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(host);
  term.textarea?.setAttribute('aria-describedby', hintId);
  term.textarea?.setAttribute('aria-keyshortcuts', 'Control+BracketRight Control+Shift+BracketRight');
  fit.fit();
  new ResizeObserver(() => fit.fit()).observe(host);

  reducedMotion.onChange((reduce) => (term.options.cursorBlink = !reduce));
  darkScheme.onChange(() => (term.options.theme = theme()));
  srToggle.addEventListener('change', () => (term.options.screenReaderMode = srToggle.checked));

  term.attachCustomKeyEventHandler((ev) => {
    if (!isEscapeChord(ev)) return true;
    ev.preventDefault();
    focusOutside(host, ev.shiftKey ? 'previous' : 'next');
    return false;
  });

  let views: SharedViews | null = null;
  let fallback: ((bytes: Uint8Array) => void) | null = null;
  const encoder = new TextEncoder();
  const send = (bytes: Uint8Array) => {
    const ring = views?.consoleIn;
    if (ring) ring.write(bytes);
    else fallback?.(bytes);
  };
  term.onData((data) => send(encoder.encode(data)));
  // onBinary carries raw bytes (e.g. some mouse reports) as a binary string.
  term.onBinary((data) => send(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff)));

  let shownDropped = 0;
  return {
    pump(v) {
      views = v;
      const ring = v?.consoleOut;
      if (!ring) return;
      const bytes = ring.drain(MAX_BYTES_PER_FRAME);
      if (bytes) term.write(bytes);
      const lost = ring.dropped() + (v.consoleIn?.dropped() ?? 0);
      if (lost !== shownDropped) {
        shownDropped = lost;
        dropped.textContent = `${lost} console bytes were dropped because a ring was full.`;
        dropped.hidden = lost === 0;
      }
    },
    reset() {
      views = null;
      shownDropped = 0;
      dropped.hidden = true;
      term.reset();
    },
    setFallbackInput(f) {
      fallback = f;
    },
    focus() {
      term.focus();
    },
  };
}
