// The race lab's scenario engine: the controller of a run.
//
// A run makes a small VM of its own (dirty logging on in slot 0, RACE_ARMED
// set so the pause points are live), starts one REAL worker per lane (a vCPU
// lane per vCPU, one host lane: lane.ts) and then plays the scenario's script:
// each step posts one command to one lane, or releases a parked lane, and
// waits until that lane is parked at the expected pause point, has finished,
// or (for a requester waiting on a flush ack) is blocked, and until any vCPU
// lane kicked meanwhile has taken the kick. Only then does the next step
// start, so a run is deterministic. After every step it records a
// RaceStep with a snapshot read from shared memory: the SPTEs involved with
// their flags by kernel name, dirty bits (live, collected, the host page's
// dirty flag), the vCPUs' TLB entries, modes, requests and the notifier
// sequence. The verdict comes from the checkers (checkers.ts) over the final
// state and the record of what was written and collected, never from the script.
//
// No node:* imports: the browser runs this in the VMM worker with Web Worker
// lanes; the CLI and tests with worker_threads. The spawner is injected.
import { KvmError } from '../errors.ts';
import {
  EXITING_GUEST_MODE, KVCPU_MODE, KVCPU_NONPAGING_ROOT, KVCPU_REQUESTS, KVCPU_ROOT, KVCPU_WORDS, KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MMU_NOTIFIER_COUNT, KVM_MMU_NOTIFIER_SEQ, MEMSLOT_BASE_GFN, MEMSLOT_DIRTY_BASE, MEMSLOT_NPAGES,
  MEMSLOT_TABLE_BASE, MODE_NAMES, PFN_DIRTY, SP_NIL, HOST_PTE_PRESENT, HOST_PTE_SWAPPED,
} from '../fields.ts';
import { Kvm } from '../kvm-host.ts';
import { gfnToPfn, gfnToResidentPfn, gfnToTableIndex } from '../memslot.ts';
import { kvmReleasePfnClean } from '../hostmem.ts';
import { kvmSetUserMemoryRegion } from '../set-memory-region.ts';
import { createVm, PAGE_WORDS, type VmShared } from '../shm.ts';
import {
  SPTE_ACCESSED, SPTE_DIRTY, SPTE_EXEC, SPTE_HOST_WRITEABLE, SPTE_MMIO, SPTE_MMU_WRITEABLE, SPTE_PRESENT, SPTE_READ,
  SPTE_USER, SPTE_WRITABLE, isShadowPresentPte, spteToPfn,
} from '../spte.ts';
import { kvmSetUnsafe } from '../unsafe.ts';
import {
  OP_CONTEXT, OP_ENTER, OP_GET_LOG, OP_KSM_MERGE, OP_LOAD, OP_MIGRATE, OP_NAMES, OP_QUIT, OP_STORE, OP_SWAP_OUT, OP_ZAP,
  OP_ZAP_SP, readLaneMessage, type RaceLaneInit,
} from './lane.ts';
import {
  LANE_ARGS, LANE_ARM_ARG, LANE_ARM_MASK, LANE_BUSY, LANE_CMD_SEQ, LANE_DONE, LANE_DONE_SEQ, LANE_ERROR, LANE_IDLE, LANE_KICK,
  LANE_OP, LANE_PARKED,
  LANE_PARKED_AT, LANE_PARK_SEQ, LANE_RELEASE, LANE_RESULT, LANE_STATE, LANE_TLB_READ, LANE_TLB_WRITE, LANE_WATCH, LANE_WATCH_N,
  RACE_ARMED, RACE_BELL, RACE_COLLECT, RACE_FLAGS, laneBase, pausePointByName, pausePointName,
} from './pause-points.ts';
import { describeRaceWalk } from './walk-record.ts';
import type { RaceDirty, RaceLane, RaceSnapshot, RaceSpte, RaceStep, RaceTlbEntry } from './types.ts';

/** Starts one lane thread (Node worker_threads or a Web Worker). */
export type RaceLaneSpawner = (init: RaceLaneInit, onError: (message: string) => void) => RaceLaneThread;
export interface RaceLaneThread {
  terminate(): Promise<void>;
}

export const RACE_RAM = 0x8000_0000;
export const RACE_RAM_GFN = RACE_RAM / 4096;
/** The lab VM: 2 MiB of guest RAM (512 pages: the collection area holds 2048). */
export const RACE_RAM_BYTES = 2 << 20;
const LANE_INDEX: Record<RaceLane, number> = { vcpu0: 0, vcpu1: 1, host: 2, guest: 3 };
const VCPU_OF: Record<RaceLane, number> = { vcpu0: 0, vcpu1: 1, host: -1, guest: -1 };

