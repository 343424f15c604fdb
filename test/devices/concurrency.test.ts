// Several real worker threads driving the shared devices at once, as vCPU
// workers do: the device locks must keep every byte and every claim intact.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { UART0_IRQ } from '../../src/devices/memory-map.ts';
import { Platform, platformWords } from '../../src/devices/platform.ts';
import { PLIC_ENABLE_BASE, PLIC_ENABLE_STRIDE } from '../../src/devices/plic.ts';

const boot = new URL('./worker-boot.mjs', import.meta.url);
const entry = new URL('./device-worker.ts', import.meta.url).href;

function runWorkers(nvcpus: number, task: string, count: number, buffer: SharedArrayBuffer, words: number, scratch: SharedArrayBuffer) {
  return Promise.all(
    Array.from({ length: nvcpus }, (_, vcpu) => new Promise<void>((resolve, reject) => {
      const w = new Worker(boot, { workerData: { entry, job: { buffer, byteOffset: 0, words, nvcpus, vcpu, task, count, scratch } } });
      w.on('message', () => resolve());
      w.on('error', reject);
    })),
  );
}

describe('devices under concurrent vCPU workers', () => {
  it('UART transmits from 4 workers lose no byte and mix none', async () => {
    const nvcpus = 4;
    const count = 3000;
    const words = platformWords({ nvcpus });
    const buffer = new SharedArrayBuffer(words * 4);
    const board = new Platform(new Int32Array(buffer), { nvcpus }, { kick: () => {} });
    board.init();
    const got = new Map<number, number>();
    const done = runWorkers(nvcpus, 'uart-tx', count, buffer, words, new SharedArrayBuffer(16));
    let finished = false;
    void done.then(() => (finished = true));
    // The UI side: drain while they write, without ever blocking.
    while (!finished || board.consoleOut.available() > 0) {
      for (const b of board.consoleOut.consume()) got.set(b, (got.get(b) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 1));
    }
    await done;
    expect(board.consoleOut.dropped()).toBe(0);
    expect([...got.entries()].sort()).toEqual([[0x41, count], [0x42, count], [0x43, count], [0x44, count]]);
    expect(board.uart.snapshot().txBytes).toBe(nvcpus * count);
  }, 60_000);

  it('PLIC claims from 4 workers on one always-high source never overlap', async () => {
    const nvcpus = 4;
    const words = platformWords({ nvcpus });
    const buffer = new SharedArrayBuffer(words * 4);
    const board = new Platform(new Int32Array(buffer), { nvcpus }, { kick: () => {} });
    board.init();
    const bus = board.createBus(0);
    bus.store(0x0c00_0000 + 4 * UART0_IRQ, 4, 1);
    for (let h = 0; h < nvcpus; h++) {
      bus.store(0x0c00_0000 + PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * (2 * h + 1), 4, 1 << UART0_IRQ);
    }
    board.plic.setLevel(UART0_IRQ, true); // a level that never drops: re-pends after every complete
    const scratch = new SharedArrayBuffer(16);
    await runWorkers(nvcpus, 'plic-claim', 5000, buffer, words, scratch);
    const s = new Int32Array(scratch);
    expect(s[2]).toBe(0); // no two holders at once
    expect(s[3]).toBeGreaterThan(0);
    expect(board.plic.isClaimed(UART0_IRQ)).toBe(false);
    expect(board.plic.isPending(UART0_IRQ)).toBe(true);
  }, 60_000);
});
