// Pause points: named places in the real KVM code paths where a race-lab lane
// (a worker thread driven by the engine, engine.ts) can be stopped, so the
// races of locking.txt are replayed on the real code one step at a time.
//
// At each point the code does
//     if (vm.race[RACE_ARMED] !== 0) racePoint(vm, RP_..., arg);   // race lab
// One plain load of a shared word and a branch: RACE_ARMED is only ever set
// in a VM the race lab created, so every other VM pays that and nothing more.
// No point sits in the interpreter loop or the TLB check; they are all in KVM
// paths that already did an atomic operation or took a lock.
//
// racePoint() parks the calling thread if, and only if, the thread is a lane
// (raceSetLane) whose arm mask has this point's bit (and, if an argument
// filter is armed, `arg` matches it). Arming is one-shot: the mask is cleared
// when the lane parks. Parked, the lane publishes LANE_PARKED + the point and
// sleeps in Atomics.wait on its release word until the controller bumps it.
//
// Which points are safe to park at (a requester waits for the flush ack of
// every vCPU it sees in guest mode or READING_SHADOW_PAGE_TABLES; a lane
// that sleeps cannot ack):
//   - the fast page fault points run in READING_SHADOW_PAGE_TABLES mode: the
//     lane publishes OUTSIDE_GUEST_MODE while parked and restores the mode
//     after, so a flush from another lane does not wait for it. This drops the
//     walker's protection against a page-table free under it (§2.8): no
//     scenario frees a shadow page while a walker is parked (the ABA only zaps
//     a leaf SPTE), and locking.txt's own race diagrams ignore it too;
//   - 'fast-pf:walking' keeps the walker's mode on purpose: a flush waits for
//     it (that is §2.8's protection of a lockless walk against a page-table
//     free, replayed by walk-vs-free), so the scenario releases the walker
//     next (the engine reports the zapper as blocked meanwhile);
//   - 'enter:before-mode' (only with 'no-entry-order') parks outside guest
//     mode: nothing waits for it;
//   - 'enter:after-mode' keeps IN_GUEST_MODE on purpose (it *is* the race):
//     a requester that sees it waits for its ack, so the scenario releases the
//     vCPU next (the engine reports the requester as blocked meanwhile);
//   - the slow-fault, SPTE, GET_DIRTY_LOG, request and notifier points run
//     outside guest mode already. The SPTE and GET points hold mmu_lock while
//     parked: another lane may then only run lock-free paths (the fast page
//     fault, the hardware A/D walk, a TLB hit) until the holder is released.
import {
  IN_GUEST_MODE, KVCPU_MODE, KVCPU_WORDS, OUTSIDE_GUEST_MODE, RACE_ARMED,
} from '../fields.ts';
import type { VmShared } from '../shm.ts';

export { RACE_ARMED };

// ── the points ──────────────────────────────────────────────────────────────
/** fastPageFault: the SPTE was read (and found fixable); the cmpxchg is next. */
export const RP_FAST_PF_BEFORE_CMPXCHG = 1;
/** fastPageFault: the cmpxchg set W; markPageDirty is next. */
export const RP_FAST_PF_BEFORE_MARK = 2;
/** Slow page fault: gfn_to_pfn returned (pfn pinned); mmu_lock and the install are next. */
export const RP_SLOW_PF_AFTER_PFN = 3;
/** spteReplace (mmuSpteClearTrackBits, mmuSpteUpdate): the old SPTE was read; the store/xchg is next. */
export const RP_SPTE_AFTER_READ = 4;
/** mmuSpteUpdate: the new SPTE is stored; the flush decision (old W, new !W) is next. */
export const RP_SPTE_BEFORE_FLUSH_DECISION = 5;
/** GET_DIRTY_LOG: a bitmap word was exchanged with 0; its write-protection is next. */
export const RP_GET_AFTER_XCHG = 6;
/** GET_DIRTY_LOG: the pages were write-protected; the remote TLB flush is next. */
export const RP_GET_BEFORE_FLUSH = 7;
/** GET_DIRTY_LOG: flushed (or not, with 'no-flush'); the copy-out is next. */
export const RP_GET_AFTER_FLUSH = 8;
/** kvmMakeVcpusRequestMask: first half of the handshake with vCPU `arg` done (request set, or mode read with 'no-mode-order'). */
export const RP_REQUEST_BETWEEN = 9;
/** vcpu_enter_guest: mode = IN_GUEST_MODE stored; the request check is next. */
export const RP_ENTER_AFTER_MODE = 10;
/** MMU notifier: invalidate_range_start done and the host PTE changed; invalidate_range_end is next. */
export const RP_NOTIFIER_BEFORE_END = 11;
/** MMU notifier: invalidate_range_start done (count raised, SPTEs zapped, flushed); the host PTE change and _end are next. */
export const RP_NOTIFIER_AFTER_START = 12;
/** vcpu_enter_guest with 'no-entry-order': the requests were checked (none); mode = IN_GUEST_MODE is next. */
export const RP_ENTER_BEFORE_MODE = 13;
/** fastPageFault: in its lockless walk, holding a leaf shadow page; reading the SPTE is next. Keeps the walker's mode. */
export const RP_FAST_PF_WALKING = 14;

