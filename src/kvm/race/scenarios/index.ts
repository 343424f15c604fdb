// The race lab's scenarios, in the order `webkvm race list` shows them.
import type { RaceScenario } from '../scenario.ts';
import { unknownScenario } from '../scenario.ts';
import type { RaceScenarioInfo } from '../types.ts';
import { abaDirect } from './aba-direct.ts';
import { abaIndirect } from './aba-indirect.ts';
import { abaPinned } from './aba-pinned.ts';
import { dekker } from './dekker.ts';
import { dekkerEntry } from './dekker-entry.ts';
import { fastpfVsGet } from './fastpf-vs-get.ts';
import { fastpfVsZap } from './fastpf-vs-zap.ts';
import { getVsStoreA } from './get-vs-store-a.ts';
import { getVsStoreB } from './get-vs-store-b.ts';
import { getVsStoreC } from './get-vs-store-c.ts';
import { getVsStoreD } from './get-vs-store-d.ts';
import { lostDirtyBit } from './lost-dirty-bit.ts';
import { notifierVsSlowFault } from './notifier-vs-slow-fault.ts';
import { staleTlb } from './stale-tlb.ts';
import { walkVsFree } from './walk-vs-free.ts';

export const RACE_SCENARIOS: readonly RaceScenario[] = [
  abaIndirect, abaDirect, abaPinned, lostDirtyBit, staleTlb,
  getVsStoreA, getVsStoreB, getVsStoreC, getVsStoreD, fastpfVsGet, fastpfVsZap,
  dekker, dekkerEntry, notifierVsSlowFault, walkVsFree,
];

export function raceScenarioInfos(): RaceScenarioInfo[] {
  return RACE_SCENARIOS.map((s) => ({ ...s.info, lanes: [...s.info.lanes] }));
}

/** The scenario called `name`; ENOENT naming the known ones otherwise. */
export function findRaceScenario(name: string): RaceScenario {
  const s = RACE_SCENARIOS.find((x) => x.info.name === name);
  if (s === undefined) throw unknownScenario(name, RACE_SCENARIOS.map((x) => x.info.name));
  return s;
}