/** How long a step may take before the engine reports the lane stuck (ms). */
export const STEP_TIMEOUT_MS = 8000;
/** How long a lane expected to block must stay busy to count as blocked (ms). */
const BLOCKED_SETTLE_MS = 120;
const START_TIMEOUT_MS = 60_000;

/**
 * What a step waits for. 'any' (free play, session.ts): whatever happens first,
 * a park at any armed point, the end of the command, or the lane still busy
 * after `anySettleMs` (reported as 'blocked'). 'park-or-done': the same
 * without the settle: wait up to the step timeout.
 */
export type Expect = { park: string } | 'done' | 'blocked' | 'any' | 'park-or-done';

/**
 * Thrown by the engine in setup-only mode (`setupOnly`) when a script reaches
 * its first recorded step: everything before it (guest memory, watches, the
 * vCPUs' context) is the scenario's setup, which a free-play session reuses.
 */
export class RaceSetupDone extends Error {
  constructor() {
    super('race lab: the scenario setup is done');
    this.name = 'RaceSetupDone';
  }
}

/** A lane's state as the controller sees it (free play). */
export type RaceLaneState = 'idle' | 'busy' | 'parked' | 'failed';

/** A guest write, as the checkers see it. */
export interface RaceWrite {
  step: number;
  lane: RaceLane;
  va: number;
  /** Host pfn the store landed in. */
  pfn: number;
  /** The gfn that pfn backed at the time (-1 if none). */
  gfn: number;
  /** Through an existing TLB entry, without a walk. */
  tlbHit: boolean;
  /** The SPTE the store's page is mapped by had W set at the time (false: a stale TLB entry, if tlbHit). */
  spteWritable: boolean;
  /** The SPTE had D set right after the store (the "hardware" recorded the write). */
  spteDirty: boolean;
}

/** A GET_DIRTY_LOG result. */
export interface RaceCollection {
  step: number;
  gfns: Set<number>;
}

/** An SPTE a scenario watches: the leaf a vCPU's walk would use for `va`. */
export interface SpteWatch {
  label: string;
  vcpu: number;
  va: number;
  /** Guest-physical (the nonpaging root) rather than through satp. */
  nonpaging: boolean;
}

export interface StepText {
  narrative: string;
  quote?: string | null;
}

export class RaceEngine {
  readonly steps: RaceStep[] = [];
  readonly writes: RaceWrite[] = [];
  readonly collections: RaceCollection[] = [];
  private readonly sptes: SpteWatch[] = [];
  private readonly gfns: number[] = [];
  private readonly tlbWatch = new Map<RaceLane, number[]>();
  private readonly threads = new Map<RaceLane, RaceLaneThread>();
  private readonly seqs = new Map<RaceLane, number>();
  /** The command each lane is executing (parked or blocked inside it), for afterCommand. */
  private readonly pending = new Map<RaceLane, { op: number; args: readonly number[]; spteW: boolean }>();
  private readonly laneErrors: string[] = [];
  private readonly race: Int32Array;
  /** How long one step may take before the lane is reported stuck (ms). */
  stepTimeoutMs = STEP_TIMEOUT_MS;
  /** Expect 'any': how long a lane may stay busy before the step reports it blocked (ms). */
  anySettleMs = 1500;
  /** Stop the script at its first recorded step (RaceSetupDone): free play reuses the setup. */
  setupOnly = false;
  private silentDepth = 0;
  /** The controller's own struct kvm (setup only; it never races). */
  readonly kvm: Kvm;

  private constructor(readonly vm: VmShared, readonly lanes: readonly RaceLane[]) {
    this.race = vm.race;
    this.kvm = new Kvm(vm);
  }