export interface PausePointInfo {
  id: number;
  name: string;
  /** Function and file, for the docs and the UI. */
  where: string;
  /** The lane holds mmu_lock while parked here. */
  holdsMmuLock: boolean;
}

export const PAUSE_POINTS: readonly PausePointInfo[] = [
  { id: RP_FAST_PF_BEFORE_CMPXCHG, name: 'fast-pf:before-cmpxchg', where: 'fastPfFixDirectSpte (fault.ts)', holdsMmuLock: false },
  { id: RP_FAST_PF_BEFORE_MARK, name: 'fast-pf:before-mark', where: 'fastPfFixDirectSpte (fault.ts)', holdsMmuLock: false },
  { id: RP_SLOW_PF_AFTER_PFN, name: 'slow-pf:after-pfn', where: 'nonpagingPageFault / pagingPageFault (fault.ts)', holdsMmuLock: false },
  { id: RP_SPTE_AFTER_READ, name: 'spte:after-read', where: 'spteReplace (spte.ts)', holdsMmuLock: true },
  { id: RP_SPTE_BEFORE_FLUSH_DECISION, name: 'spte:before-flush-decision', where: 'mmuSpteUpdate (spte.ts)', holdsMmuLock: true },
  { id: RP_GET_AFTER_XCHG, name: 'get-log:after-xchg', where: 'kvmGetDirtyLog (dirtylog.ts)', holdsMmuLock: true },
  { id: RP_GET_BEFORE_FLUSH, name: 'get-log:before-flush', where: 'kvmGetDirtyLog (dirtylog.ts)', holdsMmuLock: true },
  { id: RP_GET_AFTER_FLUSH, name: 'get-log:after-flush', where: 'kvmGetDirtyLog (dirtylog.ts)', holdsMmuLock: false },
  { id: RP_REQUEST_BETWEEN, name: 'request:between', where: 'requestThenMode / modeThenRequest (requests.ts)', holdsMmuLock: false },
  { id: RP_ENTER_AFTER_MODE, name: 'enter:after-mode', where: 'KvmVcpuRequests.enter (requests.ts)', holdsMmuLock: false },
  { id: RP_NOTIFIER_BEFORE_END, name: 'notifier:before-end', where: 'underInvalidation (host-ops.ts)', holdsMmuLock: false },
  { id: RP_NOTIFIER_AFTER_START, name: 'notifier:after-start', where: 'kvmMmuNotifierInvalidateRangeStart (mmu-notifier.ts)', holdsMmuLock: false },
  { id: RP_ENTER_BEFORE_MODE, name: 'enter:before-mode', where: "KvmVcpuRequests.enterRequestsFirst (requests.ts, 'no-entry-order' only)", holdsMmuLock: false },
  { id: RP_FAST_PF_WALKING, name: 'fast-pf:walking', where: 'fastPageFault (fault.ts): keeps the walker\'s mode, a flush waits for it', holdsMmuLock: false },
];

export function pausePointName(id: number): string {
  return PAUSE_POINTS.find((p) => p.id === id)?.name ?? `point ${id}`;
}

export function pausePointByName(name: string): PausePointInfo | undefined {
  return PAUSE_POINTS.find((p) => p.name === name);
}

// ── region 'race' layout ────────────────────────────────────────────────────
/** Bumped and notified by a lane at every state change: the controller sleeps on it. */
export const RACE_BELL = 1;
/** Lab-only knobs (RACE_FLAG_*), never set outside the race lab. */
export const RACE_FLAGS = 2;
/**
 * The fast page fault on an indirect page (with 'indirect-fast') first pins
 * the gfn (gfn_to_pfn_atomic), as locking.txt's documented alternative: the
 * pinned pfn cannot be freed and reused while the fault holds it.
 */
export const RACE_FLAG_PIN_INDIRECT = 1 << 0;

export const RACE_LANE_BASE = 16;
export const RACE_LANE_WORDS = 64;
export const RACE_LANES = 4;
/** The last GET_DIRTY_LOG snapshot a host lane made (bit i = page i of slot 0), RACE_COLLECT_WORDS words. */
export const RACE_COLLECT = RACE_LANE_BASE + RACE_LANES * RACE_LANE_WORDS;
export const RACE_COLLECT_WORDS = 64;

