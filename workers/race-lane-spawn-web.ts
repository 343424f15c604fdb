// Starting race-lab lanes in the browser: one module Web Worker per lane,
// children of the VMM worker (the race lab's controller), like the vCPUs.
import type { RaceLaneSpawner } from '../src/kvm/race/engine.ts';

export const spawnRaceLaneWeb: RaceLaneSpawner = (init, onError) => {
  const w = new Worker(new URL('./race-lane.worker.ts', import.meta.url), { type: 'module', name: `race-lane${init.lane}` });
  w.addEventListener('error', (e) => {
    e.preventDefault();
    onError(e.message || 'race lane worker error');
  });
  w.postMessage(init);
  return {
    terminate: async () => w.terminate(),
  };
};
