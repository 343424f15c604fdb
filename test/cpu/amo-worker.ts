// Worker side of the cross-worker atomics test (amo.test.ts): runs one hart on
// the shared RAM until the program ECALLs, then reports its registers.

import { parentPort, workerData } from 'node:worker_threads';
import { Hart } from '../../src/cpu/hart.ts';
import { FlatMemory } from '../../src/cpu/flat-memory.ts';

const { ram, pc, hartId } = workerData as { ram: SharedArrayBuffer; pc: number; hartId: number };
const mem = new FlatMemory({ ram });
const hart = new Hart(hartId, mem, {
  ecall: (h) => {
    h.stopRequested = true;
    return true;
  },
  readTime: () => 0,
});
hart.reset(pc);
while (!hart.stopRequested) hart.run(10_000);
parentPort?.postMessage({ x: Array.from(hart.x), mcause: hart.mcause });