// Words of a lane block.
export const LANE_ARM_MASK = 0; // bit p: park at point p (one-shot)
export const LANE_ARM_ARG = 1; // park only when the point's arg equals this; -1: any
export const LANE_STATE = 2; // LANE_* below
export const LANE_PARKED_AT = 3; // the point while parked, else 0
export const LANE_PARKED_ARG = 4;
export const LANE_RELEASE = 5; // the controller bumps it to release a parked lane
export const LANE_CMD_SEQ = 6; // the controller bumps it after writing OP and ARGS
export const LANE_DONE_SEQ = 7; // the lane sets it to CMD_SEQ when the command ended
export const LANE_OP = 8;
export const LANE_ARGS = 9; // 6 words
export const LANE_KICK = 15; // 1 while an idle vCPU lane takes a kick (the IPI) until its TLB is republished
export const LANE_RESULT = 16; // 4 words
export const LANE_WATCH = 20; // up to LANE_WATCH_N guest virtual addresses (-1: none)
export const LANE_WATCH_N = 4;
export const LANE_TLB_READ = 24; // per watched va: host pfn of the hart's read entry, -1 none
export const LANE_TLB_WRITE = 28; // per watched va: host pfn of the hart's write entry, -1 none
export const LANE_PARK_SEQ = 32; // bumped at every park: tells a new park from the one being released
// The lockless walk record (walk-record.ts), written by a vCPU lane's fast page fault:
export const LANE_WALK_SP = 33; // 1 + the leaf shadow page the walk is in, 0 when not walking
export const LANE_WALK_GFN = 34; // that page's SP_GFN when the walk entered it
export const LANE_WALK_ROLE = 35; // and its SP_ROLE
export const LANE_WALK_BAD = 36; // walks whose page was freed or reused before they ended
export const LANE_WALK_BAD_SP = 37; // the last such walk: its shadow page,
export const LANE_WALK_BAD_GFN = 38; // the page's SP_GFN when the walk entered it,
export const LANE_WALK_BAD_NOW = 39; // and its SP_GFN when the walk ended (-1: free)
export const LANE_MSG = 40; // error text, ASCII, LANE_MSG_WORDS * 4 bytes, NUL-padded
export const LANE_MSG_WORDS = 24;

export const LANE_IDLE = 0;
export const LANE_BUSY = 1;
export const LANE_PARKED = 2;
export const LANE_DONE = 3;
export const LANE_ERROR = 4;

export function laneBase(lane: number): number {
  return RACE_LANE_BASE + lane * RACE_LANE_WORDS;
}

export function raceBell(race: Int32Array): void {
  Atomics.add(race, RACE_BELL, 1);
  Atomics.notify(race, RACE_BELL);
}

// ── this thread's lane ──────────────────────────────────────────────────────
let laneIndex = -1;
let laneVcpu = -1;
/** Called just before parking (the lane publishes its TLB entries). */
let beforePark: (() => void) | null = null;

/**
 * Make this thread lane `lane` (0..RACE_LANES-1) of the race lab; `vcpu` is
 * the vCPU it runs, or -1 for the host lane. Only lanes ever park.
 */
export function raceSetLane(lane: number, vcpu: number, publish: (() => void) | null): void {
  laneIndex = lane;
  laneVcpu = vcpu;
  beforePark = publish;
}

/** This thread's lane index, or -1 (not a race-lab lane). */
export function raceLaneIndex(): number {
  return laneIndex;
}

/** Park here if this thread is a lane armed for `point` (see the file comment). */
export function racePoint(vm: VmShared, point: number, arg: number): void {
  if (laneIndex < 0) return;
  const r = vm.race;
  const b = laneBase(laneIndex);
  if ((Atomics.load(r, b + LANE_ARM_MASK) & (1 << point)) === 0) return;
  const want = Atomics.load(r, b + LANE_ARM_ARG);
  if (want !== -1 && want !== arg) return;
  Atomics.store(r, b + LANE_ARM_MASK, 0);
  park(vm, r, b, point, arg);
}

function park(vm: VmShared, r: Int32Array, b: number, point: number, arg: number): void {
  // See the file comment: a parked vCPU must not make a flush requester wait.
  const modeAt = laneVcpu >= 0 ? laneVcpu * KVCPU_WORDS + KVCPU_MODE : -1;
  const saved = modeAt >= 0 ? Atomics.load(vm.kvmVcpu, modeAt) : OUTSIDE_GUEST_MODE;
  const keep = point === RP_ENTER_AFTER_MODE || point === RP_FAST_PF_WALKING;
  const outside = modeAt >= 0 && !keep && saved !== OUTSIDE_GUEST_MODE && saved !== IN_GUEST_MODE;
  if (outside) Atomics.store(vm.kvmVcpu, modeAt, OUTSIDE_GUEST_MODE);
  if (beforePark !== null) beforePark();
  const rel = Atomics.load(r, b + LANE_RELEASE);
  Atomics.store(r, b + LANE_PARKED_ARG, arg);
  Atomics.store(r, b + LANE_PARKED_AT, point);
  Atomics.add(r, b + LANE_PARK_SEQ, 1);
  Atomics.store(r, b + LANE_STATE, LANE_PARKED);
  raceBell(r);
  while (Atomics.load(r, b + LANE_RELEASE) === rel && Atomics.load(r, RACE_ARMED) !== 0) {
    Atomics.wait(r, b + LANE_RELEASE, rel, 1000);
  }
  if (outside) Atomics.store(vm.kvmVcpu, modeAt, saved);
  Atomics.store(r, b + LANE_PARKED_AT, 0);
  Atomics.store(r, b + LANE_STATE, LANE_BUSY);
  raceBell(r);
}