  /**
   * A lab VM with dirty logging on in slot 0 and one started worker per lane.
   * `unsafe`: UNSAFE_* bits (unsafe.ts); `flags`: RACE_FLAG_* knobs.
   */
  static async create(spawn: RaceLaneSpawner, lanes: readonly RaceLane[], unsafe: number, flags = 0): Promise<RaceEngine> {
    const vm = createVm({ memBytes: RACE_RAM_BYTES, vcpus: 2 });
    const e = new RaceEngine(vm, lanes);
    kvmSetUserMemoryRegion(e.kvm, { slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RACE_RAM, memorySize: RACE_RAM_BYTES });
    kvmSetUnsafe(vm, unsafe);
    Atomics.store(vm.race, RACE_FLAGS, flags);
    Atomics.store(vm.race, RACE_ARMED, 1);
    for (const l of lanes) {
      const b = laneBase(LANE_INDEX[l]);
      for (let i = 0; i < LANE_WATCH_N; i++) Atomics.store(vm.race, b + LANE_WATCH + i, -1);
      Atomics.store(vm.race, b + LANE_STATE, -1);
    }
    try {
      for (const l of lanes) {
        const init: RaceLaneInit = { hv: vm.hv, ram: vm.ram, lane: LANE_INDEX[l], vcpu: VCPU_OF[l] };
        e.threads.set(l, spawn(init, (m) => e.laneErrors.push(`${l}: ${m}`)));
        e.seqs.set(l, 0);
      }
      await e.waitUntil(() => lanes.every((l) => Atomics.load(vm.race, laneBase(LANE_INDEX[l]) + LANE_STATE) >= 0), START_TIMEOUT_MS,
        () => 'the race lab lanes did not start');
    } catch (err) {
      await e.destroy();
      throw err;
    }
    return e;
  }

  // ── setup (the controller writes guest memory as a loader would) ─────────

  /** Write a word of guest physical memory behind the MMU's back (setup only). */
  writePhys(gpa: number, value: number): void {
    const pfn = gfnToPfn(this.vm, Math.floor(gpa / 4096));
    Atomics.store(this.vm.ramI32, pfn * PAGE_WORDS + ((gpa & 0xfff) >>> 2), value);
    kvmReleasePfnClean(this.vm, pfn);
  }

  /** Map va -> pa (4 KiB, flags = Sv32 PTE bits) in the guest tables at rootPa / l1Pa. */
  mapGuest4k(rootPa: number, l1Pa: number, va: number, pa: number, flags: number): void {
    this.writePhys(rootPa + (va >>> 22) * 4, (((l1Pa >>> 12) << 10) | 1) | 0);
    this.writePhys(l1Pa + ((va >>> 12) & 0x3ff) * 4, (((pa >>> 12) << 10) | flags) | 0);
  }

  watchSpte(w: SpteWatch): void {
    this.sptes.push(w);
  }
  watchGfn(...gfns: number[]): void {
    for (const g of gfns) if (!this.gfns.includes(g)) this.gfns.push(g);
  }
  watchTlb(lane: RaceLane, ...vas: number[]): void {
    const list = this.tlbWatch.get(lane) ?? [];
    const b = laneBase(LANE_INDEX[lane]);
    for (const va of vas) {
      if (list.includes(va >>> 0)) continue;
      if (list.length >= LANE_WATCH_N) throw new KvmError('EINVAL', `race lab: at most ${LANE_WATCH_N} watched addresses per lane`);
      Atomics.store(this.race, b + LANE_WATCH + list.length, va | 0);
      list.push(va >>> 0);
    }
    this.tlbWatch.set(lane, list);
  }

  // ── steps ─────────────────────────────────────────────────────────────────

  /**
   * Post command `op` to `lane` (optionally arming pause points first) and
   * wait for `expect`; record the step. Returns the lane's result words.
   */
  async command(lane: RaceLane, op: number, args: readonly number[], expect: Expect, text: StepText,
    arm?: { points: string[]; arg?: number }): Promise<Int32Array> {
    this.need(lane);
    this.endOfSetup();
    const r = this.race;
    const b = laneBase(LANE_INDEX[lane]);
    if (Atomics.load(r, b + LANE_STATE) === LANE_PARKED) {
      throw new KvmError('EINVAL', `race lab: lane ${lane} is parked at ${pausePointName(Atomics.load(r, b + LANE_PARKED_AT))}; release it first`);
    }
    this.arm(lane, arm ?? (typeof expect === 'object' ? { points: [expect.park] } : undefined));
    for (let i = 0; i < 6; i++) Atomics.store(r, b + LANE_ARGS + i, args[i] ?? 0);
    Atomics.store(r, b + LANE_OP, op);
    const seq = (this.seqs.get(lane) ?? 0) + 1;
    this.seqs.set(lane, seq);
    const before = this.writeContext(lane, op, args);
    Atomics.store(r, b + LANE_CMD_SEQ, seq);
    Atomics.notify(r, b + LANE_CMD_SEQ);
    this.pending.set(lane, { op, args, spteW: before });
    const outcome = await this.awaitLane(lane, expect, `${OP_NAMES[op] ?? op}${fmtArgs(op, args)}`);
    const res = this.finish(lane, outcome);
    this.record(lane, `${OP_NAMES[op] ?? op}${fmtArgs(op, args)}${describeOutcome(op, res, outcome)}`, text);
    return res;
  }

