// The UI's copy of the race lab's data model (src/ui/vmm-api.ts) must stay the
// same shape as src/kvm/race/types.ts: the panel renders what the VMM worker
// structured-clones to it, and a renamed or retyped field would show as
// "undefined" instead of failing. The assignments below are checked by tsc
// (`npx tsc --noEmit -p .`) in both directions, so drift fails the type check;
// the runtime test only keeps vitest from reporting an empty file.
import { describe, expect, it } from 'vitest';
import type * as K from '../../src/kvm/race/types.ts';
import type * as S from '../../src/kvm/race/session.ts';
import type { RaceLaneState as KLaneState } from '../../src/kvm/race/engine.ts';
import type * as U from '../../src/ui/vmm-api.ts';

/**
 * True only if A and B are identical types: the generic-function form also
 * tells an optional field apart from a missing one, which mutual
 * assignability alone would let through.
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const same = <T extends true>(): T => true as T;

export const CHECKS = [
  same<Same<U.RaceLane, K.RaceLane>>(),
  same<Same<U.RaceScenarioInfo, K.RaceScenarioInfo>>(),
  same<Same<U.RaceSpte, K.RaceSpte>>(),
  same<Same<U.RaceDirty, K.RaceDirty>>(),
  same<Same<U.RaceTlbEntry, K.RaceTlbEntry>>(),
  same<Same<U.RaceSnapshot, K.RaceSnapshot>>(),
  same<Same<U.RaceStep, K.RaceStep>>(),
  same<Same<U.RaceVerdict, K.RaceVerdict>>(),
  same<Same<U.RaceRun, K.RaceRun>>(),
  // Free play, live (src/kvm/race/session.ts).
  same<Same<U.RaceLaneState, KLaneState>>(),
  same<Same<U.RaceOpSpec, S.RaceOpSpec>>(),
  same<Same<U.RaceAction, S.RaceAction>>(),
  same<Same<U.RaceSessionLane, S.RaceSessionLane>>(),
  same<Same<U.RaceSessionState, S.RaceSessionState>>(),
  same<Same<U.RaceActResult, S.RaceActResult>>(),
];

// The plain form the brief asks for, both ways: a value of one is a value of the other.
const kvmRun: K.RaceRun = {} as U.RaceRun;
const uiRun: U.RaceRun = {} as K.RaceRun;
const kvmInfo: K.RaceScenarioInfo = {} as U.RaceScenarioInfo;
const uiInfo: U.RaceScenarioInfo = {} as K.RaceScenarioInfo;

describe('src/ui/vmm-api.ts mirrors src/kvm/race/types.ts', () => {
  it('is checked by tsc: every mirrored type is the same shape both ways', () => {
    expect(CHECKS.every((c) => c === true)).toBe(true);
    expect([kvmRun, uiRun, kvmInfo, uiInfo]).toHaveLength(4);
  });
});
