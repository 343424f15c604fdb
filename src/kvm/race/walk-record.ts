// The race lab's record of a lockless walk (semantics §2.8, F7; scenario
// walk-vs-free). A vCPU lane's fast page fault notes which leaf shadow page
// its walk went into, and that page's gfn and role, when it takes the pointer
// (raceWalkBegin); when the walk ends (raceWalkEnd) it looks at the page
// again. If the page was freed, or freed and reused for another gfn or role,
// while the walk was still reading it, the lane counts a bad walk and keeps
// the facts. The checker (checkers.ts, "lockless walk") reads them: the
// verdict comes from what the walker saw, never from the script.
//
// A page that was zapped (unlinked, ROLE_INVALID) but not yet freed is fine:
// that is exactly what the flush-before-free rule allows a walker to see.
// Only race-lab VMs call this (behind `vm.race[RACE_ARMED] !== 0`), and only
// lane threads record anything.
import { ROLE_INVALID, SP_FLAG_IN_USE, SP_FLAGS, SP_GFN, SP_META_WORDS, SP_ROLE } from '../fields.ts';
import type { VmShared } from '../shm.ts';
import {
  LANE_WALK_BAD, LANE_WALK_BAD_GFN, LANE_WALK_BAD_NOW, LANE_WALK_BAD_SP, LANE_WALK_GFN, LANE_WALK_ROLE, LANE_WALK_SP,
  RP_FAST_PF_WALKING, laneBase, raceLaneIndex, racePoint,
} from './pause-points.ts';

/** The walk holds leaf shadow page `sp` and reads the SPTE at `loc` next: record it, then the pause point. */
export function raceWalkBegin(vm: VmShared, sp: number, loc: number): void {
  const lane = raceLaneIndex();
  if (lane >= 0) {
    const b = laneBase(lane);
    const m = sp * SP_META_WORDS;
    Atomics.store(vm.race, b + LANE_WALK_GFN, vm.spMeta[m + SP_GFN]!);
    Atomics.store(vm.race, b + LANE_WALK_ROLE, vm.spMeta[m + SP_ROLE]!);
    Atomics.store(vm.race, b + LANE_WALK_SP, sp + 1);
  }
  racePoint(vm, RP_FAST_PF_WALKING, loc);
}

/** The walk ends: was its page freed or reused meanwhile? */
export function raceWalkEnd(vm: VmShared): void {
  const lane = raceLaneIndex();
  if (lane < 0) return;
  const r = vm.race;
  const b = laneBase(lane);
  const sp1 = Atomics.exchange(r, b + LANE_WALK_SP, 0);
  if (sp1 === 0) return; // the walk never reached a leaf page
  const sp = sp1 - 1;
  const gfn = Atomics.load(r, b + LANE_WALK_GFN);
  const now = pageNow(vm, sp);
  if (now.free || now.gfn !== gfn || (now.role | ROLE_INVALID) !== (Atomics.load(r, b + LANE_WALK_ROLE) | ROLE_INVALID)) {
    Atomics.store(r, b + LANE_WALK_BAD_SP, sp);
    Atomics.store(r, b + LANE_WALK_BAD_GFN, gfn);
    Atomics.store(r, b + LANE_WALK_BAD_NOW, now.free ? -1 : now.gfn);
    Atomics.add(r, b + LANE_WALK_BAD, 1);
  }
}

function pageNow(vm: VmShared, sp: number): { free: boolean; gfn: number; role: number } {
  const m = sp * SP_META_WORDS;
  return { free: (vm.spMeta[m + SP_FLAGS]! & SP_FLAG_IN_USE) === 0, gfn: vm.spMeta[m + SP_GFN]!, role: vm.spMeta[m + SP_ROLE]! };
}

/** A walk that saw its shadow page freed or reused, as recorded by lane `lane`. */
export interface RaceBadWalk {
  lane: number;
  /** How many walks of this lane did. */
  count: number;
  sp: number;
  /** The page's gfn when the walk entered it. */
  gfn: number;
  /** Its gfn when the walk ended, or -1: free. */
  now: number;
}

export function raceBadWalk(vm: VmShared, lane: number): RaceBadWalk | null {
  const b = laneBase(lane);
  const count = Atomics.load(vm.race, b + LANE_WALK_BAD);
  if (count === 0) return null;
  return {
    lane, count, sp: Atomics.load(vm.race, b + LANE_WALK_BAD_SP), gfn: Atomics.load(vm.race, b + LANE_WALK_BAD_GFN),
    now: Atomics.load(vm.race, b + LANE_WALK_BAD_NOW),
  };
}

/** For a step's notes: the walk lane `lane` is in now and its page's state, or null when it is not walking. */
export function describeRaceWalk(vm: VmShared, lane: number): string | null {
  const b = laneBase(lane);
  const sp1 = Atomics.load(vm.race, b + LANE_WALK_SP);
  if (sp1 === 0) return null;
  const sp = sp1 - 1;
  const gfn = Atomics.load(vm.race, b + LANE_WALK_GFN);
  const now = pageNow(vm, sp);
  const state = now.free ? 'FREED under the walk'
    : now.gfn !== gfn ? `REUSED for gfn 0x${(now.gfn >>> 0).toString(16)}`
    : (now.role & ROLE_INVALID) !== 0 ? 'zapped (unlinked), not freed yet' : 'in use';
  return `in shadow page ${sp} (gfn 0x${(gfn >>> 0).toString(16)}): ${state}`;
}
