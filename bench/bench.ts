// `npm run bench` (= `webkvm bench`): the speed figures, printed in a stable
// `name value unit (notes)` format, one per line, so runs can be compared with
// diff or grep. A figure with a target says `target <= X: met` or `NOT met`.
// Figures live here, never in tests (ARCHITECTURE.md §6); docs/benchmarks.md
// says how each is measured. `--only GROUP[,GROUP]` runs part of it.
import { cpus, loadavg } from 'node:os';
import { formatOptions, parseArgs, type OptionSpecs } from '../src/cli/args.ts';
import { EXIT_OK } from '../src/cli/exit-codes.ts';
import { KvmError } from '../src/kvm/errors.ts';
import { Vmm } from '../src/kvm/vmm.ts';
import { spawnVcpuNode } from '../workers/node-spawn.ts';
import { benchHart } from './hart-bench.ts';
import { benchFaults, benchGetDirtyLog } from './mmu-bench.ts';
import { benchFlush } from './flush-bench.ts';
import { benchDirtyRate } from './dirty-rate-bench.ts';
import { benchUi } from './ui-bench.ts';
import { benchRacePoints } from './race-bench.ts';
import { median } from './stats.ts';
import { guestElf } from '../src/guests/build.ts';

export interface Row {
  name: string;
  value: number;
  unit: string;
  note?: string;
  /** The issue's target for this figure: met when `value op target.value`. */
  target?: { op: '<=' | '>='; value: number };
}

/** One line per figure: `name value unit (target <= X: met|NOT met; note)`. */
export function formatRow(r: Row): string {
  const v = r.value >= 100 ? r.value.toFixed(1) : r.value.toFixed(2);
  const notes: string[] = [];
  if (r.target) {
    const met = r.target.op === '<=' ? r.value <= r.target.value : r.value >= r.target.value;
    notes.push(`target ${r.target.op} ${r.target.value}: ${met ? 'met' : 'NOT met'}`);
  }
  if (r.note) notes.push(r.note);
  return `${r.name.padEnd(40)} ${v.padStart(10)} ${r.unit}${notes.length ? `  (${notes.join('; ')})` : ''}`;
}

function print(r: Row): void {
  process.stdout.write(formatRow(r) + '\n');
}

/** Run a guest to its exit; return the aggregate MIPS over all vCPUs. */
async function runGuestMips(guest: string, vcpus: number, iterations: number): Promise<number> {
  const vmm = await Vmm.create({ memBytes: 64 << 20, vcpus }, spawnVcpuNode);
  try {
    vmm.loadElf(await guestElf(guest, { iterations }), guest);
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

/** Runs of each guest figure; the scaling ratio compares medians, not one noisy run with another. */
const VM_RUNS = 3;

async function guestMipsMedian(guest: string, vcpus: number, iterations: number): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < VM_RUNS; i++) runs.push(await runGuestMips(guest, vcpus, iterations));
  return median(runs);
}

/** vm.compute.*: the compute guest on 1 vCPU (paging off and Sv32) and the aggregate on 2 and 4. */
async function benchVm(scale: number): Promise<Row[]> {
  const iters = Math.max(1, Math.round(600 * scale));
  const one = await guestMipsMedian('compute', 1, iters);
  const rows: Row[] = [
    { name: 'vm.compute.vcpus1.bare', value: one, unit: 'MIPS', target: { op: '>=', value: 150 }, note: `median of ${VM_RUNS} runs` },
    { name: 'vm.compute.vcpus1.sv32', value: await guestMipsMedian('compute-sv32', 1, iters), unit: 'MIPS', note: `median of ${VM_RUNS} runs` },
  ];
  for (const n of [2, 4]) {
    const agg = await guestMipsMedian('compute', n, iters);
    rows.push({ name: `vm.compute.vcpus${n}.bare.total`, value: agg, unit: 'MIPS', note: `median of ${VM_RUNS} runs` });
    // Issue 2: 2 vCPUs at least 1.7 times one on a 2-core machine (4 on 2 cores has no target).
    const target = n === 2 ? { op: '>=' as const, value: 1.7 } : undefined;
    rows.push({ name: `vm.compute.vcpus${n}.scaling`, value: agg / one, unit: 'x one vCPU', target });
  }
  return rows;
}

const GROUPS = ['hart', 'faults', 'race', 'dirtylog', 'flush', 'dirty-rate', 'ui', 'vm'] as const;

const BENCH_OPTIONS: OptionSpecs = {
  quick: { type: 'flag', help: 'shorter runs (less precise)' },
  only: { type: 'string', arg: 'GROUPS', help: `comma-separated subset of ${GROUPS.join(', ')}` },
};

export const BENCH_HELP = `usage: webkvm bench [options]\n\nPrints one figure a line: name, value, unit, and the target ` +
  `where an issue sets one (docs/benchmarks.md).\n\noptions:\n${formatOptions(BENCH_OPTIONS)}`;

export async function benchCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, BENCH_OPTIONS);
  const scale = options.quick ? 0.2 : 1;
  const only = options.only === undefined ? [...GROUPS] : String(options.only).split(',');
  for (const g of only) {
    if (!(GROUPS as readonly string[]).includes(g)) throw new KvmError('EINVAL', `bench --only: no group '${g}' (groups: ${GROUPS.join(', ')})`);
  }
  const want = (g: (typeof GROUPS)[number]) => only.includes(g);
  process.stdout.write(`# webkvm bench: node ${process.version}, ${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, ` +
    `load average ${loadavg()[0]!.toFixed(1)}; medians of several runs (docs/benchmarks.md)\n`);
  if (want('hart')) for (const r of benchHart(scale)) print(r);
  if (want('faults')) for (const r of benchFaults()) print(r);
  if (want('race')) for (const r of benchRacePoints()) print(r);
  if (want('dirtylog')) for (const r of benchGetDirtyLog()) print(r);
  if (want('flush')) for (const n of [2, 4]) for (const r of await benchFlush(n, scale)) print(r);
  if (want('dirty-rate')) for (const r of await benchDirtyRate(2, scale)) print(r);
  if (want('ui')) for (const r of benchUi(scale)) print(r);
  if (want('vm')) for (const r of await benchVm(scale)) print(r);
  return EXIT_OK;
}
