// Word indices of the shared Int32Array between locks.mt.test.ts and vcpu-worker.ts.
export const STOP = 0;
export const SPTE = 1;
export const CHECKPOINT = 2;
export const READY = 3;
export const VIOLATIONS = 4;
/** + vcpuId: TLB flushes that vCPU performed. */
export const FLUSHES = 8;
export const WORDS = 16;
