// Browser entry of a vCPU worker. The VMM worker posts one message with the
// shared buffers and the vCPU id; from then on this thread belongs to the
// guest: it runs instructions or sleeps in Atomics.wait, and takes every
// further command through shared memory (src/kvm/vcpu-ctl.ts).
import { runVcpuThread, type VcpuInit } from '../src/kvm/vcpu-run.ts';

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<VcpuInit>) => void) | null };
scope.onmessage = (e) => {
  scope.onmessage = null;
  runVcpuThread(e.data);
};
