// Word indices of the shared Int32Array between events.test.ts and event-worker.ts.
export const READY = 0; // workers that attached and wait for GO
export const GO = 1; // set by the test: start producing
export const DONE = 2; // workers that produced all their events

export const WORDS = 4;

/** The payload check word of worker `id`'s event `i`: never 0, so a zeroed (unwritten) payload fails it. */
export function eventCheck(id: number, i: number): number {
  return (Math.imul((id << 20) + i + 1, 0x9e3779b1) | 1) | 0;
}
