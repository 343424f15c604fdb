// What a race-lab scenario is, and running one: make the engine (a lab VM and
// real lane workers), play the script, ask the checkers, tear down.
import { KvmError } from '../errors.ts';
import { runCheckers } from './checkers.ts';
import { RaceEngine, type RaceLaneSpawner } from './engine.ts';
import type { RaceRun, RaceScenarioInfo, RaceVerdict } from './types.ts';

export interface RaceScenario {
  info: RaceScenarioInfo;
  /** UNSAFE_* bits (unsafe.ts) of the run with the protection on / off. */
  unsafeBits(unsafe: boolean): number;
  /** RACE_FLAG_* knobs (pause-points.ts) of the run. Default 0. */
  raceFlags?(unsafe: boolean): number;
  /**
   * Whether the unsafe run must end in an OOPS (default true). False for a
   * variant that shows a race is harmless (the ABA on a direct page).
   */
  oopsWhenUnsafe?: boolean;
  /** The steps. It must never decide the verdict: the checkers do. */
  script(e: RaceEngine, unsafe: boolean): Promise<void>;
}

/** A lab VM and lanes for s, with its UNSAFE_* bits and RACE_FLAG_* knobs for this setting. */
export function raceEngineFor(spawn: RaceLaneSpawner, s: RaceScenario, unsafe: boolean): Promise<RaceEngine> {
  return RaceEngine.create(spawn, s.info.lanes, s.unsafeBits(unsafe), s.raceFlags?.(unsafe) ?? 0);
}

/** The checkers over the state now, and whether that is the outcome expected for this setting. */
export function raceVerdict(e: RaceEngine, s: RaceScenario, unsafe: boolean): RaceVerdict {
  const found = runCheckers(e);
  const oopsExpected = unsafe && (s.oopsWhenUnsafe ?? true);
  return { checker: found.checker, violations: found.violations, expected: (found.violations.length > 0) === oopsExpected };
}

/** Run one scenario on fresh lanes; always tears them down. */
export async function runRaceScenario(spawn: RaceLaneSpawner, s: RaceScenario, unsafe: boolean): Promise<RaceRun> {
  const e = await raceEngineFor(spawn, s, unsafe);
  try {
    await s.script(e, unsafe);
    return { scenario: s.info.name, unsafe, steps: e.steps, verdict: raceVerdict(e, s, unsafe) };
  } finally {
    await e.destroy();
  }
}

export function unknownScenario(name: string, known: readonly string[]): KvmError {
  return new KvmError('ENOENT', `race: no scenario named '${name}'; known: ${known.join(', ')}`);
}
