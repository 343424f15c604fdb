// The race lab's words: how a lane, an SPTE, a dirty bit, a TLB entry, a
// change and the verdict read on screen. Pure text (no DOM), so what the panel
// shows is unit-tested; the panel only places these strings with textContent.
import { hex32 } from './dom.ts';
import type { Change, SnapshotDiff, SpteDiff } from './race-diff.ts';
import type { RaceDirty, RaceLane, RaceRun, RaceScenarioInfo, RaceSpte, RaceStep, RaceTlbEntry } from './vmm-api.ts';

const LANE_NAMES: Record<RaceLane, string> = {
  vcpu0: 'vCPU 0',
  vcpu1: 'vCPU 1',
  host: 'host / VMM',
  guest: 'guest',
};

export function laneName(lane: RaceLane): string {
  return LANE_NAMES[lane] ?? String(lane);
}

/** The columns of the lane view: the scenario's lanes in its order, plus any lane a step uses that it forgot. */
export function runLanes(info: RaceScenarioInfo | null, run: RaceRun): RaceLane[] {
  const lanes: RaceLane[] = [...(info?.lanes ?? [])];
  for (const s of run.steps) if (!lanes.includes(s.lane)) lanes.push(s.lane);
  return lanes;
}

export const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;
const pfnText = (pfn: number): string => (pfn < 0 ? 'no pfn' : `pfn ${hex(pfn)}`);

/**
 * The two writable bits locking.txt is about, always spelled out (set or
 * clear), since their absence is the point of several races.
 */
export const WRITEABLE_FLAGS = ['HOST_WRITEABLE', 'MMU_WRITEABLE'] as const;

/** The flags as the kernel names them; the two writeable bits say "clear" when absent. */
export function spteFlagWords(s: RaceSpte): string[] {
  const words = s.flags.filter((f) => !(WRITEABLE_FLAGS as readonly string[]).includes(f));
  for (const w of WRITEABLE_FLAGS) words.push(s.flags.includes(w) ? w : `${w} clear`);
  return words;
}

export function spteText(s: RaceSpte): string {
  if (s.loc < 0) return `${s.label}: does not exist`;
  if ((s.value >>> 0) === 0) return `${s.label}: 0x00000000 (not present)`;
  return `${s.label}: ${hex32(s.value)} → ${pfnText(s.pfn)}`;
}

const yesNo = (b: boolean) => (b ? 'set' : 'clear');

export function dirtyText(d: RaceDirty): string {
  const host = d.hostDirty === null ? 'n/a' : yesNo(d.hostDirty);
  return `gfn ${hex(d.gfn)}: live bit ${yesNo(d.live)}, collected ${d.collected ? 'yes' : 'no'}, host dirty ${host}`;
}

export function tlbText(e: RaceTlbEntry): string {
  return `vCPU ${e.vcpu}: gva ${hex(e.gva)} → ${pfnText(e.pfn)}, ${e.writable ? 'writable' : 'read-only'}`;
}

export function noteText(key: string, value: string | number): string {
  return `${key} = ${typeof value === 'number' ? String(value) : value}`;
}

/** The words that go with a change marker: colour is never the only sign. */
export function changeWord(c: Change): string {
  return c === 'new' ? 'new' : c === 'changed' ? 'changed' : '';
}

/** What changed in an SPTE, in one phrase ("+W +D, value changed"), or ''. */
export function spteChangeText(d: SpteDiff): string {
  if (d.change !== 'changed') return changeWord(d.change);
  const parts = [...d.gained.map((f) => `+${f}`), ...d.lost.map((f) => `−${f}`)];
  if (d.valueChanged && parts.length === 0) parts.push('value changed');
  return `changed: ${parts.join(' ')}`;
}

/** One line summing up a step's changes, for the step's heading and screen readers. */
export function diffSummary(d: SnapshotDiff, first: boolean): string {
  if (first) return 'the starting state';
  if (!d.any) return 'nothing in the snapshot changed';
  const n = (xs: { change: Change }[]) => xs.filter((x) => x.change !== 'same').length;
  const parts: string[] = [];
  const sp = n(d.sptes) + d.sptesGone.length;
  const di = n(d.dirty) + d.dirtyGone.length;
  const tl = n(d.tlb) + d.tlbGone.length;
  const no = n(d.notes) + d.notesGone.length;
  if (sp) parts.push(`${sp} SPTE${sp > 1 ? 's' : ''}`);
  if (di) parts.push(`${di} dirty bit${di > 1 ? 's' : ''}`);
  if (tl) parts.push(`${tl} TLB entr${tl > 1 ? 'ies' : 'y'}`);
  if (no) parts.push(`${no} note${no > 1 ? 's' : ''}`);
  return `changed: ${parts.join(', ')}`;
}

export function stepHeading(s: RaceStep, last: number): string {
  return `Step ${s.index} of ${last} · ${laneName(s.lane)}`;
}

export function parkedText(s: RaceStep): string {
  return s.parkedAt ? `parked at ${s.parkedAt}` : 'not parked';
}

export interface VerdictView {
  /** 'oops' when the checker found violations, else 'clean'. */
  outcome: 'oops' | 'clean';
  headline: string;
  /** Whether that is what this setting should give, in words. */
  expectation: string;
  expected: boolean;
}

export function verdictView(run: RaceRun): VerdictView {
  const v = run.verdict;
  const oops = v.violations.length > 0;
  const setting = run.unsafe ? 'with the protection off' : 'with the protection on';
  // Not always "off means OOPS": some variants show a race is harmless (the ABA on a direct page).
  const should = v.expected === oops ? 'an OOPS' : 'a clean end';
  return {
    outcome: oops ? 'oops' : 'clean',
    headline: oops
      ? `OOPS: the ${v.checker} checker found ${v.violations.length} violation${v.violations.length > 1 ? 's' : ''}.`
      : `Clean: the ${v.checker} checker found nothing wrong.`,
    expectation: v.expected
      ? `This is the expected outcome ${setting}.`
      : `NOT the expected outcome ${setting}: the scenario predicts ${should}.`,
    expected: v.expected,
  };
}
