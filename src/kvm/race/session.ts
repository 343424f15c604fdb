// Free play in the race lab, live: a RaceSession is a scenario's lab VM and
// lanes (engine.ts) after its setup, driven by the user one action at a time
// instead of by the scenario's script. An action arms pause points on a lane,
// posts one operation to a lane (a guest store or load, a host swap-out,
// GET_DIRTY_LOG...), releases a parked lane, or waits for a busy one; each
// records the same RaceStep a scripted run records, so the UI and the CLI
// show it with the same views. The checkers give a verdict at any time.
//
// The setup is the scenario's own: its script runs in the engine's setup-only
// mode, which stops it (RaceSetupDone) at its first recorded step. Guest
// memory, page tables, watches and the vCPUs' context are then as the
// scenario prepared them, and no scenario needs a separate setup function.
//
// Every action is checked before anything is posted: an unknown lane, point
// or operation, releasing a lane that is not parked, or an operation on a
// busy lane is a KvmError that changes nothing. A lane that does not finish
// is reported 'blocked' (it waits for mmu_lock or a flush ack that a parked
// lane holds up); `join` waits for it with a timeout that leaves the session
// usable. A dead lane thread ends the session.
//
// No node:* imports: the VMM worker runs this with Web Worker lanes.
import { KvmError } from '../errors.ts';
import { RACE_RAM, RACE_RAM_BYTES, RaceSetupDone, type RaceEngine, type RaceLaneSpawner, type RaceLaneState } from './engine.ts';
import {
  OP_CONTEXT, OP_ENTER, OP_EXIT, OP_FLUSH, OP_GET_LOG, OP_KSM_MERGE, OP_LOAD, OP_MIGRATE, OP_POLL, OP_STORE, OP_SWAP_OUT,
  OP_ZAP, OP_ZAP_SP,
} from './lane.ts';
import { PAUSE_POINTS } from './pause-points.ts';
import { raceEngineFor, raceVerdict, type RaceScenario } from './scenario.ts';
import type { RaceLane, RaceStep, RaceVerdict } from './types.ts';

// ── the data model (plain, structured-clone safe; src/ui/vmm-api.ts re-exports it) ──

/** One operation a lane can be given, with the names of its arguments (numbers). */
export interface RaceOpSpec {
  name: string;
  args: string[];
  /** What it runs, in one line. */
  help: string;
}

/** What the user does next in free play. `arm` sets the lane's armed points (an empty list disarms). */
export type RaceAction =
  | { kind: 'arm'; lane: RaceLane; points: string[] }
  | { kind: 'op'; lane: RaceLane; op: string; args: number[] }
  | { kind: 'release'; lane: RaceLane }
  | { kind: 'join'; lane: RaceLane };

export interface RaceSessionLane {
  lane: RaceLane;
  /** The pause points this lane's code paths reach, armable here. */
  points: string[];
  ops: RaceOpSpec[];
  state: RaceLaneState;
  parkedAt: string | null;
  /** Armed for every command and release on this lane until changed. */
  armed: string[];
}

export interface RaceSessionState {
  scenario: string;
  unsafe: boolean;
  lanes: RaceSessionLane[];
  /** Steps recorded so far. */
  steps: number;
}

/** What an action produced: its step (none for `arm`) and the session after it. */
export interface RaceActResult {
  step: RaceStep | null;
  session: RaceSessionState;
}

// ── operations and points per lane kind ──

interface OpDef extends RaceOpSpec {
  op: number;
}

const VCPU_OPS: readonly OpDef[] = [
  { name: 'write', op: OP_STORE, args: ['va', 'value'], help: 'one 32-bit guest store (TLB hit, or the walk and the fault paths)' },
  { name: 'read', op: OP_LOAD, args: ['va'], help: 'one 32-bit guest load' },
  { name: 'enter', op: OP_ENTER, args: [], help: 'vcpu_enter_guest: mode IN_GUEST_MODE, then the request check' },
  { name: 'exit', op: OP_EXIT, args: [], help: 'leave guest mode (OUTSIDE_GUEST_MODE); the TLB is kept' },
  { name: 'poll', op: OP_POLL, args: [], help: 'a request check (the IPI arrives)' },
  { name: 'context', op: OP_CONTEXT, args: ['priv', 'satp'], help: 'privilege (3 = M: guest-physical, 1 = S: paging through satp) and satp' },
];