  /** The lane's result words; when its command ended, what it wrote or collected is recorded. */
  private finish(lane: RaceLane, outcome: string): Int32Array {
    const b = laneBase(LANE_INDEX[lane]);
    const res = new Int32Array(4);
    for (let i = 0; i < 4; i++) res[i] = Atomics.load(this.race, b + LANE_RESULT + i);
    const p = this.pending.get(lane);
    if (outcome === 'done' && p !== undefined) {
      this.pending.delete(lane);
      this.afterCommand(lane, p.op, p.args, res, outcome, p.spteW);
    }
    return res;
  }

  /** Wait for a blocked lane to finish its command (another lane unblocked it); record the step. */
  async join(lane: RaceLane, text: StepText, expect: 'done' | 'park-or-done' = 'done'): Promise<void> {
    this.need(lane);
    this.endOfSetup();
    const p = this.pending.get(lane);
    const what = p ? `${OP_NAMES[p.op] ?? p.op}${fmtArgs(p.op, p.args)}` : 'its command';
    const outcome = await this.awaitLane(lane, expect, what);
    const res = this.finish(lane, outcome);
    const how = outcome === 'done' ? ` finished${p ? describeOutcome(p.op, res, outcome) : ''}`
      : outcome === 'blocked' ? ': still blocked' : `: parked at ${outcome}`;
    this.record(lane, `${what}${how}`, text);
  }

  /** Release a parked lane and wait for `expect` (it may park again if armed). */
  async release(lane: RaceLane, expect: Expect, text: StepText, arm?: { points: string[]; arg?: number }): Promise<void> {
    this.need(lane);
    this.endOfSetup();
    const r = this.race;
    const b = laneBase(LANE_INDEX[lane]);
    const at = Atomics.load(r, b + LANE_PARKED_AT);
    if (Atomics.load(r, b + LANE_STATE) !== LANE_PARKED) throw new KvmError('EINVAL', `race lab: lane ${lane} is not parked`);
    this.arm(lane, arm ?? (typeof expect === 'object' ? { points: [expect.park] } : undefined));
    const parkSeq = Atomics.load(r, b + LANE_PARK_SEQ);
    Atomics.add(r, b + LANE_RELEASE, 1);
    Atomics.notify(r, b + LANE_RELEASE);
    const p = this.pending.get(lane);
    const outcome = await this.awaitLane(lane, expect, `release from ${pausePointName(at)}`, parkSeq);
    const res = this.finish(lane, outcome);
    const what = p ? `${OP_NAMES[p.op] ?? p.op}${fmtArgs(p.op, p.args)}` : 'the command';
    const how = outcome === 'done' ? `: ${what} finished${p ? describeOutcome(p.op, res, outcome) : ''}`
      : outcome === 'blocked' ? ': blocked' : `; parked at ${outcome}`;
    this.record(lane, `released from ${pausePointName(at)}${how}`, text);
  }

  /** Set up a vCPU lane: privilege, satp, and enter guest mode. Not recorded as a step. */
  async setupVcpu(lane: RaceLane, priv: number, satp: number): Promise<void> {
    await this.silent(lane, OP_CONTEXT, [priv, satp]);
    await this.silent(lane, OP_ENTER, []);
  }

  /** A command that is setup, not part of the story: run to completion, no step recorded. */
  async silent(lane: RaceLane, op: number, args: readonly number[]): Promise<void> {
    const n = this.steps.length;
    this.silentDepth++;
    try {
      await this.command(lane, op, args, 'done', { narrative: '' });
    } finally {
      this.silentDepth--;
    }
    this.steps.length = n;
  }

  /** In setup-only mode, a step the story records ends the setup (before anything is posted). */
  private endOfSetup(): void {
    if (this.setupOnly && this.silentDepth === 0) throw new RaceSetupDone();
  }

  /** Has this run a lane `lane`? */
  hasLane(lane: RaceLane): boolean {
    return this.threads.has(lane);
  }

  /** What lane `lane` is doing now, and the pause point it is parked at. */
  laneStatus(lane: RaceLane): { state: RaceLaneState; parkedAt: string | null } {
    const b = laneBase(LANE_INDEX[lane]);
    const st = Atomics.load(this.race, b + LANE_STATE);
    if (st === LANE_PARKED) return { state: 'parked', parkedAt: pausePointName(Atomics.load(this.race, b + LANE_PARKED_AT)) };
    if (this.pending.has(lane) || st === LANE_BUSY) return { state: 'busy', parkedAt: null };
    return { state: st === LANE_ERROR ? 'failed' : 'idle', parkedAt: null };
  }

