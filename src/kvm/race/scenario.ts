// What a race-lab scenario is, and running one: make the engine (a lab VM and
// real lane workers), play the script, ask the checkers, tear down.
import { KvmError } from '../errors.ts';
import { runCheckers } from './checkers.ts';
import { RaceEngine, type RaceLaneSpawner } from './engine.ts';
import type { RaceRun, RaceScenarioInfo } from './types.ts';

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

/** Run one scenario on fresh lanes; always tears them down. */
export async function runRaceScenario(spawn: RaceLaneSpawner, s: RaceScenario, unsafe: boolean): Promise<RaceRun> {
  const e = await RaceEngine.create(spawn, s.info.lanes, s.unsafeBits(unsafe), s.raceFlags?.(unsafe) ?? 0);
  try {
    await s.script(e, unsafe);
    const found = runCheckers(e);
    const oopsExpected = unsafe && (s.oopsWhenUnsafe ?? true);
    const oops = found.violations.length > 0;
    return {
      scenario: s.info.name,
      unsafe,
      steps: e.steps,
      verdict: { checker: found.checker, violations: found.violations, expected: oops === oopsExpected },
    };
  } finally {
    await e.destroy();
  }
}

export function unknownScenario(name: string, known: readonly string[]): KvmError {
  return new KvmError('ENOENT', `race: no scenario named '${name}'; known: ${known.join(', ')}`);
}
