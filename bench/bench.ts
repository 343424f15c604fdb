// `npm run bench` (= `webkvm bench`): the speed figures, printed in a stable
// `name value unit` format, one per line, so runs can be compared with diff.
// Figures live here, never in tests (ARCHITECTURE.md §6).
import { cpus } from 'node:os';
import { parseArgs } from '../src/cli/args.ts';
import { EXIT_OK } from '../src/cli/exit-codes.ts';
import { Vmm } from '../src/kvm/vmm.ts';
import { readElf } from '../src/asm/elf.ts';
import { assemble } from '../src/asm/assembler.ts';
import { writeElf } from '../src/asm/elf.ts';
import { loadGuestSource } from '../src/guests/index.ts';
import { spawnVcpuNode } from '../workers/node-spawn.ts';
import { benchHart } from './hart-bench.ts';
import { benchFaults, benchGetDirtyLog } from './mmu-bench.ts';
import type { LoadImage } from '../src/kvm/loader.ts';

export interface Row {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

function print(r: Row): void {
  const v = r.value >= 100 ? r.value.toFixed(1) : r.value.toFixed(2);
  process.stdout.write(`${r.name.padEnd(40)} ${v.padStart(10)} ${r.unit}${r.note ? `  (${r.note})` : ''}\n`);
}

/** The compute guest with `iterations` patched, as a loadable image. */
async function computeImage(guest: string, iterations: number): Promise<LoadImage> {
  const elf = readElf(writeElf(assemble(await loadGuestSource(guest), `${guest}.S`)), `${guest}.S`);
  const at = elf.symbols.get('iterations');
  if (at === undefined) throw new Error(`${guest}: no 'iterations' symbol to patch`);
  const seg = elf.segments.find((s) => at >= s.paddr && at + 4 <= s.paddr + s.data.length);
  if (!seg) throw new Error(`${guest}: 'iterations' is not in a loaded segment`);
  const segments = elf.segments.map((s) => ({ paddr: s.paddr, data: s.data.slice(), memsz: s.memsz }));
  const mine = segments[elf.segments.indexOf(seg)];
  new DataView(mine.data.buffer).setUint32(at - seg.paddr, iterations, true);
  return { entry: elf.entry, segments, symbols: elf.symbols };
}

/** Run a guest to its exit; return the aggregate MIPS over all vCPUs. */
async function runGuestMips(guest: string, vcpus: number, iterations: number): Promise<number> {
  const vmm = await Vmm.create({ memBytes: 64 << 20, vcpus }, spawnVcpuNode);
  try {
    vmm.loadProgramImage(await computeImage(guest, iterations), guest);
    const t0 = performance.now();
    vmm.run();
    while (!vmm.exitInfo()) await vmm.waitForExit(20);
    const secs = (performance.now() - t0) / 1000;
    const exit = vmm.exitInfo()!;
    if (exit.code !== 0) throw new Error(`${guest} on ${vcpus} vCPUs exited with code ${exit.code}`);
    vmm.readConsole();
    return vmm.stats(secs).total_mips;
  } finally {
    await vmm.destroy();
  }
}

export async function benchCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, { quick: { type: 'flag', help: 'shorter runs (less precise)' } });
  const scale = options.quick ? 0.2 : 1;
  process.stdout.write(`# webkvm bench: node ${process.version}, ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}\n`);
  for (const r of benchHart(scale)) print(r);
  for (const r of benchFaults(scale)) print(r);
  for (const r of benchGetDirtyLog()) print(r);
  const iters = Math.max(1, Math.round(600 * scale));
  const one = await runGuestMips('compute', 1, iters);
  print({ name: 'vm.compute.vcpus1.bare', value: one, unit: 'MIPS' });
  print({ name: 'vm.compute.vcpus1.sv32', value: await runGuestMips('compute-sv32', 1, iters), unit: 'MIPS' });
  for (const n of [2, 4]) {
    const agg = await runGuestMips('compute', n, iters);
    print({ name: `vm.compute.vcpus${n}.bare.total`, value: agg, unit: 'MIPS', note: `${(agg / one).toFixed(2)}x one vCPU` });
  }
  return EXIT_OK;
}