  private arm(lane: RaceLane, arm: { points: string[]; arg?: number } | undefined): void {
    const b = laneBase(LANE_INDEX[lane]);
    let mask = 0;
    for (const name of arm?.points ?? []) {
      const p = pausePointByName(name);
      if (p === undefined) throw new KvmError('EINVAL', `race lab: no pause point named '${name}'`);
      mask |= 1 << p.id;
    }
    Atomics.store(this.race, b + LANE_ARM_ARG, arm?.arg ?? -1);
    Atomics.store(this.race, b + LANE_ARM_MASK, mask);
  }

  /**
   * Wait for the lane's outcome: a pause point's name, 'done' or 'blocked';
   * then for any vCPU lane kicked meanwhile to finish taking the kick, so the
   * step's snapshot shows its flushed TLB every time, not only when it was quick.
   */
  private async awaitLane(lane: RaceLane, expect: Expect, what: string, oldPark = -1): Promise<string> {
    const outcome = await this.awaitOutcome(lane, expect, what, oldPark);
    await this.waitUntil(() => !this.lanes.some((l) => this.takingKick(l)), this.stepTimeoutMs, () => 'a kicked vCPU lane did not take its kick');
    return outcome;
  }

  /**
   * An idle vCPU lane kicked with a request to take (its idle loop does so
   * within a few ms) that has not yet flushed and republished its TLB. A kick
   * whose request is not published yet ('no-mode-order', requester parked
   * between the two) cannot be taken: not waited for.
   */
  private takingKick(lane: RaceLane): boolean {
    const v = VCPU_OF[lane];
    if (v < 0) return false;
    const b = laneBase(LANE_INDEX[lane]);
    if (Atomics.load(this.race, b + LANE_KICK) !== 0) return true;
    const st = Atomics.load(this.race, b + LANE_STATE);
    if (st !== LANE_IDLE && st !== LANE_DONE && st !== LANE_ERROR) return false;
    const w = v * KVCPU_WORDS;
    return Atomics.load(this.vm.kvmVcpu, w + KVCPU_MODE) === EXITING_GUEST_MODE && Atomics.load(this.vm.kvmVcpu, w + KVCPU_REQUESTS) !== 0;
  }

  private async awaitOutcome(lane: RaceLane, expect: Expect, what: string, oldPark: number): Promise<string> {
    const r = this.race;
    const b = laneBase(LANE_INDEX[lane]);
    const seq = this.seqs.get(lane)!;
    const t0 = now();
    for (;;) {
      const bell = Atomics.load(r, RACE_BELL);
      this.checkLaneErrors();
      let state = Atomics.load(r, b + LANE_STATE);
      // The park being released, until the lane wakes up: still running.
      if (state === LANE_PARKED && Atomics.load(r, b + LANE_PARK_SEQ) === oldPark) state = LANE_BUSY;
      const done = Atomics.load(r, b + LANE_DONE_SEQ) === seq && state !== LANE_PARKED;
      if (state === LANE_PARKED) {
        const at = pausePointName(Atomics.load(r, b + LANE_PARKED_AT));
        if ((typeof expect === 'object' && expect.park === at) || expect === 'any' || expect === 'park-or-done') return at;
        throw new KvmError('EINVAL', `race lab: lane ${lane} parked at ${at} during '${what}', expected ${describeExpect(expect)}`);
      }
      if (done) {
        if (state === LANE_ERROR) {
          this.pending.delete(lane); // the command is over: the lane takes the next one
          throw new KvmError('EFAULT', `race lab: lane ${lane} failed in '${what}': ${readLaneMessage(r, b)}`);
        }
        if (typeof expect === 'object') {
          throw new KvmError('EAGAIN', `race lab: lane ${lane} finished '${what}' without reaching pause point ${expect.park}`);
        }
        return 'done';
      }
      const waited = now() - t0;
      if (expect === 'blocked' && waited >= BLOCKED_SETTLE_MS) return 'blocked';
      if (expect === 'any' && waited >= this.anySettleMs) return 'blocked';
      if (waited >= this.stepTimeoutMs) {
        throw new KvmError('EBUSY', `race lab: lane ${lane} did not ${typeof expect === 'object' ? `reach pause point ${expect.park}` : 'finish'} ` +
          `'${what}' within ${this.stepTimeoutMs} ms (still running: blocked on mmu_lock or a flush ack?)`);
      }
      await waitBell(r, bell, Math.min(50, this.stepTimeoutMs - waited));
    }
  }

