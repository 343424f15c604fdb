// Starting vCPU workers under Node (CLI, tests, benchmarks): worker_threads
// through the tsx bootstrap, so the worker runs the same TypeScript as the
// browser's Web Worker. SharedArrayBuffers in workerData are shared, not copied.
import { Worker } from 'node:worker_threads';
import type { VcpuInit } from '../src/kvm/vcpu-run.ts';
import type { VcpuSpawner, VcpuThread } from '../src/kvm/vmm.ts';

const boot = new URL('./node-boot.mjs', import.meta.url);
const entry = new URL('./vcpu.node.ts', import.meta.url).href;

export const spawnVcpuNode: VcpuSpawner = (init: VcpuInit, onError: (message: string) => void): VcpuThread => {
  const w = new Worker(boot, { workerData: { entry, init }, execArgv: process.env.WEBKVM_WORKER_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.WEBKVM_WORKER_PROF] : undefined });
  w.on('error', (e) => onError(e instanceof Error ? e.message : String(e)));
  w.on('message', (m: unknown) => {
    if (m && typeof m === 'object' && 'error' in m) onError(String((m as { error: unknown }).error));
  });
  // A vCPU blocked in Atomics.wait must not keep the process alive after the VM is done.
  w.unref();
  return {
    terminate: async () => {
      await w.terminate();
    },
  };
};
