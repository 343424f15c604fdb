// The hypervisor's locks: kvm->mmu_lock, kvm_lock, the TSC write lock and
// slots_lock, each a record of LOCK_WORDS in region 'locks' (fields.ts).
//
// In 3.6 mmu_lock, kvm_lock and tsc_write_lock are spinlocks (§2.10; locking.txt
// "3. Reference"). Here several threads share two or so cores, so a pure
// spinlock would burn the core its holder needs: the lock is a futex-style
// mutex instead. The state word is 0 free, 1 held, 2 held with a possible
// sleeper. lock() spins briefly on a read-only check, then announces itself
// by swapping in 2 and sleeps in Atomics.wait; unlock() swaps in 0 and wakes
// one sleeper if it saw 2.
//
// Every lock counts acquisitions, contended acquisitions (the first CAS
// failed), and total/maximum wait and hold time in ns, for the locks panel.
// The statistics are written only by the holder, while holding the lock, so
// they need no atomics.
//
// NEVER take these locks on a browser main thread: Atomics.wait throws there
// (ARCHITECTURE §1). Locks are taken by the VMM worker and by vCPU workers
// (Node allows waiting on its main thread, which the tests use). A vCPU must
// be outside guest mode (requests.ts) while it waits for mmu_lock, or a holder
// waiting for that vCPU's TLB-flush acknowledgement would wait forever.

import { KvmError } from './errors.ts';
import { EV_LOCK_CONTENDED, kvmEvent } from './events.ts';
import {
  KVM_OWNER_VMM, LOCK_ACQUIRED, LOCK_CONTENDED, LOCK_FREE, LOCK_HELD, LOCK_HELD_WAITERS, LOCK_HOLD_NS_LO, LOCK_MAX_HOLD_NS,
  LOCK_MAX_WAIT_NS, LOCK_NAMES, LOCK_OWNER, LOCK_STATE, LOCK_WAIT_NS_LO, LOCK_WORDS,
} from './fields.ts';

export {
  KVM_LOCK, KVM_OWNER_VMM, LOCK_NAMES, LOCK_SLOTS, MMU_LOCK, SLOTS_LOCK, TSC_WRITE_LOCK,
} from './fields.ts';

/** Read-only checks before sleeping. Critical sections are a few µs at most. */
const SPIN_LIMIT = 200;

/** A monotonic clock in ms (performance.now where the platform has it). */
export const nowMs: () => number =
  typeof performance !== 'undefined' && typeof performance.now === 'function'
    ? () => performance.now()
    : () => Date.now();

/** Add a non-negative number to a uint64 kept as (lo, hi) uint32 words. Caller serialises. */
export function addU64(a: Int32Array, lo: number, value: number): void {
  const sum = (a[lo]! >>> 0) + value;
  const carry = Math.floor(sum / 4294967296);
  a[lo] = sum - carry * 4294967296;
  a[lo + 1] = (a[lo + 1]! + carry) | 0;
}

/** Read a uint64 kept as (lo, hi) uint32 words (as a JS number; exact below 2^53). */
export function readU64(a: Int32Array, lo: number): number {
  return (a[lo + 1]! >>> 0) * 4294967296 + (a[lo]! >>> 0);
}

function saturate(ns: number): number {
  return ns >= 0x7fffffff ? 0x7fffffff : ns | 0;
}

/**
 * One thread's handle on lock `id` of region 'locks'. Not reentrant: taking a
 * lock this handle already holds is a bug and throws (it would deadlock).
 */
export class KvmLock {
  private readonly base: number;
  private acquiredAt = 0;
  private held = false;

  /**
   * @param words the 'locks' region (VmShared.locks)
   * @param id    MMU_LOCK, KVM_LOCK, TSC_WRITE_LOCK, SLOTS_LOCK, or 4..7
   * @param owner this thread's owner tag: vCPU n is n + 1, the VMM KVM_OWNER_VMM
   * @param events region 'events' to record contended acquisitions in (EV_LOCK_CONTENDED), or null
   */
  constructor(
    private readonly words: Int32Array,
    readonly id: number,
    readonly owner: number,
    private readonly events: Int32Array | null = null,
  ) {
    this.base = id * LOCK_WORDS;
    if (this.base + LOCK_WORDS > words.length) throw new KvmError('EINVAL', `lock id ${id} is outside the locks region`);
  }

  get name(): string {
    return LOCK_NAMES[this.id] ?? `lock${this.id}`;
  }