  private async waitUntil(cond: () => boolean, ms: number, what: () => string): Promise<void> {
    const t0 = now();
    while (!cond()) {
      this.checkLaneErrors();
      if (now() - t0 > ms) throw new KvmError('EBUSY', `race lab: ${what()} within ${ms} ms`);
      await waitBell(this.race, Atomics.load(this.race, RACE_BELL), 20);
    }
  }

  private checkLaneErrors(): void {
    if (this.laneErrors.length > 0) throw new KvmError('EFAULT', `race lab: a lane thread died: ${this.laneErrors[0]}`);
  }

  private need(lane: RaceLane): void {
    if (!this.threads.has(lane)) throw new KvmError('EINVAL', `race lab: this run has no lane ${lane}`);
  }

  /** Before a store: is the SPTE for va writable now (to tell a stale TLB entry from a good one)? */
  private writeContext(lane: RaceLane, op: number, args: readonly number[]): boolean {
    if (op !== OP_STORE) return false;
    const w = this.spteFor(VCPU_OF[lane], args[0]! >>> 0);
    return w !== null && (w.value & SPTE_WRITABLE) !== 0;
  }

  private afterCommand(lane: RaceLane, op: number, args: readonly number[], res: Int32Array, outcome: string, spteW: boolean): void {
    const step = this.steps.length;
    if (op === OP_STORE && outcome === 'done') {
      const pfn = res[0]! >>> 12;
      const va = args[0]! >>> 0;
      const hit = res[1] === 1;
      const after = this.spteFor(VCPU_OF[lane], va);
      this.writes.push({
        step, lane, va, pfn, gfn: this.gfnOfPfn(pfn), tlbHit: hit,
        spteWritable: hit ? spteW : true,
        spteDirty: after !== null && after.pfn === pfn && (after.value & SPTE_DIRTY) !== 0,
      });
    }
    if (op === OP_GET_LOG && outcome === 'done') this.collections.push({ step, gfns: this.readCollection() });
  }

  private readCollection(): Set<number> {
    const out = new Set<number>();
    const base = Atomics.load(this.vm.memslots, MEMSLOT_BASE_GFN);
    const n = Atomics.load(this.vm.memslots, MEMSLOT_NPAGES);
    for (let rel = 0; rel < n; rel++) {
      if (((Atomics.load(this.race, RACE_COLLECT + (rel >>> 5)) >>> (rel & 31)) & 1) !== 0) out.add(base + rel);
    }
    return out;
  }

  private record(lane: RaceLane, action: string, text: StepText): void {
    const b = laneBase(LANE_INDEX[lane]);
    const parked = Atomics.load(this.race, b + LANE_STATE) === LANE_PARKED ? pausePointName(Atomics.load(this.race, b + LANE_PARKED_AT)) : null;
    this.steps.push({
      index: this.steps.length, lane, action, parkedAt: parked, narrative: text.narrative, quote: text.quote ?? null,
      snapshot: this.snapshot(),
    });
  }

  // ── reading the world ───────────────────────────────────────────────────

  /** The leaf SPTE vCPU `vcpu`'s walk would use for va (through its current root). */
  spteFor(vcpu: number, va: number, nonpaging?: boolean): { loc: number; value: number; pfn: number } | null {
    if (vcpu < 0) return null;
    const w = this.sptes.find((s) => s.vcpu === vcpu && s.va === va);
    const np = nonpaging ?? w?.nonpaging ?? false;
    const root = Atomics.load(this.vm.kvmVcpu, vcpu * KVCPU_WORDS + (np ? KVCPU_NONPAGING_ROOT : KVCPU_ROOT));
    if (root === SP_NIL) return null;
    const l2 = Atomics.load(this.vm.spt, root * PAGE_WORDS + (va >>> 22));
    if (!isShadowPresentPte(l2)) return null;
    const loc = spteToPfn(l2) * PAGE_WORDS + ((va >>> 12) & 0x3ff);
    const value = Atomics.load(this.vm.spt, loc);
    return { loc, value, pfn: isShadowPresentPte(value) ? spteToPfn(value) : -1 };
  }

  /** The host pfn backing gfn now, or -1 (never touched, swapped out). */
  pfnOfGfn(gfn: number): number {
    return gfnToResidentPfn(this.vm, gfn);
  }

