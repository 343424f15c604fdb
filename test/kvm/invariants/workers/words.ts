// Shared words between the invariant tests and their workers (writer-worker.ts,
// mode-worker.ts). One Int32Array of WORDS words.
export const READY = 0; // workers that entered guest mode
export const STOP = 1; // set by the test: finish and exit
export const VIOLATIONS = 2; // invariant violations a worker saw
export const FIRST_BAD = 3; // the first violation's gfn (or value), for the message
export const ITERATIONS = 4; // + vCPU id: iterations done
export const FIXES = 12; // + vCPU id: W 0 -> 1 fixes done by the broken fast path
export const TLB_GEN = 20; // T2/T3: the "SPTE generation" the requester publishes
export const CHECKPOINT = 21; // T2/T3: the generation every vCPU must have flushed past
export const WALKING = 22; // + vCPU id: 1 while a lockless walk is in progress
export const FLUSHES = 30; // + vCPU id: TLB flushes done
export const WORDS = 40;

/** Pages each writer owns: RAM_GFN + PAGE_BASE + vcpu * PAGES_PER_VCPU + i. */
export const PAGE_BASE = 0x40;
export const PAGES_PER_VCPU = 32;
export const RAM = 0x8000_0000;

/** What every job posted to one of these workers carries (the VM's buffers, the vCPU, the words above). */
export interface VcpuJob {
  hv: SharedArrayBuffer;
  ram: SharedArrayBuffer;
  vcpuId: number;
  shared: SharedArrayBuffer;
}
