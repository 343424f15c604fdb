// `webkvm migrate`: the pre-copy loop of live migration against a running
// guest (src/ui/dirty-migrate.ts, the same state machine as the app's
// "Migrate (pre-copy)" button): round 1 sends every backed page, each later
// round collects the dirty log (bitmap, clear or ring mode) and sends what
// was written meanwhile, until a round falls below --threshold pages or
// --rounds is reached. Prints the pages sent per round.
import { formatOptions, parseArgs, UsageError, type OptionSpecs } from './args.ts';
import { EXIT_OK } from './exit-codes.ts';
import { createLoadedVm, parseSets } from './observe.ts';
import { readProgram } from './program.ts';
import { bitmapWeight } from '../kvm/bitops.ts';
import { DIRTY_LOG_MODES, type DirtyLogMode } from '../kvm/dirty-collector.ts';
import { VmDirtyControl } from '../kvm/dirty-control.ts';
import { KvmError } from '../kvm/errors.ts';
import { MEMSLOT_NPAGES, MEMSLOT_TABLE_BASE } from '../kvm/fields.ts';
import type { Vmm } from '../kvm/vmm.ts';
import { PrecopyLoop, transferMs } from '../ui/dirty-migrate.ts';

const OPTIONS: OptionSpecs = {
  rounds: { type: 'int', min: 2, max: 1000, arg: 'N', help: 'rounds at most, the full copy included (default 10)' },
  threshold: { type: 'int', min: 0, arg: 'P', help: 'stop once a round sends fewer than P pages (default 64)' },
  mode: { type: 'string', arg: 'M', help: `collection: ${DIRTY_LOG_MODES.join(', ')} (default bitmap)` },
  link: { type: 'number', min: 1, max: 1_000_000, arg: 'MiB/s', help: 'simulated link speed: a round lasts its pages / link (default 256)' },
  warmup: { type: 'number', min: 0, max: 60_000, arg: 'MS', help: 'let the guest run MS ms before round 1 (default 100)' },
  vcpus: { type: 'int', min: 1, max: 8, arg: 'N', help: 'number of vCPUs (default 4)' },
  mem: { type: 'int', min: 1, max: 1024, arg: 'MiB', help: 'guest RAM in MiB (default 64)' },
  set: { type: 'string', arg: 'SYM=V,...', help: 'patch guest words before it starts (e.g. max_iterations=0)' },
};

export const MIGRATE_HELP = `usage: webkvm migrate <prog.elf|prog.S|guest> [options]

Live migration's pre-copy loop against the running guest; prints the pages
sent per round and whether the loop converged.

options:
${formatOptions(OPTIONS)}

example:
  webkvm migrate dirty --set max_iterations=0 --rounds 8 --threshold 100`;

/** Pages of slot 0 backed by a host page. */
function backedPages(vmm: Vmm): number {
  const n = vmm.vm.memslots[MEMSLOT_NPAGES]!;
  const base = vmm.vm.memslots[MEMSLOT_TABLE_BASE]!;
  let count = 0;
  for (let i = 0; i < n; i++) if (Atomics.load(vmm.vm.gfnTable, base + i) !== 0) count++;
  return count;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function migrateCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  if (positional.length !== 1) throw new UsageError('migrate takes one program: webkvm migrate dirty');
  const mode = ((options.mode as string | undefined) ?? 'bitmap') as DirtyLogMode;
  if (!DIRTY_LOG_MODES.includes(mode)) throw new KvmError('EINVAL', `--mode must be one of ${DIRTY_LOG_MODES.join(', ')}, got '${mode}'`);
  const link = (options.link as number | undefined) ?? 256;
  const loop = new PrecopyLoop({ maxRounds: (options.rounds as number | undefined) ?? 10, threshold: (options.threshold as number | undefined) ?? 64 });
  const prog = await readProgram(positional[0]!);
  const vcpus = (options.vcpus as number | undefined) ?? 4;
  const { vmm } = await createLoadedVm(prog, { vcpus, memMiB: (options.mem as number | undefined) ?? 64, sets: parseSets(options.set as string | undefined) });
  try {
    const dirty = new VmDirtyControl(vmm);
    dirty.setMode(mode, true);
    vmm.setDirtyLogging(true);
    process.stdout.write(`migrate: ${prog.name} on ${vcpus} vCPU${vcpus === 1 ? '' : 's'}, mode ${mode}, link ${link} MiB/s, ` +
      `stop below ${loop.opts.threshold} pages or after ${loop.opts.maxRounds} rounds\n`);
    vmm.run();
    await sleep((options.warmup as number | undefined) ?? 100);
    dirty.collect(); // round 1 starts from a clean log
    let sent = backedPages(vmm);
    const width = Math.max(1, sent);
    const line = () => {
      const r = loop.rounds[loop.rounds.length - 1]!;
      const bar = '#'.repeat(Math.max(r.pages > 0 ? 1 : 0, Math.round((40 * r.pages) / width)));
      const kind = r.kind === 'full' ? ' (full copy)' : r.kind === 'stop-and-copy' ? ' (stop and copy)' : '';
      process.stdout.write(`round ${String(r.round).padStart(3)}: ${String(r.pages).padStart(7)} pages ${bar}${kind}\n`);
    };
    let more = loop.record(sent);
    line();
    while (more) {
      await sleep(transferMs(sent, link));
      sent = bitmapWeight(dirty.collect());
      more = loop.record(sent);
      line();
    }
    process.stdout.write(`${loop.summary()}\n`);
    const exit = vmm.exitInfo();
    process.stdout.write(exit ? `guest: ended during the migration (${exit.message ?? `code ${exit.code}`})\n` : 'guest: still running\n');
    vmm.pause();
    return EXIT_OK;
  } finally {
    await vmm.destroy();
  }
}
