// Rates from wrapping uint32 counters read out of shared memory.

/**
 * Counter change between two reads of a wrapping uint32. A change of 2^31 or
 * more cannot happen between two samples a fraction of a second apart, so it
 * means the counter went back to zero (a VM reset): count from zero then.
 */
export function counterDelta(now: number, before: number): number {
  const d = (now - before) >>> 0;
  return d >= 0x80000000 ? now >>> 0 : d;
}

/** Events per second of one counter, over the interval between the last two updates. */
export class CounterRate {
  private prev = 0;
  private prevMs = -1;
  /** The latest rate per second (0 until two updates). */
  rate = 0;

  update(nowMs: number, value: number): number {
    if (this.prevMs >= 0 && nowMs > this.prevMs) {
      this.rate = counterDelta(value, this.prev) / ((nowMs - this.prevMs) / 1000);
    }
    if (this.prevMs < 0 || nowMs > this.prevMs) {
      this.prev = value >>> 0;
      this.prevMs = nowMs;
    }
    return this.rate;
  }

  reset(): void {
    this.prev = 0;
    this.prevMs = -1;
    this.rate = 0;
  }
}
