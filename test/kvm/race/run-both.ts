// Shared by the scenario tests: run a scenario both ways on real worker_threads.
import { expect } from 'vitest';
import { spawnRaceLaneNode } from '../../../workers/race-lane-spawn.ts';
import { runRaceScenario } from '../../../src/kvm/race/scenario.ts';
import { findRaceScenario } from '../../../src/kvm/race/scenarios/index.ts';
import type { RaceRun } from '../../../src/kvm/race/types.ts';

export function runScenario(name: string, unsafe: boolean): Promise<RaceRun> {
  return runRaceScenario(spawnRaceLaneNode, findRaceScenario(name), unsafe);
}

/** Every step is well formed: a snapshot, a narrative, parked only where a pause point is. */
export function expectWellFormed(run: RaceRun): void {
  expect(run.steps.length).toBeGreaterThan(3);
  run.steps.forEach((s, i) => {
    expect(s.index).toBe(i);
    expect(s.narrative.length).toBeGreaterThan(10);
    expect(s.snapshot.sptes.length).toBeGreaterThan(0);
    expect(s.snapshot.dirty.length).toBeGreaterThan(0);
  });
  expect(run.steps.some((s) => s.parkedAt !== null)).toBe(true);
  expect(run.steps.some((s) => s.quote !== null)).toBe(true);
}

/** The checkers found nothing, and that is the outcome expected for the setting. */
export function expectClean(run: RaceRun): void {
  expect(run.verdict.violations).toEqual([]);
  expect(run.verdict.expected).toBe(true);
}