const HOST_OPS: readonly OpDef[] = [
  { name: 'swap-out', op: OP_SWAP_OUT, args: ['gfn'], help: 'swap the page out (MMU notifier, SPTE zapped, pfn freed)' },
  { name: 'ksm-merge', op: OP_KSM_MERGE, args: ['gfn', 'gfn2'], help: 'KSM-merge two identical pages' },
  { name: 'migrate', op: OP_MIGRATE, args: ['gfn'], help: 'move the page to another host pfn' },
  { name: 'zap', op: OP_ZAP, args: ['gfn'], help: 'MMU-notifier invalidate_range_start + _end of the page' },
  { name: 'get-log', op: OP_GET_LOG, args: [], help: 'KVM_GET_DIRTY_LOG of slot 0 (exchange, write-protect, flush)' },
  { name: 'flush', op: OP_FLUSH, args: [], help: 'kvm_flush_remote_tlbs' },
  { name: 'zap-page', op: OP_ZAP_SP, args: ['gfn'], help: 'zap the direct shadow page mapping gfn: unlink, flush (waits for lockless walkers), free' },
];

/** The code paths each kind of lane runs, by pause-point prefix (new points of those paths join by name). */
const VCPU_PREFIXES = ['fast-pf:', 'slow-pf:', 'spte:', 'enter:'];
const HOST_PREFIXES = ['spte:', 'get-log:', 'request:', 'notifier:'];

const isVcpu = (lane: RaceLane): boolean => lane === 'vcpu0' || lane === 'vcpu1';
const opsOf = (lane: RaceLane): readonly OpDef[] => (isVcpu(lane) ? VCPU_OPS : lane === 'host' ? HOST_OPS : []);

/** The pause points lane `lane` can park at. */
export function racePointsOf(lane: RaceLane): string[] {
  const prefixes = isVcpu(lane) ? VCPU_PREFIXES : lane === 'host' ? HOST_PREFIXES : [];
  return PAUSE_POINTS.filter((p) => prefixes.some((x) => p.name.startsWith(x))).map((p) => p.name);
}

