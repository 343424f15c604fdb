// A tiny element builder. All text goes in through textContent, never
// innerHTML, so nothing from a file, a URL or the guest can become markup.

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') el.className = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return el;
}

/** Look up an element the HTML shell must contain; a missing one is a build bug. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html lacks #${id}`);
  return el as T;
}

let uid = 0;
/** A document-unique id for label/aria wiring. */
export function uniqueId(prefix: string): string {
  uid += 1;
  return `${prefix}-${uid}`;
}

const TABBABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), ' +
  'textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Move focus to the first tabbable element after (or before) `from` in document
 * order, skipping everything inside it. This is the way out of the terminal,
 * which otherwise keeps Tab for the guest (WCAG 2.1.2).
 */
export function focusOutside(from: Element, direction: 'next' | 'previous'): void {
  const all = Array.from(document.querySelectorAll<HTMLElement>(TABBABLE)).filter(
    (el) => !from.contains(el) && el.getClientRects().length > 0,
  );
  const after = (el: Element) =>
    (from.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
  // Wrap around like Tab does at the ends of the page, so the chord always leaves.
  const target = direction === 'next'
    ? all.find(after) ?? all[0]
    : all.filter((el) => !after(el)).pop() ?? all[all.length - 1];
  target?.focus();
}

export function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Enable or disable a button without taking it out of the tab order: a button
 * that disappears from focus while focused (Run becoming unavailable once it
 * was pressed) would drop focus to <body>. Click handlers check isAvailable().
 */
export function setAvailable(el: HTMLButtonElement | HTMLInputElement | HTMLSelectElement, on: boolean): void {
  if (on) el.removeAttribute('aria-disabled');
  else el.setAttribute('aria-disabled', 'true');
}

export function isAvailable(el: Element): boolean {
  return el.getAttribute('aria-disabled') !== 'true' && !(el as HTMLButtonElement).disabled;
}
