// Shared words between host-ops.mt.test.ts and host-ops-worker.ts.
export const READY = 0; // workers that entered guest mode
export const STOP = 1; // set by the test: finish the current iteration and exit
export const VIOLATIONS = 2; // reads that did not see the value last written
export const ITERATIONS = 4; // + vcpu id: iterations done
export const FIRST_BAD = 12; // + vcpu id: first failing iteration, for the message
export const WORDS = 16;
/** The two pages vCPU `id` writes: A at RAM_GFN + PAGE_BASE + 2 * id, B right after. */
export const PAGE_BASE = 0x80;
