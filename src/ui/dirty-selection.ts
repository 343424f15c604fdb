// The page picked on the dirty-bitmap heat map, shared with other panels
// (the host-memory panel's "use the heat-map page" buttons). UI state only.

type Listener = (gfn: number) => void;

let selected = -1;
const listeners = new Set<Listener>();

/** The gfn last clicked on the heat map, or -1. */
export function selectedGfn(): number {
  return selected;
}

export function selectGfn(gfn: number): void {
  selected = gfn;
  for (const l of listeners) l(gfn);
}

export function onGfnSelected(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
