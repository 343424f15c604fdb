// Starting race-lab lanes under Node (CLI, tests): worker_threads through the
// tsx bootstrap, like the vCPU workers (node-spawn.ts).
import { Worker } from 'node:worker_threads';
import type { RaceLaneSpawner } from '../src/kvm/race/engine.ts';

const boot = new URL('./node-boot.mjs', import.meta.url);
const entry = new URL('./race-lane.node.ts', import.meta.url).href;

export const spawnRaceLaneNode: RaceLaneSpawner = (init, onError) => {
  const w = new Worker(boot, { workerData: { entry, init } });
  w.on('error', (e) => onError(e instanceof Error ? e.message : String(e)));
  w.unref();
  return {
    terminate: async () => {
      await w.terminate();
    },
  };
};
