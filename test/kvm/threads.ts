// Real threads for the KVM tests: worker_threads started through
// workers/node-boot.mjs, which registers tsx so a worker runs the same
// TypeScript sources as the test.
import { Worker } from 'node:worker_threads';

export const nodeBoot = new URL('../../workers/node-boot.mjs', import.meta.url);

/** A worker running `entry` (a file URL) with `data` as its workerData; `done` is its first message. */
export function startWorker(entry: URL, data: Record<string, unknown>): { worker: Worker; done: Promise<unknown> } {
  const worker = new Worker(nodeBoot, { workerData: { entry: entry.href, ...data } });
  const done = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, done };
}

/**
 * The workers of one test file, from test/kvm/workers/: spawn() one and get
 * its first message; terminate() (in afterEach) ends whatever is still up.
 */
export class TestThreads {
  private readonly workers: Worker[] = [];

  spawn(name: string, data: Record<string, unknown>): Promise<unknown> {
    const { worker, done } = startWorker(new URL(`./workers/${name}`, import.meta.url), data);
    this.workers.push(worker);
    return done;
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}
