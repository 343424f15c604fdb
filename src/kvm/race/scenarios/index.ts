// The race lab's scenarios, in the order `webkvm race list` shows them.
import type { RaceScenario } from '../scenario.ts';
import { unknownScenario } from '../scenario.ts';
import type { RaceScenarioInfo } from '../types.ts';
import { abaDirect } from './aba-direct.ts';
import { abaIndirect } from './aba-indirect.ts';
import { abaPinned } from './aba-pinned.ts';
import { dekker } from './dekker.ts';
import { lostDirtyBit } from './lost-dirty-bit.ts';
import { staleTlb } from './stale-tlb.ts';

export const RACE_SCENARIOS: readonly RaceScenario[] = [abaIndirect, abaDirect, abaPinned, lostDirtyBit, staleTlb, dekker];

export function raceScenarioInfos(): RaceScenarioInfo[] {
  return RACE_SCENARIOS.map((s) => ({ ...s.info, lanes: [...s.info.lanes] }));
}

/** The scenario called `name`; ENOENT naming the known ones otherwise. */
export function findRaceScenario(name: string): RaceScenario {
  const s = RACE_SCENARIOS.find((x) => x.info.name === name);
  if (s === undefined) throw unknownScenario(name, RACE_SCENARIOS.map((x) => x.info.name));
  return s;
}
