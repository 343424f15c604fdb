// A stand-in vCPU worker for the concurrency tests: attaches the board to
// the shared region exactly as a real vCPU worker would, then hammers one
// device path.
import { parentPort, workerData } from 'node:worker_threads';
import { Platform } from '../../src/devices/platform.ts';
import { UART0_BASE, PLIC_BASE } from '../../src/devices/memory-map.ts';

interface Job {
  buffer: SharedArrayBuffer;
  byteOffset: number;
  words: number;
  nvcpus: number;
  vcpu: number;
  task: 'uart-tx' | 'plic-claim';
  count: number;
  /** Int32Array over its own SAB: [0] start barrier, [1] owner word, [2] violations, [3] claims */
  scratch: SharedArrayBuffer;
}

const job = (workerData as { job: Job }).job;
const view = new Int32Array(job.buffer, job.byteOffset, job.words);
const board = new Platform(view, { nvcpus: job.nvcpus }, { kick: () => {} });
const bus = board.createBus(job.vcpu);
const scratch = new Int32Array(job.scratch);

Atomics.add(scratch, 0, 1);
while (Atomics.load(scratch, 0) < job.nvcpus) { /* start together */ }

if (job.task === 'uart-tx') {
  const ch = 0x41 + job.vcpu;
  for (let i = 0; i < job.count; i++) bus.store(UART0_BASE, 1, ch);
} else {
  const claimReg = PLIC_BASE + 0x20_0004 + 0x1000 * (2 * job.vcpu + 1);
  let got = 0;
  for (let i = 0; i < job.count; i++) {
    const src = bus.load(claimReg, 4);
    if (src === 0) continue;
    // Exactly one context may hold the source between claim and complete.
    if (Atomics.compareExchange(scratch, 1, 0, job.vcpu + 1) !== 0) Atomics.add(scratch, 2, 1);
    got++;
    // Hold the source a little while, as a handler would, so an overlapping
    // claim from another worker has time to show.
    for (let spin = 0; spin < 200; spin++) Atomics.load(scratch, 1);
    Atomics.store(scratch, 1, 0);
    bus.store(claimReg, 4, src);
  }
  Atomics.add(scratch, 3, got);
}
parentPort!.postMessage('done');
