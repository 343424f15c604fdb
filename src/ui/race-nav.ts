// Where the race lab's replay stands: the current step of a run, moved by
// Step, Step back, Reset, the arrow keys, a link, and Play. The whole run is
// already in hand (one raceRun call), so moving is pure bookkeeping; the
// panel redraws from `step` after each move.

/** Play's pace: one step per interval, slower when the user asked for less motion. */
export const PLAY_INTERVAL_MS = 1200;
export const PLAY_INTERVAL_REDUCED_MS = 2500;

export function playInterval(reducedMotion: boolean): number {
  return reducedMotion ? PLAY_INTERVAL_REDUCED_MS : PLAY_INTERVAL_MS;
}

export type NavKey = 'ArrowDown' | 'ArrowRight' | 'ArrowUp' | 'ArrowLeft' | 'Home' | 'End';

export class RaceCursor {
  private current = 0;

  constructor(private count = 0) {}

  /** A new run: back to step 0. */
  load(count: number): void {
    this.count = Math.max(0, Math.floor(count));
    this.current = 0;
  }

  get step(): number {
    return this.current;
  }

  get steps(): number {
    return this.count;
  }

  get atStart(): boolean {
    return this.current === 0;
  }

  /** On the last step (or there is no run): Step and Play have nowhere to go. */
  get atEnd(): boolean {
    return this.count === 0 || this.current === this.count - 1;
  }

  /** Move to `n`, clamped into the run; returns whether the step changed. */
  goTo(n: number): boolean {
    if (this.count === 0 || !Number.isFinite(n)) return false;
    const next = Math.min(this.count - 1, Math.max(0, Math.trunc(n)));
    if (next === this.current) return false;
    this.current = next;
    return true;
  }

  next(): boolean {
    return this.goTo(this.current + 1);
  }

  back(): boolean {
    return this.goTo(this.current - 1);
  }

  reset(): boolean {
    return this.goTo(0);
  }

  /** The lane view's keys: down/right forward, up/left back, Home/End to the ends. null: not ours. */
  key(key: string): boolean | null {
    switch (key as NavKey) {
      case 'ArrowDown':
      case 'ArrowRight':
        return this.next();
      case 'ArrowUp':
      case 'ArrowLeft':
        return this.back();
      case 'Home':
        return this.reset();
      case 'End':
        return this.goTo(this.count - 1);
      default:
        return null;
    }
  }
}
