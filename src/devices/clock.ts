// mtime, the platform timer every hart and device reads: one 10 MHz counter
// shared by all workers.
//
// Nothing ticks it. Its state in `hv` is a pair (origin, base): "mtime was
// `base` at host time `origin` (ms)", and every reader computes
//   mtime = base + floor((hostNow() - origin) * 10_000)
// from its own clock. hostNow() is performance.timeOrigin + performance.now(),
// an epoch-based high-resolution time that is comparable across workers (a
// bare performance.now() is not: each worker starts its own at zero).
//
// Modes:
//   running  the formula above;
//   paused   frozen at `base` (the VMM pauses the VM; guest time stops too,
//            so a paused VM does not find all its timers expired on resume);
//   manual   frozen at `base`, moved only by advance(): deterministic runs
//            and tests, where time must not depend on how fast the host is.
//
// Writers (init, pause, resume, setMtime, advance; rare, control paths and
// guest writes to mtime) update the Float64 fields under a sequence lock, so
// a reader in another worker never mixes an old origin with a new base.
// Float64 accesses are not atomic in JS; the sequence word is what makes the
// pair consistent.

import { KvmError } from '../kvm/errors.ts';
import { TIMEBASE_HZ } from './memory-map.ts';

export const CLOCK_RUNNING = 0;
export const CLOCK_PAUSED = 1;
export const CLOCK_MANUAL = 2;

const TICKS_PER_MS = TIMEBASE_HZ / 1000;

// Int32 word indices.
const SEQ = 0; // even: stable; odd: a writer is inside
const MODE = 1;
// Float64 indices (byte offsets 16 and 24 of the region).
const F_ORIGIN = 2;
const F_BASE = 3;

/** Host time in ms, on a time line shared by all threads of the page/process. */
export type HostClock = () => number;

export const defaultHostClock: HostClock = () => performance.timeOrigin + performance.now();

export class Clock {
  /** Region size in words; the region must start on an 8-byte boundary. */
  static readonly WORDS = 8;

  private readonly f64: Float64Array;
  // Per-instance (so per-worker) memory of the last value returned, to keep
  // mtime monotonic in this worker even if host clocks disagree by a hair.
  private lastSeq = -1;
  private lastTicks = 0;

  constructor(
    private readonly view: Int32Array,
    private readonly hostNow: HostClock = defaultHostClock,
  ) {
    if (view.length < Clock.WORDS || view.byteOffset % 8 !== 0) {
      throw new KvmError('EINVAL', `clock region: needs ${Clock.WORDS} words at an 8-byte aligned offset ` +
        `(got ${view.length} words at byte ${view.byteOffset})`);
    }
    this.f64 = new Float64Array(view.buffer, view.byteOffset, Clock.WORDS / 2);
  }

  /** Run once by whoever creates the VM: mtime = startTicks now, running. */
  init(startTicks = 0): void {
    Atomics.store(this.view, SEQ, 0);
    this.write(CLOCK_RUNNING, this.hostNow(), startTicks);
  }

  /** The current mtime in ticks (an integer below 2^53). */
  mtime(): number {
    for (;;) {
      const seq = Atomics.load(this.view, SEQ);
      if (seq & 1) continue; // a writer is inside: its section is a few stores long
      const mode = Atomics.load(this.view, MODE);
      const origin = this.f64[F_ORIGIN]!;
      const base = this.f64[F_BASE]!;
      if (Atomics.load(this.view, SEQ) !== seq) continue;
      let t = base;
      if (mode === CLOCK_RUNNING) {
        t = base + Math.floor((this.hostNow() - origin) * TICKS_PER_MS);
        if (t < base) t = base; // our clock is a hair behind the writer's
      }
      if (seq === this.lastSeq && t < this.lastTicks) t = this.lastTicks;
      this.lastSeq = seq;
      this.lastTicks = t;
      return t;
    }
  }

  get mode(): number {
    return Atomics.load(this.view, MODE);
  }

  /** Freeze guest time (VM paused). No effect unless running. */
  pause(): void {
    this.update((mode, now) => (mode === CLOCK_RUNNING ? [CLOCK_PAUSED, now] : null));
  }

  /** Let guest time flow again from where it stopped. No effect unless paused. */
  resume(): void {
    this.update((mode, now) => (mode === CLOCK_PAUSED ? [CLOCK_RUNNING, now] : null));
  }

  /** Deterministic mode on (time moves only by advance()) or off (running from here). */
  setManual(on: boolean): void {
    this.update((mode, now) => {
      if (on) return mode === CLOCK_MANUAL ? null : [CLOCK_MANUAL, now];
      return mode === CLOCK_MANUAL ? [CLOCK_RUNNING, now] : null;
    });
  }

  /**
   * Move mtime forward by `ticks` in any mode (in manual mode this is the only
   * way it moves). The caller should kick sleeping vCPUs afterwards: a vCPU in
   * WFI computed its sleep from the old time.
   */
  advance(ticks: number): void {
    if (!(ticks >= 0)) throw new KvmError('EINVAL', `clock.advance: ticks must be >= 0 (got ${ticks})`);
    this.update((mode, now) => [mode, now + ticks]);
  }

  /** Set mtime (a guest store to the CLINT mtime register, or a VM reset). */
  setMtime(ticks: number): void {
    this.update((mode) => [mode, ticks]);
  }

  /**
   * Host milliseconds until mtime reaches `deadline`, for bounding a WFI sleep:
   * 0 if already reached, Infinity if it never will by itself (no deadline, or
   * time is paused/manual and only someone else can move it).
   */
  msUntil(deadline: number): number {
    if (deadline === Infinity || this.mode !== CLOCK_RUNNING) return Infinity;
    const d = deadline - this.mtime();
    return d <= 0 ? 0 : d / TICKS_PER_MS;
  }

  /**
   * Apply `change(mode, currentTicks)` -> [newMode, newTicks] (or null: no
   * change) atomically with respect to other writers and readers.
   */
  private update(change: (mode: number, now: number) => [number, number] | null): void {
    const seq = this.enter();
    const mode = Atomics.load(this.view, MODE);
    const host = this.hostNow();
    const base = this.f64[F_BASE]!;
    const now = mode === CLOCK_RUNNING
      ? Math.max(base, base + Math.floor((host - this.f64[F_ORIGIN]!) * TICKS_PER_MS))
      : base;
    const next = change(mode, now);
    if (next) {
      this.f64[F_ORIGIN] = host;
      this.f64[F_BASE] = Math.floor(next[1]);
      Atomics.store(this.view, MODE, next[0]);
    }
    Atomics.store(this.view, SEQ, (seq + 2) | 0);
  }

  private write(mode: number, origin: number, base: number): void {
    const seq = this.enter();
    this.f64[F_ORIGIN] = origin;
    this.f64[F_BASE] = base;
    Atomics.store(this.view, MODE, mode);
    Atomics.store(this.view, SEQ, (seq + 2) | 0);
  }

  /** Writer entry: turn an even sequence odd; returns the even value seen. */
  private enter(): number {
    for (;;) {
      const seq = Atomics.load(this.view, SEQ);
      if ((seq & 1) === 0 && Atomics.compareExchange(this.view, SEQ, seq, seq + 1) === seq) return seq;
    }
  }
}
