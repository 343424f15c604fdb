// Typed readers for the kvm_stat counters in `hv`, for the live panels:
// per-vCPU fault counters (region 'kvm-vcpu'), VM-wide flush counters
// ('kvm-stats') and lock statistics ('locks'). Word numbers come from
// shared-layout.ts (checked against src/kvm by a test); this file only loads.
//
// Counters are uint32 that wrap; callers take differences with `(now - before) >>> 0`.
// Nothing here blocks or allocates per call except readLock's result object,
// which callers may pass in to reuse.
import {
  FLUSH_CAUSES, KVCPU_STAT_FAST_PF_FAILED, KVM_OWNER_VMM, KVCPU_STAT_FAST_PF_FIXED, KVCPU_STAT_PF_FIXED, KVCPU_WORDS,
  LOCK_ACQUIRED, LOCK_CONTENDED, LOCK_HOLD_NS_HI, LOCK_HOLD_NS_LO, LOCK_MAX_HOLD_NS, LOCK_MAX_WAIT_NS,
  LOCK_OWNER, LOCK_SLOTS, LOCK_STATE, LOCK_WAIT_NS_HI, LOCK_WAIT_NS_LO, LOCK_WORDS, REGION_KVM_STATS,
  REGION_KVM_VCPU, REGION_LOCKS, STAT_FLUSH_CAUSE,
} from './shared-layout.ts';
import { readU64, type SharedViews } from './shared-views.ts';

export interface LockSnapshot {
  acquired: number;
  contended: number;
  waitNs: number;
  holdNs: number;
  maxWaitNs: number;
  maxHoldNs: number;
  /** LOCK_OWNER of the holder (vCPU n = n + 1, the VMM KVM_OWNER_VMM), 0 when free. */
  owner: number;
  held: boolean;
}

export function emptyLock(): LockSnapshot {
  return { acquired: 0, contended: 0, waitNs: 0, holdNs: 0, maxWaitNs: 0, maxHoldNs: 0, owner: 0, held: false };
}

/** The three fault counters of the fast-versus-slow chart. */
export interface FaultCounters {
  fastFixed: number;
  fastFailed: number;
  slow: number;
}

export class KvmStatView {
  readonly vcpus: number;
  private readonly vcpu: Int32Array | null;
  private readonly stats: Int32Array | null;
  private readonly locks: Int32Array | null;

  /** Any region missing or too small leaves its readers returning zeros (and `problem` says why). */
  readonly problem: string;

  constructor(views: SharedViews) {
    this.vcpus = views.vcpus;
    const v = views.region(REGION_KVM_VCPU);
    const s = views.region(REGION_KVM_STATS);
    const l = views.region(REGION_LOCKS);
    const problems: string[] = [];
    this.vcpu = v && v.words >= this.vcpus * KVCPU_WORDS ? v.i32 : null;
    if (!this.vcpu) problems.push(`region '${REGION_KVM_VCPU}' is missing or too small`);
    this.stats = s && s.words >= STAT_FLUSH_CAUSE + FLUSH_CAUSES ? s.i32 : null;
    if (!this.stats) problems.push(`region '${REGION_KVM_STATS}' is missing or too small`);
    this.locks = l && l.words >= LOCK_SLOTS * LOCK_WORDS ? l.i32 : null;
    if (!this.locks) problems.push(`region '${REGION_LOCKS}' is missing or too small`);
    this.problem = problems.join('; ');
  }

  /** One per-vCPU counter word (KVCPU_STAT_*), as uint32. */
  vcpuCounter(vcpu: number, word: number): number {
    if (!this.vcpu || vcpu < 0 || vcpu >= this.vcpus) return 0;
    return Atomics.load(this.vcpu, vcpu * KVCPU_WORDS + word) >>> 0;
  }

  /** Fast fixes, fast failures and slow faults of one vCPU, into `out`. */
  faults(vcpu: number, out: FaultCounters): FaultCounters {
    out.fastFixed = this.vcpuCounter(vcpu, KVCPU_STAT_FAST_PF_FIXED);
    out.fastFailed = this.vcpuCounter(vcpu, KVCPU_STAT_FAST_PF_FAILED);
    out.slow = this.vcpuCounter(vcpu, KVCPU_STAT_PF_FIXED);
    return out;
  }

  /** A VM-wide counter word (STAT_*), as uint32. */
  stat(word: number): number {
    return this.stats ? Atomics.load(this.stats, word) >>> 0 : 0;
  }

  /** Remote TLB flushes of one FLUSH_CAUSE_* so far. */
  flushesByCause(cause: number): number {
    return cause >= 0 && cause < FLUSH_CAUSES ? this.stat(STAT_FLUSH_CAUSE + cause) : 0;
  }

  /** Statistics of lock `id` (MMU_LOCK, KVM_LOCK...), into `out`. */
  readLock(id: number, out: LockSnapshot = emptyLock()): LockSnapshot {
    const w = this.locks;
    if (!w || id < 0 || id >= LOCK_SLOTS) return Object.assign(out, emptyLock());
    const b = id * LOCK_WORDS;
    out.acquired = Atomics.load(w, b + LOCK_ACQUIRED) >>> 0;
    out.contended = Atomics.load(w, b + LOCK_CONTENDED) >>> 0;
    out.waitNs = readU64(w, b + LOCK_WAIT_NS_LO, b + LOCK_WAIT_NS_HI);
    out.holdNs = readU64(w, b + LOCK_HOLD_NS_LO, b + LOCK_HOLD_NS_HI);
    out.maxWaitNs = Atomics.load(w, b + LOCK_MAX_WAIT_NS) >>> 0;
    out.maxHoldNs = Atomics.load(w, b + LOCK_MAX_HOLD_NS) >>> 0;
    out.owner = Atomics.load(w, b + LOCK_OWNER);
    out.held = Atomics.load(w, b + LOCK_STATE) !== 0;
    return out;
  }
}

/** Who LOCK_OWNER names, for people. */
export function ownerName(owner: number): string {
  if (owner === 0) return '—';
  if (owner === KVM_OWNER_VMM) return 'VMM';
  return owner > 0 && owner < KVM_OWNER_VMM ? `vCPU ${owner - 1}` : `owner ${owner}`;
}
