// The pre-copy loop of live migration (QEMU's ram_save_iterate), as a pure
// state machine that the dirty-map panel and `webkvm migrate` both drive:
//
//   round 1      "send" every page the guest has (the full copy) while dirty
//                logging is on, so writes during the copy are caught;
//   round 2...   collect the dirty log and send the pages written since the
//                previous collection;
//   stop         when a round sends fewer than `threshold` pages: that round
//                is the stop-and-copy, sent with the VM paused (QEMU pauses
//                once the rest fits the allowed downtime); or after
//                `maxRounds` rounds without converging (QEMU would then
//                throttle the vCPUs, auto-converge, or give up).
//
// Sending is simulated: a round takes pages / bandwidth, during which the
// guest keeps dirtying pages, which is why a busy guest may never converge.
//
// It lives with the panel that shows it, but imports nothing and touches no
// DOM, so `webkvm migrate` runs the same loop under Node
// (test/ui/ui-imports.test.ts keeps it so).

export type PrecopyState = 'running' | 'converged' | 'max-rounds';

export interface PrecopyRound {
  round: number;
  pages: number;
  kind: 'full' | 'dirty' | 'stop-and-copy';
}

export interface PrecopyOptions {
  /** Rounds at most, the full copy included (>= 2). */
  maxRounds: number;
  /** A round with fewer dirty pages than this ends the loop. */
  threshold: number;
}

export class PrecopyLoop {
  readonly rounds: PrecopyRound[] = [];
  state: PrecopyState = 'running';

  constructor(readonly opts: PrecopyOptions) {
    if (!Number.isInteger(opts.maxRounds) || opts.maxRounds < 2) throw new RangeError(`max rounds must be an integer >= 2, got ${opts.maxRounds}`);
    if (!Number.isFinite(opts.threshold) || opts.threshold < 0) throw new RangeError(`threshold must be >= 0, got ${opts.threshold}`);
  }

  /** Record the next round's pages; returns true if another round should follow. */
  record(pages: number): boolean {
    if (this.state !== 'running') return false;
    const round = this.rounds.length + 1;
    if (round === 1) {
      this.rounds.push({ round, pages, kind: 'full' });
      return true;
    }
    if (pages < this.opts.threshold) {
      this.rounds.push({ round, pages, kind: 'stop-and-copy' });
      this.state = 'converged';
      return false;
    }
    this.rounds.push({ round, pages, kind: 'dirty' });
    if (round >= this.opts.maxRounds) {
      this.state = 'max-rounds';
      return false;
    }
    return true;
  }

  get totalPages(): number {
    return this.rounds.reduce((a, r) => a + r.pages, 0);
  }

  /** One sentence on how the loop ended (or is going). */
  summary(): string {
    const n = this.rounds.length;
    const last = this.rounds[n - 1];
    const total = `${this.totalPages.toLocaleString('en')} pages sent in ${n} round${n === 1 ? '' : 's'}`;
    if (this.state === 'converged') {
      return `Converged: ${total}; the last ${last!.pages.toLocaleString('en')} (below the threshold of ${this.opts.threshold}) go with the VM paused.`;
    }
    if (this.state === 'max-rounds') {
      return `Did not converge in ${n} rounds: ${total}; the guest still dirties ${last!.pages.toLocaleString('en')} pages a round ` +
        `(threshold ${this.opts.threshold}). QEMU would now throttle the vCPUs (auto-converge) or stop and copy them all.`;
    }
    return n === 0 ? 'Starting…' : `Round ${n}: ${total} so far.`;
  }
}

/** Simulated time to send `pages` at `mibPerSecond`, at least `minMs`. */
export function transferMs(pages: number, mibPerSecond: number, minMs = 20): number {
  const bytesPerMs = (mibPerSecond * 1024 * 1024) / 1000;
  return Math.max(minMs, (pages * 4096) / Math.max(1, bytesPerMs));
}
