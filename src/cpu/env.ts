// What the hart needs from its surroundings besides memory: the hypervisor's
// SBI handler and the platform clock. Kept tiny so the same hart runs under the
// real vCPU worker, a test, or a benchmark.

import type { Hart } from './hart.ts';

export interface HartEnv {
  /**
   * Called for every ECALL, in any privilege mode, before the trap is taken.
   * hart.pc is the address of the ECALL; a0-a7 are in hart.x. Return true if the
   * hypervisor handled the call (SBI): the hart then advances pc by 4 and
   * continues, as if the call had run in firmware. Return false for a normal
   * environment-call exception (cause 8, 9 or 11 by privilege).
   * The handler may write hart.x, set hart.stopRequested, call setIrqLines(),
   * raiseInterrupt(), tlbFlush() or tlbFlushPage(); it must not change hart.pc.
   */
  ecall(hart: Hart): boolean;
  /** Current mtime (ticks of the platform timer) as a JS number, for time/timeh. */
  readTime(): number;
}

/** An environment with no SBI (every ECALL traps) and a clock stuck at 0. */
export const NULL_ENV: HartEnv = {
  ecall: () => false,
  readTime: () => 0,
};
