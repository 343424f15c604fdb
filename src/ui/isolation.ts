// Cross-origin isolation: without it the browser hides SharedArrayBuffer, so
// vCPU workers cannot share guest RAM and nothing can run (notes §1.6).
import { h } from './dom.ts';

export function isCrossOriginIsolated(): boolean {
  return globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
}

function isFramed(): boolean {
  try {
    return window.top !== window.self;
  } catch {
    return true; // a cross-origin parent can make the comparison throw in old engines
  }
}

/** The banner shown instead of the live machine; explains why and how to fix it. */
export function renderIsolationBanner(slot: HTMLElement): void {
  const framed = isFramed();
  const fix = framed
    ? h('p', {},
        'This page is embedded in another page that is not isolated, and isolation ' +
        'flows from the top-level page down. Open it on its own: ',
        h('a', { href: location.href, target: '_blank', rel: 'noopener' }, 'Open in a new tab'),
        '.')
    : h('p', {},
        'Serve the app with the headers ',
        h('code', {}, 'Cross-Origin-Opener-Policy: same-origin'), ' and ',
        h('code', {}, 'Cross-Origin-Embedder-Policy: require-corp'),
        ' over HTTPS or localhost. From a checkout, ', h('code', {}, 'npm start'),
        ' builds the app and serves it that way.');
  slot.replaceChildren(
    h('div', { class: 'banner', role: 'alert' },
      h('h2', {}, 'Live multi-core mode needs cross-origin isolation'),
      h('p', {},
        'Each vCPU runs in its own worker and all of them share guest memory through a ' +
        'SharedArrayBuffer. Browsers only provide shared memory to pages that are ' +
        'cross-origin isolated, and this page is not, so the machine cannot start.'),
      fix),
  );
  slot.hidden = false;
}
