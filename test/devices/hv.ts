// Test helpers: device regions over a fresh SharedArrayBuffer, as `hv` would
// hold them, and a kick recorder.

/** An Int32Array over its own SharedArrayBuffer (8-byte aligned, as the layout guarantees). */
export function region(words: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(words, 2) * 4 + 8), 8, words);
}

/** A kick callback that remembers which vCPUs it woke, in order. */
export function kickRecorder(): { kick: (id: number) => void; kicked: number[] } {
  const kicked: number[] = [];
  return { kick: (id) => void kicked.push(id), kicked };
}

/** A host clock the test moves by hand (ms). */
export function manualHostClock(startMs = 1_700_000_000_000): { now: () => number; advanceMs: (ms: number) => void } {
  let t = startMs;
  return { now: () => t, advanceMs: (ms) => void (t += ms) };
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
