// Node entry of a race-lab lane (loaded through workers/node-boot.mjs): the
// same code as the browser's race-lane.worker.ts.
import { workerData } from 'node:worker_threads';
import { runRaceLane, type RaceLaneInit } from '../src/kvm/race/lane.ts';

runRaceLane((workerData as { init: RaceLaneInit }).init);
