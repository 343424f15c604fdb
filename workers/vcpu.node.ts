// Node entry of a vCPU worker (loaded through workers/node-boot.mjs). Same
// code as the browser worker; only the way the init message arrives differs.
import { workerData } from 'node:worker_threads';
import { runVcpuThread, type VcpuInit } from '../src/kvm/vcpu-run.ts';

runVcpuThread((workerData as { init: VcpuInit }).init);