  /** The gfn of slot 0 whose host page is pfn now, or -1. */
  gfnOfPfn(pfn: number): number {
    const s = this.vm.memslots;
    const base = Atomics.load(s, MEMSLOT_BASE_GFN);
    const tb = Atomics.load(s, MEMSLOT_TABLE_BASE);
    const n = Atomics.load(s, MEMSLOT_NPAGES);
    for (let rel = 0; rel < n; rel++) {
      const pte = Atomics.load(this.vm.gfnTable, tb + rel);
      if ((pte & HOST_PTE_PRESENT) !== 0 && pte >>> 12 === pfn) return base + rel;
    }
    return -1;
  }

  /** gfn's live bit in slot 0's dirty bitmap. */
  liveBit(gfn: number): boolean {
    const s = this.vm.memslots;
    const rel = gfn - Atomics.load(s, MEMSLOT_BASE_GFN);
    if (rel < 0 || rel >= Atomics.load(s, MEMSLOT_NPAGES)) return false;
    const w = Atomics.load(this.vm.dirtyBitmap, Atomics.load(s, MEMSLOT_DIRTY_BASE) + (rel >>> 5));
    return ((w >>> (rel & 31)) & 1) !== 0;
  }

  hostDirty(pfn: number): boolean {
    return (Atomics.load(this.vm.pfnFlags, pfn) & PFN_DIRTY) !== 0;
  }

  snapshot(): RaceSnapshot {
    const sptes: RaceSpte[] = this.sptes.map((w) => {
      const s = this.spteFor(w.vcpu, w.va, w.nonpaging);
      return { label: w.label, loc: s?.loc ?? -1, value: (s?.value ?? 0) >>> 0, flags: spteFlagNames(s?.value ?? 0), pfn: s?.pfn ?? -1 };
    });
    const collected = new Set<number>();
    for (const c of this.collections) for (const g of c.gfns) collected.add(g);
    const dirty: RaceDirty[] = this.gfns.map((gfn) => {
      const pfn = this.pfnOfGfn(gfn);
      return { gfn, live: this.liveBit(gfn), collected: collected.has(gfn), hostDirty: pfn < 0 ? null : this.hostDirty(pfn) };
    });
    const tlb: RaceTlbEntry[] = [];
    for (const [lane, vas] of this.tlbWatch) {
      const b = laneBase(LANE_INDEX[lane]);
      vas.forEach((gva, i) => {
        const rd = Atomics.load(this.race, b + LANE_TLB_READ + i);
        const wr = Atomics.load(this.race, b + LANE_TLB_WRITE + i);
        if (wr >= 0) tlb.push({ vcpu: VCPU_OF[lane], gva, pfn: wr, writable: true });
        else if (rd >= 0) tlb.push({ vcpu: VCPU_OF[lane], gva, pfn: rd, writable: false });
      });
    }
    return { sptes, dirty, tlb, notes: this.notes() };
  }

  private notes(): Record<string, string | number> {
    const vm = this.vm;
    const n: Record<string, string | number> = {
      mmu_notifier_seq: Atomics.load(vm.kvm, KVM_MMU_NOTIFIER_SEQ),
      mmu_notifier_count: Atomics.load(vm.kvm, KVM_MMU_NOTIFIER_COUNT),
    };
    for (const l of this.lanes) {
      const v = VCPU_OF[l];
      if (v >= 0) {
        n[`vcpu${v}.mode`] = MODE_NAMES[Atomics.load(vm.kvmVcpu, v * KVCPU_WORDS + KVCPU_MODE)] ?? '?';
        n[`vcpu${v}.requests`] = `0x${(Atomics.load(vm.kvmVcpu, v * KVCPU_WORDS + KVCPU_REQUESTS) >>> 0).toString(16)}`;
        const walk = describeRaceWalk(vm, LANE_INDEX[l]); // walk-vs-free: the page a lockless walk is in
        if (walk !== null) n[`vcpu${v}.walk`] = walk;
      }
      const b = laneBase(LANE_INDEX[l]);
      const st = Atomics.load(this.race, b + LANE_STATE);
      n[`${l}.lane`] = st === LANE_PARKED ? `parked at ${pausePointName(Atomics.load(this.race, b + LANE_PARKED_AT))}` : LANE_STATE_NAMES[st] ?? '?';
    }
    for (const g of this.gfns) n[`gfn 0x${g.toString(16)}`] = this.describeGfn(g);
    return n;
  }