function specOf(d: OpDef): RaceOpSpec {
  return { name: d.name, args: [...d.args], help: d.help };
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;
const RACE_RAM_END = RACE_RAM + RACE_RAM_BYTES;

export interface RaceSessionOptions {
  /** How long `join` (and a release or op's park) may wait before EBUSY (ms). */
  stepTimeoutMs?: number;
  /** How long a lane may stay busy before its step is reported 'blocked' (ms). */
  settleMs?: number;
}

export class RaceSession {
  private readonly armed = new Map<RaceLane, string[]>();
  private acting = false;
  private ended = false;

  private constructor(readonly scenario: RaceScenario, readonly unsafe: boolean, private readonly e: RaceEngine) {}

  /** A scenario's lab VM and lanes, set up as its script sets them up, waiting for the user's first action. */
  static async start(spawn: RaceLaneSpawner, s: RaceScenario, unsafe: boolean, opts: RaceSessionOptions = {}): Promise<RaceSession> {
    const e = await raceEngineFor(spawn, s, unsafe);
    try {
      e.setupOnly = true;
      try {
        await s.script(e, unsafe);
      } catch (err) {
        if (!(err instanceof RaceSetupDone)) throw err;
      }
      e.setupOnly = false;
      e.steps.length = 0;
      if (opts.stepTimeoutMs !== undefined) e.stepTimeoutMs = opts.stepTimeoutMs;
      if (opts.settleMs !== undefined) e.anySettleMs = opts.settleMs;
    } catch (err) {
      await e.destroy();
      throw err;
    }
    return new RaceSession(s, unsafe, e);
  }

  get steps(): readonly RaceStep[] {
    return this.e.steps;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  state(): RaceSessionState {
    return {
      scenario: this.scenario.info.name,
      unsafe: this.unsafe,
      steps: this.e.steps.length,
      lanes: this.scenario.info.lanes.map((lane) => {
        const st = this.ended ? { state: 'idle' as const, parkedAt: null } : this.e.laneStatus(lane);
        return {
          lane, points: racePointsOf(lane), ops: opsOf(lane).map(specOf), state: st.state, parkedAt: st.parkedAt,
          armed: [...(this.armed.get(lane) ?? [])],
        };
      }),
    };
  }

  /** Do one action; its step (null for `arm`) and the session after it. */
  async act(a: RaceAction): Promise<RaceActResult> {
    this.usable();
    const lane = this.checkLane(a);
    this.acting = true;
    const n = this.e.steps.length;
    try {
      switch (a.kind) {
        case 'arm':
          this.doArm(lane, a.points);
          break;
        case 'op':
          await this.doOp(lane, a.op, a.args);
          break;
        case 'release':
          await this.doRelease(lane);
          break;
        case 'join':
          await this.doJoin(lane);
          break;
        default:
          throw new KvmError('EINVAL', `race free play: unknown action '${(a as { kind: unknown }).kind}'`);
      }
    } catch (err) {
      if (err instanceof KvmError && /a lane thread died/.test(err.message)) await this.end();
      throw err;
    } finally {
      this.acting = false;
    }
    return { step: this.e.steps.length > n ? this.e.steps[this.e.steps.length - 1]! : null, session: this.state() };
  }

  /** The checkers over the state as it is now (lanes may still be parked or busy). */
  verdict(): RaceVerdict {
    this.usable();
    return raceVerdict(this.e, this.scenario, this.unsafe);
  }

  /** Release every lane and forget the lab VM. Idempotent. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.e.destroy();
  }

  // ── the actions ──

  private doArm(lane: RaceLane, points: readonly string[]): void {
    if (!Array.isArray(points)) throw new KvmError('EINVAL', 'race free play: arm needs a list of pause points');
    const valid = racePointsOf(lane);
    for (const p of points) {
      if (!valid.includes(String(p))) {
        throw new KvmError('EINVAL', `race free play: lane ${lane} has no pause point '${String(p)}'; its points: ${valid.join(', ')}`);
      }
    }
    this.armed.set(lane, [...new Set(points.map(String))]);
  }

  private async doOp(lane: RaceLane, name: string, args: readonly number[]): Promise<void> {
    const def = opsOf(lane).find((d) => d.name === name);
    if (def === undefined) {
      throw new KvmError('EINVAL', `race free play: lane ${lane} has no operation '${String(name)}'; its operations: ${opsOf(lane).map((d) => d.name).join(', ')}`);
    }
    if (!Array.isArray(args) || args.length !== def.args.length || !args.every((x) => Number.isInteger(x) && x >= -0x8000_0000 && x <= 0xffff_ffff)) {
      throw new KvmError('EINVAL', `race free play: ${lane} ${name} takes ${def.args.length === 0 ? 'no arguments' : `${def.args.join(', ')} (32-bit integers)`}`);
    }
    const st = this.e.laneStatus(lane);
    if (st.state === 'parked') throw new KvmError('EBUSY', `race free play: lane ${lane} is parked at ${st.parkedAt}; release it first`);
    if (st.state === 'busy') throw new KvmError('EBUSY', `race free play: lane ${lane} is still running its last command; join or release what blocks it first`);
    this.watchFor(lane, name, args);
    const words = args.map((x) => x | 0);
    await this.e.command(lane, def.op, words, 'any', { narrative: this.narrative(lane, `${name}${args.map((x) => ` ${hex(x)}`).join('')}`) },
      this.armFor(lane));
  }

  private async doRelease(lane: RaceLane): Promise<void> {
    const st = this.e.laneStatus(lane);
    if (st.state !== 'parked') throw new KvmError('EINVAL', `race free play: lane ${lane} is not parked (it is ${st.state}); only a parked lane can be released`);
    await this.e.release(lane, 'any', { narrative: this.narrative(lane, `release from ${st.parkedAt}`) }, this.armFor(lane));
  }

  private async doJoin(lane: RaceLane): Promise<void> {
    const st = this.e.laneStatus(lane);
    if (st.state !== 'busy') throw new KvmError('EINVAL', `race free play: lane ${lane} has no command running (it is ${st.state}); nothing to wait for`);
    await this.e.join(lane, { narrative: this.narrative(lane, 'wait for its command') }, 'park-or-done');
  }

  // ── helpers ──

  private usable(): void {
    if (this.ended) throw new KvmError('ENOENT', 'race free play: this session has ended; start a new one');
    if (this.acting) throw new KvmError('EBUSY', 'race free play: an action is in progress; wait for its step');
  }

  private checkLane(a: RaceAction): RaceLane {
    const lane = (a as { lane?: unknown } | null)?.lane;
    if (typeof lane !== 'string' || !this.e.hasLane(lane as RaceLane)) {
      throw new KvmError('EINVAL', `race free play: no lane '${String(lane)}' in ${this.scenario.info.name}; its lanes: ${this.scenario.info.lanes.join(', ')}`);
    }
    return lane as RaceLane;
  }

  private armFor(lane: RaceLane): { points: string[] } {
    return { points: [...(this.armed.get(lane) ?? [])] };
  }

  private narrative(lane: RaceLane, what: string): string {
    const armed = this.armed.get(lane) ?? [];
    return `Free play: you told ${lane} to ${what}${armed.length > 0 ? `, armed at ${armed.join(', ')}` : ', nothing armed'}.`;
  }

  /** Show what the user touches: the TLB entry of an address, the dirty bits of a gfn. */
  private watchFor(lane: RaceLane, op: string, args: readonly number[]): void {
    if ((op === 'write' || op === 'read') && isVcpu(lane)) {
      const va = args[0]! >>> 0;
      try {
        this.e.watchTlb(lane, va);
      } catch {
        // at most LANE_WATCH_N addresses per lane: the rest go unshown
      }
      if (va >= RACE_RAM && va < RACE_RAM_END) this.e.watchGfn(Math.floor(va / 4096));
    }
    if (lane === 'host' && (op === 'swap-out' || op === 'migrate' || op === 'zap' || op === 'ksm-merge')) {
      this.e.watchGfn(...args.map((g) => g >>> 0));
    }
  }
}
