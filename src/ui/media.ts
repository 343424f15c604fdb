// User preferences that change how live content is drawn. Listeners fire on
// change, so a panel can rebuild its colours or slow down without a reload.

export interface MediaPref {
  readonly matches: boolean;
  onChange(listener: (matches: boolean) => void): void;
}

function pref(query: string): MediaPref {
  const mq = window.matchMedia(query);
  return {
    get matches() {
      return mq.matches;
    },
    onChange(listener) {
      mq.addEventListener('change', (e) => listener(e.matches));
    },
  };
}

export const reducedMotion = pref('(prefers-reduced-motion: reduce)');
export const darkScheme = pref('(prefers-color-scheme: dark)');

/** The value of a CSS custom property on :root, for canvas and xterm colours. */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
