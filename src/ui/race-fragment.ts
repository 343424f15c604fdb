// The race lab's link: a URL fragment that reopens a run at a given step,
// `#race=NAME&unsafe=1&step=7`.
//
// The fragment is input from whoever wrote the link, so it is parsed strictly
// and only ever used as data: a name must be one the engine lists, numbers are
// plain decimals, and anything else is dropped with a message the panel shows
// (as text). Nothing here touches the DOM; nothing from the fragment is ever
// evaluated or turned into markup.

export interface RaceLink {
  name: string;
  unsafe: boolean;
  /** 0-based step index. */
  step: number;
}

export type RaceFragment =
  /** Not a race link (empty, or another fragment such as #console): leave it alone. */
  | { kind: 'none' }
  /** A usable link; `warnings` name the parts that were ignored. */
  | { kind: 'link'; link: RaceLink; warnings: string[] }
  /** A race link that cannot be used at all. */
  | { kind: 'error'; message: string };

const PREFIX = '#race=';
/** Scenario names are short slugs; anything else is not one of ours. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** A step number: plain decimal digits, no sign, exponent or hex. */
const STEP_RE = /^\d{1,6}$/;
const KEYS = new Set(['race', 'unsafe', 'step']);
/** How much of a bad value a message repeats (it is shown as text, but stays short). */
const ECHO_MAX = 40;

/** Quote a value from the fragment for a message: shortened, control characters dropped. */
export function echo(raw: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = raw.replace(/[\u0000-\u001f\u007f]/g, '');
  return `"${clean.length > ECHO_MAX ? `${clean.slice(0, ECHO_MAX - 1)}…` : clean}"`;
}

function decode(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/**
 * Parse `location.hash`. `known` is the list of scenario names (null while it
 * is not loaded yet: the name is then only checked for its form).
 */
export function parseRaceFragment(hash: string, known: readonly string[] | null): RaceFragment {
  if (!hash.startsWith(PREFIX)) return { kind: 'none' };
  const warnings: string[] = [];
  const seen = new Map<string, string>();
  for (const part of hash.slice(1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    const value = decode(eq < 0 ? '' : part.slice(eq + 1));
    if (key === null || value === null) {
      warnings.push(`Ignored a part of the link that is not valid URL encoding (${echo(part)}).`);
      continue;
    }
    if (!KEYS.has(key)) {
      warnings.push(`Ignored the unknown link parameter ${echo(key)}.`);
      continue;
    }
    if (seen.has(key)) return { kind: 'error', message: `The race link gives "${key}" twice; it was ignored.` };
    seen.set(key, value);
  }

  const name = seen.get('race') ?? '';
  if (!NAME_RE.test(name)) return { kind: 'error', message: `The race link names no valid scenario (${echo(name)}); it was ignored.` };
  if (known && !known.includes(name)) {
    return { kind: 'error', message: `The race link names an unknown scenario ${echo(name)}; it was ignored.` };
  }

  let unsafe = false;
  const u = seen.get('unsafe');
  if (u === '1') unsafe = true;
  else if (u !== undefined && u !== '0') warnings.push(`Ignored unsafe=${echo(u)} (use 0 or 1): the protection stays on.`);

  let step = 0;
  const s = seen.get('step');
  if (s !== undefined) {
    if (STEP_RE.test(s)) step = Number(s);
    else warnings.push(`Ignored step=${echo(s)} (not a step number): the run opens at step 0.`);
  }
  return { kind: 'link', link: { name, unsafe, step }, warnings };
}

/** The fragment for a run at a step; parseRaceFragment reads it back unchanged. */
export function formatRaceFragment(link: RaceLink): string {
  const step = Number.isInteger(link.step) && link.step >= 0 ? link.step : 0;
  return `${PREFIX}${encodeURIComponent(link.name)}&unsafe=${link.unsafe ? 1 : 0}&step=${step}`;
}

/** A link's step against the run it opened: clamped into range, with a message if it was out of range. */
export function clampLinkStep(step: number, stepCount: number): { step: number; warning: string | null } {
  if (stepCount <= 0) return { step: 0, warning: null };
  if (step < stepCount) return { step, warning: null };
  return {
    step: stepCount - 1,
    warning: `The link asks for step ${step}, but this run has steps 0 to ${stepCount - 1}: showing the last one.`,
  };
}
