// Why Hart.run() returned. The caller (the vCPU loop) decides what to do next:
// poll its request word and run again, sleep until an interrupt, stop, or
// report a dead guest.

/** The instruction budget was used up; nothing else happened. */
export const RUN_BUDGET = 0;
/**
 * WFI executed with no enabled interrupt pending (mip & mie == 0). pc is already
 * past the WFI, so the caller may sleep until an interrupt line changes and then
 * call run() again; a pending interrupt is taken at the start of that run().
 */
export const RUN_WFI = 1;
/** hart.stopRequested was set (SBI shutdown, a pause, a tohost write). */
export const RUN_STOP = 2;
/**
 * The guest has no working trap handler: an instruction fetch faulted and the
 * trap it raised vectors to that very address, so the next fetch faults again
 * forever (e.g. mtvec points outside RAM). The trap was taken (mcause/mepc/mtval
 * describe it) before returning.
 */
export const RUN_TRAP_LOOP = 3;
/**
 * The memory system asked to end the run after the current instruction
 * (hart.exitReq = RUN_YIELD from a fault path): e.g. the vCPU's dirty ring
 * reached its soft limit and must go back to userspace before it overflows.
 */
export const RUN_YIELD = 4;
/** Single step: run(1) returns RUN_BUDGET, which callers may read as this. */
export const RUN_STEP = RUN_BUDGET;

/** Human-readable exit names, for logs and the UI. */
export const RUN_EXIT_NAMES: readonly string[] = ['budget', 'wfi', 'stop', 'trap-loop', 'yield'];
