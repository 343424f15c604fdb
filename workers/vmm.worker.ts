// Browser entry of the VMM worker: the VMM service behind comlink, spawning
// one module Web Worker per vCPU. (Nested workers: the vCPUs are children of
// this worker, so the page's main thread never waits on anything.)
import * as Comlink from 'comlink';
import { VmmService } from '../src/kvm/vmm-service.ts';
import type { VcpuSpawner } from '../src/kvm/vmm.ts';
import { spawnRaceLaneWeb } from './race-lane-spawn-web.ts'; // race lab lanes

const spawnVcpuBrowser: VcpuSpawner = (init, onError) => {
  const w = new Worker(new URL('./vcpu.worker.ts', import.meta.url), { type: 'module', name: `vcpu${init.vcpuId}` });
  w.addEventListener('error', (e) => {
    e.preventDefault();
    onError(e.message || 'worker error');
  });
  w.postMessage(init);
  return {
    terminate: async () => w.terminate(),
  };
};

Comlink.expose(new VmmService(spawnVcpuBrowser, spawnRaceLaneWeb));
