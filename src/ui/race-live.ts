// Free play, live, in the race lab: the DOM-free part. The panel
// (panels/race-lab.ts) drives a session in the VMM worker (raceSessionStart /
// raceSessionAct / raceSessionVerdict / raceSessionEnd, one call per user
// action, never per frame) and renders the steps it gets back with the same
// lane view a recorded run uses. This file turns form text into actions,
// lane states into words, and the live steps into a RaceRun to draw.
import type { RaceAction, RaceLane, RaceOpSpec, RaceRun, RaceSessionLane, RaceSessionState, RaceStep, RaceVerdict } from './vmm-api.ts';

/** A number as typed in an operation's field: decimal or 0x hex, 32 bits. */
export function parseLiveNumber(text: string): number | null {
  const t = text.trim();
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(t)) return null;
  const v = Number(t);
  return v <= 0xffff_ffff ? v : null;
}

/** The action for `lane` running `op` with the typed arguments, or the first problem in words. */
export function opAction(lane: RaceLane, op: RaceOpSpec, texts: readonly string[]): { action: RaceAction } | { error: string } {
  const args: number[] = [];
  for (let i = 0; i < op.args.length; i++) {
    const v = parseLiveNumber(texts[i] ?? '');
    if (v === null) return { error: `${op.name}: ${op.args[i]} must be a number (decimal or 0x hex, 32 bits), not "${texts[i] ?? ''}".` };
    args.push(v);
  }
  return { action: { kind: 'op', lane, op: op.name, args } };
}

/** The lane's armed points after ticking (`on`) or unticking `point`, in the lane's own order. */
export function toggleArmed(l: RaceSessionLane, point: string, on: boolean): string[] {
  const set = new Set(l.armed);
  if (on) set.add(point);
  else set.delete(point);
  return l.points.filter((p) => set.has(p));
}

/** What a lane is doing, in words. */
export function liveLaneText(l: RaceSessionLane): string {
  switch (l.state) {
    case 'parked': return `parked at ${l.parkedAt ?? '?'}`;
    case 'busy': return 'running: blocked (waiting for mmu_lock or a flush ack?)';
    case 'failed': return 'idle (its last command failed)';
    default: return 'idle';
  }
}

/** Which per-lane buttons make sense now. */
export function liveLaneButtons(l: RaceSessionLane): { issue: boolean; release: boolean; join: boolean } {
  return { issue: l.state === 'idle' || l.state === 'failed', release: l.state === 'parked', join: l.state === 'busy' };
}

/**
 * The live steps as a run the lane view can draw. The verdict is the last one
 * asked for, or an empty placeholder (the panel shows "not asked yet").
 */
export function liveRun(s: RaceSessionState, steps: readonly RaceStep[], verdict: RaceVerdict | null): RaceRun {
  return {
    scenario: s.scenario,
    unsafe: s.unsafe,
    steps: [...steps],
    verdict: verdict ?? { checker: '', violations: [], expected: true },
  };
}