  private describeGfn(gfn: number): string {
    const idx = gfnToTableIndex(this.vm, gfn);
    if (idx < 0) return 'no memslot';
    const pte = Atomics.load(this.vm.gfnTable, idx);
    if (pte === 0) return 'never touched';
    if ((pte & HOST_PTE_PRESENT) === 0) return (pte & HOST_PTE_SWAPPED) !== 0 ? 'swapped out' : 'not present';
    return `pfn 0x${(pte >>> 12).toString(16)}`;
  }

  /** Stop every lane (parked ones are released first) and forget the lab VM. */
  async destroy(): Promise<void> {
    const r = this.race;
    Atomics.store(r, RACE_ARMED, 0);
    for (const l of this.threads.keys()) {
      const b = laneBase(LANE_INDEX[l]);
      Atomics.store(r, b + LANE_ARM_MASK, 0);
      Atomics.add(r, b + LANE_RELEASE, 1);
      Atomics.notify(r, b + LANE_RELEASE);
      Atomics.store(r, b + LANE_OP, OP_QUIT);
      Atomics.add(r, b + LANE_CMD_SEQ, 1);
      Atomics.notify(r, b + LANE_CMD_SEQ);
    }
    const all = [...this.threads.values()].map((t) => t.terminate().catch(() => undefined));
    this.threads.clear();
    await Promise.all(all);
  }
}

const LANE_STATE_NAMES: Record<number, string> = { 0: 'idle', 1: 'running', 2: 'parked', 3: 'idle', 4: 'failed' };

/** An SPTE's set bits by their kernel names. */
export function spteFlagNames(spte: number): string[] {
  const out: string[] = [];
  const names: [number, string][] = [
    [SPTE_PRESENT, 'PRESENT'], [SPTE_WRITABLE, 'W'], [SPTE_USER, 'U'], [SPTE_EXEC, 'X'], [SPTE_READ, 'R'],
    [SPTE_ACCESSED, 'A'], [SPTE_DIRTY, 'D'], [SPTE_MMIO, 'MMIO'], [SPTE_HOST_WRITEABLE, 'HOST_WRITEABLE'],
    [SPTE_MMU_WRITEABLE, 'MMU_WRITEABLE'],
  ];
  for (const [bit, name] of names) if ((spte & bit) !== 0) out.push(name);
  return out;
}

function fmtArgs(op: number, args: readonly number[]): string {
  const hex = (v: number | undefined): string => `0x${((v ?? 0) >>> 0).toString(16)}`;
  switch (op) {
    case OP_STORE: return ` ${hex(args[1])} to ${hex(args[0])}`;
    case OP_LOAD: return ` from ${hex(args[0])}`;
    case OP_SWAP_OUT: case OP_MIGRATE: case OP_ZAP: case OP_ZAP_SP: return ` gfn ${hex(args[0])}`;
    case OP_KSM_MERGE: return ` gfns ${hex(args[0])}, ${hex(args[1])}`;
    case OP_GET_LOG: return ' (slot 0)';
    default: return '';
  }
}

function describeOutcome(op: number, res: Int32Array, outcome: string): string {
  if (outcome === 'blocked') return ': blocked';
  if (outcome !== 'done') return `; parked at ${outcome}`;
  if (op === OP_STORE || op === OP_LOAD) return `: ${res[1] === 1 ? 'TLB hit' : 'TLB miss, walked'}, host pfn 0x${(res[0]! >>> 12).toString(16)}`;
  if (op === OP_GET_LOG) return `: ${res[0]} page(s) reported`;
  if (op === OP_SWAP_OUT) return res[0] === 1 ? ': swapped out' : ': not resident';
  if (op === OP_ZAP_SP) return res[0]! >= 0 ? `: shadow page ${res[0]} unlinked, TLBs flushed, page freed` : ': no shadow page maps it';
  return '';
}

function describeExpect(e: Expect): string {
  return typeof e === 'object' ? `pause point ${e.park}` : e;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** Sleep until the bell word moves from `seen` or `ms` pass, without blocking the event loop. */
async function waitBell(race: Int32Array, seen: number, ms: number): Promise<void> {
  const waitAsync = (Atomics as unknown as { waitAsync?: (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: Promise<string> | string } }).waitAsync;
  if (typeof waitAsync === 'function') {
    const w = waitAsync(race, RACE_BELL, seen, Math.max(1, ms));
    if (!w.async) return;
    // A pending waitAsync does not keep Node's event loop alive (the lanes are
    // unref'd workers): a timer of the same length does.
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, Math.max(1, ms) + 5);
      void (w.value as Promise<string>).then(() => {
        clearTimeout(t);
        resolve();
      });
    });
    return;
  }
  await new Promise((resolve) => setTimeout(resolve, Math.min(ms, 2)));
}