  lock(): void {
    const w = this.words;
    const s = this.base + LOCK_STATE;
    if (Atomics.compareExchange(w, s, LOCK_FREE, LOCK_HELD) === LOCK_FREE) {
      this.acquired(false, 0);
      return;
    }
    if (this.held) {
      throw new KvmError('EINVAL', `${this.name}: already held by this thread (owner ${this.owner}); it is not reentrant`);
    }
    const t0 = nowMs();
    for (let i = 0; i < SPIN_LIMIT; i++) {
      if (Atomics.load(w, s) === LOCK_FREE && Atomics.compareExchange(w, s, LOCK_FREE, LOCK_HELD) === LOCK_FREE) {
        this.acquired(true, t0);
        return;
      }
    }
    // Swapping in 2 returns 0 exactly when we got the lock; it is then marked
    // contended, which costs at most one spare notify at unlock.
    while (Atomics.exchange(w, s, LOCK_HELD_WAITERS) !== LOCK_FREE) {
      Atomics.wait(w, s, LOCK_HELD_WAITERS);
    }
    this.acquired(true, t0);
  }

  /** Take the lock only if it is free right now. */
  tryLock(): boolean {
    if (Atomics.compareExchange(this.words, this.base + LOCK_STATE, LOCK_FREE, LOCK_HELD) !== LOCK_FREE) return false;
    this.acquired(false, 0);
    return true;
  }

  unlock(): void {
    const w = this.words;
    const b = this.base;
    if (!this.held) throw new KvmError('EINVAL', `${this.name}: unlock by a thread that does not hold it (owner ${this.owner})`);
    const held = (nowMs() - this.acquiredAt) * 1e6;
    addU64(w, b + LOCK_HOLD_NS_LO, held);
    if (held > (w[b + LOCK_MAX_HOLD_NS]! >>> 0)) w[b + LOCK_MAX_HOLD_NS] = saturate(held);
    this.held = false;
    Atomics.store(w, b + LOCK_OWNER, 0);
    if (Atomics.exchange(w, b + LOCK_STATE, LOCK_FREE) === LOCK_HELD_WAITERS) Atomics.notify(w, b + LOCK_STATE, 1);
  }

  /** True while this handle holds the lock. */
  get heldByMe(): boolean {
    return this.held;
  }

  /** Throw unless this handle holds the lock: guards functions documented "mmu_lock held". */
  assertHeld(fn: string): void {
    if (!this.held) throw new KvmError('EINVAL', `${fn}: called without ${this.name} held`);
  }

  private acquired(contended: boolean, t0: number): void {
    const w = this.words;
    const b = this.base;
    const now = nowMs();
    this.acquiredAt = now;
    this.held = true;
    Atomics.store(w, b + LOCK_OWNER, this.owner);
    w[b + LOCK_ACQUIRED] = (w[b + LOCK_ACQUIRED]! + 1) | 0;
    if (contended) {
      const waited = (now - t0) * 1e6;
      w[b + LOCK_CONTENDED] = (w[b + LOCK_CONTENDED]! + 1) | 0;
      addU64(w, b + LOCK_WAIT_NS_LO, waited);
      if (waited > (w[b + LOCK_MAX_WAIT_NS]! >>> 0)) w[b + LOCK_MAX_WAIT_NS] = saturate(waited);
      if (this.events !== null) {
        const vcpu = this.owner > 0 && this.owner < KVM_OWNER_VMM ? this.owner - 1 : -1;
        kvmEvent(this.events, EV_LOCK_CONTENDED, vcpu, this.id, saturate(waited), 0);
      }
    }
  }
}

/** A lock's statistics, as numbers (for tests, the CLI and the UI). */
export interface LockStats {
  acquired: number;
  contended: number;
  waitNs: number;
  holdNs: number;
  maxWaitNs: number;
  maxHoldNs: number;
  held: boolean;
  owner: number;
}

export function readLockStats(words: Int32Array, id: number): LockStats {
  const b = id * LOCK_WORDS;
  return {
    acquired: words[b + LOCK_ACQUIRED]! >>> 0,
    contended: words[b + LOCK_CONTENDED]! >>> 0,
    waitNs: readU64(words, b + LOCK_WAIT_NS_LO),
    holdNs: readU64(words, b + LOCK_HOLD_NS_LO),
    maxWaitNs: words[b + LOCK_MAX_WAIT_NS]! >>> 0,
    maxHoldNs: words[b + LOCK_MAX_HOLD_NS]! >>> 0,
    held: Atomics.load(words, b + LOCK_STATE) !== LOCK_FREE,
    owner: Atomics.load(words, b + LOCK_OWNER),
  };
}
