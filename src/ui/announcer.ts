// A polite live region: state changes are spoken once, and while the VM runs a
// short rate summary at most every SUMMARY_INTERVAL_MS (notes §9). Nothing else
// on the page is a live region, so screen readers are not flooded.
import { h } from './dom.ts';

const SUMMARY_INTERVAL_MS = 15_000;

export interface Announcer {
  say(text: string): void;
  /** Offer a periodic summary; spoken only if enough time has passed. */
  summary(now: number, text: () => string): void;
}

export function createAnnouncer(parent: HTMLElement): Announcer {
  const region = h('div', { class: 'visually-hidden', 'aria-live': 'polite', 'aria-atomic': 'true', 'data-testid': 'announcer' });
  parent.append(region);
  let last = '';
  let lastSummary = 0;
  const say = (text: string) => {
    if (text === last) return;
    last = text;
    region.textContent = text;
  };
  return {
    say(text) {
      lastSummary = performance.now();
      say(text);
    },
    summary(now, text) {
      if (now - lastSummary < SUMMARY_INTERVAL_MS) return;
      lastSummary = now;
      say(text());
    },
  };
}
