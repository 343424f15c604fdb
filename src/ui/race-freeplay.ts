// Free play in the race lab: the user arms the pause points to stop at, per
// lane, and Step / Play then run on to the next step where a lane parks at an
// armed point (or to the end), instead of one step at a time.
//
// What is and is not live: the run itself is one raceRun call on the real
// workers, recorded step by step; free play chooses where the replay of that
// recording stops. It does not change the interleaving the scenario drives.
import type { RaceLane, RaceRun, RaceStep } from './vmm-api.ts';

/** An armable point: a lane parked at a pause point. */
export interface PausePointChoice {
  lane: RaceLane;
  point: string;
  /** The steps of the run that park there. */
  steps: number[];
}

export const pointKey = (lane: RaceLane, point: string): string => `${lane}@${point}`;

/** Every pause point the run's lanes park at, per lane in lane order, each once, with its steps. */
export function pausePoints(run: RaceRun, lanes: readonly RaceLane[]): PausePointChoice[] {
  const byKey = new Map<string, PausePointChoice>();
  for (const s of run.steps) {
    if (!s.parkedAt) continue;
    const k = pointKey(s.lane, s.parkedAt);
    const c = byKey.get(k);
    if (c) c.steps.push(s.index);
    else byKey.set(k, { lane: s.lane, point: s.parkedAt, steps: [s.index] });
  }
  const order = (l: RaceLane) => {
    const i = lanes.indexOf(l);
    return i < 0 ? lanes.length : i;
  };
  // Stable sort: within a lane, the order the run first reaches each point.
  return [...byKey.values()].sort((a, b) => order(a.lane) - order(b.lane));
}

/** The step stops at an armed point. */
export function stopsAt(step: RaceStep, armed: ReadonlySet<string>): boolean {
  return step.parkedAt !== null && armed.has(pointKey(step.lane, step.parkedAt));
}

/**
 * Where Step goes in free play from `from`: the next step that parks at an
 * armed point, else the last step. With nothing armed it is one step.
 */
export function nextStop(steps: readonly RaceStep[], from: number, armed: ReadonlySet<string>): number {
  const last = steps.length - 1;
  if (armed.size === 0) return Math.min(from + 1, last);
  for (let i = from + 1; i <= last; i++) if (stopsAt(steps[i], armed)) return i;
  return last;
}

/** Where Step back goes: the previous armed stop, else step 0. */
export function previousStop(steps: readonly RaceStep[], from: number, armed: ReadonlySet<string>): number {
  if (armed.size === 0) return Math.max(from - 1, 0);
  for (let i = Math.min(from, steps.length) - 1; i >= 0; i--) if (stopsAt(steps[i], armed)) return i;
  return 0;
}
