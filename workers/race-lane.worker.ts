// Browser entry of a race-lab lane: the VMM worker (the race lab's
// controller) posts one message with the lab VM's buffers and the lane; from
// then on the lane takes its commands through shared memory (src/kvm/race/lane.ts).
import { runRaceLane, type RaceLaneInit } from '../src/kvm/race/lane.ts';

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<RaceLaneInit>) => void) | null; close(): void };
scope.onmessage = (e) => {
  scope.onmessage = null;
  runRaceLane(e.data);
  scope.close();
};
