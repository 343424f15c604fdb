// `webkvm torture`: dirty_log_test against the real workers. The dirty guest
// writes iteration numbers on N vCPUs while this process collects the dirty
// log (bitmap, clear or ring mode) and checks every collection against guest
// memory; the loop itself is src/kvm/torture-run.ts, shared with the app's
// Torture panel. Each collection is one check: it passes when no written page
// is missing from the log. `--host-ops` swaps out, KSM-merges and migrates
// pages of the written region meanwhile; `--unsafe NAME` switches one
// protection off to show the loss it prevents (docs/torture.md).
import { formatOptions, parseArgs, type OptionSpecs } from './args.ts';
import { EXIT_OK } from './exit-codes.ts';
import { Vmm } from '../kvm/vmm.ts';
import { spawnVcpuNode } from '../../workers/node-spawn.ts';
import { DIRTY_LOG_MODES, type DirtyLogMode } from '../kvm/dirty-collector.ts';
import { MAX_NAMED, TortureRun, checkTortureOptions, type TortureOptions } from '../kvm/torture-run.ts';
import { unsafeBitsByName, UNSAFE_HELP } from '../kvm/unsafe.ts';
import { KvmError } from '../kvm/errors.ts';

const OPTIONS: OptionSpecs = {
  vcpus: { type: 'int', min: 1, max: 8, arg: 'N', help: 'vCPUs writing (default 4)' },
  seconds: { type: 'number', min: 0.1, max: 3600, arg: 'S', help: 'how long to run (default 5)' },
  mode: { type: 'string', arg: 'M', help: `collection: ${DIRTY_LOG_MODES.join(', ')} (default bitmap)` },
  pages: { type: 'int', min: 1, max: 1024, arg: 'N', help: 'pages each vCPU writes (default 64)' },
  interval: { type: 'number', min: 0, max: 1000, arg: 'MS', help: 'pause between collections (default 2)' },
  'host-ops': { type: 'flag', help: 'swap out, KSM-merge and migrate written pages meanwhile' },
  unsafe: { type: 'string', arg: 'NAME', help: 'switch one protection off (see below)' },
};

/** Switches whose loss the dirty-log check itself can see; the others have targeted tests. */
const TORTURE_DETECTS = new Set(['no-flush']);
/** Switches whose targeted replay is a race-lab scenario (`webkvm race NAME --unsafe`). */
const RACE_REPLAY: Record<string, string> = {
  'no-notifier-retry': 'notifier-vs-slow-fault', 'no-entry-order': 'dekker-entry', 'no-walk-mode': 'walk-vs-free',
};

export const TORTURE_HELP = `usage: webkvm torture [options]\n\noptions:\n${formatOptions(OPTIONS)}\n\n` +
  `--unsafe NAME, one of:\n${unsafeTable()}\n` +
  `(the dirty-log check detects no-flush; the others are shown by targeted replays: test/kvm/unsafe-*.test.ts ` +
  `and 'webkvm race ${Object.values(RACE_REPLAY).join('|')} --unsafe'; see docs/torture.md)`;

/** One line a switch, the descriptions in one column however long the longest name. */
function unsafeTable(): string {
  const width = Math.max(...Object.keys(UNSAFE_HELP).map((n) => n.length)) + 2;
  return Object.entries(UNSAFE_HELP).map(([n, h]) => `  ${n.padEnd(width)}${h}`).join('\n');
}

export async function tortureCommand(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv, OPTIONS);
  const vcpus = (options.vcpus as number | undefined) ?? 4;
  const seconds = (options.seconds as number | undefined) ?? 5;
  const mode = ((options.mode as string | undefined) ?? 'bitmap') as DirtyLogMode;
  if (!DIRTY_LOG_MODES.includes(mode)) throw new KvmError('EINVAL', `--mode must be one of ${DIRTY_LOG_MODES.join(', ')}, got '${mode}'`);
  const unsafeArg = options.unsafe as string | undefined;
  const opts: TortureOptions = {
    mode,
    pages: (options.pages as number | undefined) ?? 64,
    intervalMs: (options.interval as number | undefined) ?? 2,
    hostOps: options['host-ops'] === true,
    unsafe: unsafeArg === undefined ? 0 : unsafeBitsByName(unsafeArg),
    durationMs: seconds * 1000,
  };
  checkTortureOptions(opts);

  const vmm = await Vmm.create({ memBytes: 64 << 20, vcpus }, spawnVcpuNode);
  try {
    const run = new TortureRun(vmm, opts);
    await run.start();
    const out = (s: string) => process.stdout.write(s + '\n');
    out(`torture: ${vcpus} vCPUs x ${opts.pages} pages, mode ${mode}${opts.hostOps ? ', host ops' : ''}` +
      `${unsafeArg ? `, UNSAFE ${unsafeArg}` : ''}, ${seconds} s`);
    if (unsafeArg && !TORTURE_DETECTS.has(unsafeArg)) {
      // Switches with no test/kvm/unsafe-*.test.ts: their targeted replay is the race lab's.
      const race = RACE_REPLAY[unsafeArg];
      const replay = race !== undefined ? `'webkvm race ${race} --unsafe'`
        : `test/kvm/unsafe-${unsafeArg === 'no-mode-order' ? 'mode-order' : unsafeArg}.test.ts`;
      out(`torture: note: the dirty-log check cannot see what '${unsafeArg}' loses; ${replay} replays it`);
    }
    let named = 0;
    const c = await run.loop((p) => {
      if (named++ < MAX_NAMED) out(`LOST gfn 0x${p.gfn.toString(16)} (gpa 0x${p.gpa.toString(16)}): written, never in the dirty log`);
    });
    vmm.pause();
    const st = vmm.stats(seconds);
    const fast = st.vcpus.reduce((a, v) => a + v.faults.fast_fixed, 0);
    out(`torture: ${c.collections} collections, ${c.reportedPages} dirty pages collected, ${fast} fast page faults, ` +
      `${st.remote_tlb_flushes.by_cause['dirty log']} dirty-log TLB flushes`);
    if (opts.hostOps) {
      const h = c.host;
      out(`host ops: ${h.swapOut} swap-outs, ${h.ksmMerge} KSM merges, ${h.migrate} migrations, ${h.skipped} skipped`);
    }
    if (c.lostPages > MAX_NAMED) out(`... and ${c.lostPages - MAX_NAMED} more lost pages`);
    out(`${c.passed} passed, ${c.failed} failed`);
    return c.failed === 0 ? EXIT_OK : 1;
  } finally {
    await vmm.destroy();
  }
}
