// What changed between two steps of a race run, so the panel can point at it:
// an SPTE that gained or lost a flag, a dirty bit that flipped, a TLB entry
// that appeared or was flushed away, a note with a new value. The first step
// is compared with nothing (everything in it is "new").
//
// Items are matched by identity, not position: an SPTE by its label (the
// story's name for it, stable across steps), a dirty page by gfn, a TLB entry
// by vCPU and gva, a note by its key.
import type { RaceDirty, RaceSnapshot, RaceSpte, RaceTlbEntry } from './vmm-api.ts';

export type Change = 'same' | 'new' | 'changed';

export interface SpteDiff {
  spte: RaceSpte;
  change: Change;
  /** Flags set now and not before, and the reverse (empty when new or same). */
  gained: string[];
  lost: string[];
  /** The raw value or the pfn changed. */
  valueChanged: boolean;
}

export interface DirtyDiff {
  dirty: RaceDirty;
  change: Change;
  /** Which of live / collected / hostDirty changed. */
  fields: ('live' | 'collected' | 'hostDirty')[];
}

export interface TlbDiff {
  entry: RaceTlbEntry;
  change: Change;
}

export interface NoteDiff {
  key: string;
  value: string | number;
  change: Change;
  before?: string | number;
}

export interface SnapshotDiff {
  sptes: SpteDiff[];
  /** SPTEs the previous step showed and this one does not. */
  sptesGone: RaceSpte[];
  dirty: DirtyDiff[];
  dirtyGone: RaceDirty[];
  tlb: TlbDiff[];
  /** TLB entries that were there and are gone: flushed or replaced. */
  tlbGone: RaceTlbEntry[];
  notes: NoteDiff[];
  notesGone: string[];
  /** Anything at all differs. */
  any: boolean;
}

export const tlbKey = (e: RaceTlbEntry): string => `${e.vcpu}:${e.gva >>> 0}`;

function diffSpte(s: RaceSpte, before: RaceSpte | undefined): SpteDiff {
  if (!before) return { spte: s, change: 'new', gained: [], lost: [], valueChanged: false };
  const gained = s.flags.filter((f) => !before.flags.includes(f));
  const lost = before.flags.filter((f) => !s.flags.includes(f));
  const valueChanged = (s.value >>> 0) !== (before.value >>> 0) || s.pfn !== before.pfn || s.loc !== before.loc;
  const changed = valueChanged || gained.length > 0 || lost.length > 0;
  return { spte: s, change: changed ? 'changed' : 'same', gained, lost, valueChanged };
}

function diffDirty(d: RaceDirty, before: RaceDirty | undefined): DirtyDiff {
  if (!before) return { dirty: d, change: 'new', fields: [] };
  const fields = (['live', 'collected', 'hostDirty'] as const).filter((f) => d[f] !== before[f]);
  return { dirty: d, change: fields.length ? 'changed' : 'same', fields };
}

function diffTlb(e: RaceTlbEntry, before: RaceTlbEntry | undefined): TlbDiff {
  if (!before) return { entry: e, change: 'new' };
  const same = before.pfn === e.pfn && before.writable === e.writable;
  return { entry: e, change: same ? 'same' : 'changed' };
}

function gone<T>(prev: T[], cur: T[], key: (x: T) => string): T[] {
  const now = new Set(cur.map(key));
  return prev.filter((x) => !now.has(key(x)));
}

const byKey = <T>(xs: T[], key: (x: T) => string) => new Map(xs.map((x) => [key(x), x]));
const spteKey = (s: RaceSpte) => s.label;
const dirtyKey = (d: RaceDirty) => String(d.gfn);

/** Compare a step's snapshot with the previous step's (null for the first step). */
export function diffSnapshots(prev: RaceSnapshot | null, cur: RaceSnapshot): SnapshotDiff {
  const p: RaceSnapshot = prev ?? { sptes: [], dirty: [], tlb: [], notes: {} };
  const ps = byKey(p.sptes, spteKey);
  const pd = byKey(p.dirty, dirtyKey);
  const pt = byKey(p.tlb, tlbKey);
  const sptes = cur.sptes.map((s) => diffSpte(s, ps.get(spteKey(s))));
  const dirty = cur.dirty.map((d) => diffDirty(d, pd.get(dirtyKey(d))));
  const tlb = cur.tlb.map((e) => diffTlb(e, pt.get(tlbKey(e))));
  const notes: NoteDiff[] = Object.entries(cur.notes).map(([key, value]) => {
    if (!Object.hasOwn(p.notes, key)) return { key, value, change: 'new' };
    const before = p.notes[key];
    return before === value ? { key, value, change: 'same' } : { key, value, change: 'changed', before };
  });
  const d: SnapshotDiff = {
    sptes, sptesGone: gone(p.sptes, cur.sptes, spteKey),
    dirty, dirtyGone: gone(p.dirty, cur.dirty, dirtyKey),
    tlb, tlbGone: gone(p.tlb, cur.tlb, tlbKey),
    notes, notesGone: Object.keys(p.notes).filter((k) => !Object.hasOwn(cur.notes, k)),
    any: false,
  };
  d.any = [d.sptes, d.dirty, d.tlb, d.notes].some((xs) => xs.some((x) => x.change !== 'same')) ||
    d.sptesGone.length + d.dirtyGone.length + d.tlbGone.length + d.notesGone.length > 0;
  return d;
}
