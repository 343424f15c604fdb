// `webkvm hostmem`: run a guest and do host memory operations to it at given
// times, as the host kernel would behind KVM's back (src/kvm/host-ops.ts):
//   --host-op swap:GFN@MS          swap the page out
//   --host-op merge:G1,G2@MS       KSM-merge two identical pages (read-only shared)
//   --host-op migrate:GFN@MS       move the page to another host page
//   --host-op swap-random:N@MS     swap out N random resident pages (kswapd)
//   --host-op merge-all@MS         one ksmd pass: merge every identical page
// MS is milliseconds after the guest starts (default 0); the option repeats.
// Each operation prints one line with its result or its errno, and the end
// prints the host-op and MMU-notifier counters. Exit 1 if an operation failed.
import { formatOptions, parseArgs, UsageError, type OptionSpecs } from './args.ts';
import { EXIT_OK } from './exit-codes.ts';
import { OBSERVE_OPTIONS, startObserved, type ObservedVm } from './observe.ts';
import { exitCodeFor } from './run.ts';
import { KvmError } from '../kvm/errors.ts';
import {
  FLUSH_CAUSE_MMU_NOTIFIER, HOSTOP_KSM_COW_COPIES, HOSTOP_KSM_COW_REUSES, HOSTOP_KSM_MERGES, HOSTOP_MIGRATIONS,
  STAT_FLUSH_CAUSE, STAT_NOTIFIER_INVALIDATE, SWAP_INS, SWAP_OUTS,
} from '../kvm/fields.ts';
import { KSM_MERGES_PER_PASS, kvmKsmMergeIdentical, kvmSwapOutRandom } from '../kvm/host-bulk.ts';
import type { Vmm } from '../kvm/vmm.ts';
import { EXITK_LIMIT } from '../kvm/vcpu-ctl.ts';

const OPTIONS: OptionSpecs = {
  ...OBSERVE_OPTIONS,
  'host-op': { type: 'string', arg: 'OP@MS', help: 'swap:GFN, merge:G1,G2, migrate:GFN, swap-random:N or merge-all, at MS ms (repeatable)' },
  after: { type: 'number', min: 0, max: 600_000, arg: 'MS', help: 'keep the guest running MS ms after the last operation (default 200)' },
};

export const HOSTMEM_HELP = `usage: webkvm hostmem <prog.elf|prog.S|guest> --host-op OP@MS [--host-op ...] [options]

Runs the program and performs host memory operations on its pages while the
vCPUs run, through the MMU-notifier protocol; prints each result, then the
counters. GFN: a guest frame number, hex (0x80100) or decimal.

options:
${formatOptions(OPTIONS)}

example:
  webkvm hostmem dirty --vcpus 4 --set max_iterations=0 \\
    --host-op swap:0x80100@50 --host-op merge-all@100 --host-op migrate:0x80101@150`;

interface HostOp {
  kind: 'swap' | 'merge' | 'migrate' | 'swap-random' | 'merge-all';
  args: number[];
  at: number;
  text: string;
}

function num(s: string, what: string, op: string): number {
  const t = s.trim().toLowerCase();
  const v = /^0x[0-9a-f]+$/.test(t) ? parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(v)) throw new UsageError(`--host-op '${op}': ${what} '${s}' is not a number (hex 0x... or decimal)`);
  return v;
}

/** Parse one --host-op value. */
function parseHostOp(text: string): HostOp {
  const m = /^([a-z-]+)(?::([^@]*))?(?:@(.*))?$/.exec(text.trim());
  if (!m) throw new UsageError(`--host-op '${text}': expected OP[:ARGS][@MS]`);
  const [, kind, rawArgs = '', rawAt] = m;
  const at = rawAt === undefined ? 0 : num(rawAt, 'time', text);
  const args = rawArgs === '' ? [] : rawArgs.split(',').map((a) => num(a, 'argument', text));
  const want: Record<string, number> = { swap: 1, merge: 2, migrate: 1, 'swap-random': 1, 'merge-all': 0 };
  if (!(kind! in want)) throw new UsageError(`--host-op '${text}': unknown operation '${kind}' (swap, merge, migrate, swap-random, merge-all)`);
  if (args.length !== want[kind!]) throw new UsageError(`--host-op '${text}': ${kind} takes ${want[kind!]} argument${want[kind!] === 1 ? '' : 's'}`);
  return { kind: kind as HostOp['kind'], args, at, text };
}

/** Take every `--name value` / `--name=value` out of argv (parseArgs keeps only the last). */
function takeRepeated(argv: string[], name: string): { values: string[]; rest: string[] } {
  const values: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`option '--${name}' needs a value`);
      values.push(v);
    } else if (a.startsWith(`--${name}=`)) values.push(a.slice(name.length + 3));
    else rest.push(a);
  }
  return { values, rest };
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** Perform one operation; the result as words. Throws KvmError on failure. */
function performHostOp(vmm: Vmm, op: HostOp): string {
  const [a = 0, b = 0] = op.args;
  switch (op.kind) {
    case 'swap':
      return vmm.swapOutPage(a) ? `swap gfn ${hex(a)}: swapped out` : `swap gfn ${hex(a)}: not resident, nothing done`;
    case 'merge':
      return vmm.ksmMergePages(a, b) ? `merge gfns ${hex(a)},${hex(b)}: merged (one read-only host page)` : `merge gfns ${hex(a)},${hex(b)}: already shared`;
    case 'migrate': {
      const pfn = vmm.migratePage(a);
      return pfn < 0 ? `migrate gfn ${hex(a)}: not resident, nothing done` : `migrate gfn ${hex(a)}: moved to host pfn ${hex(pfn)}`;
    }
    case 'swap-random': {
      const r = kvmSwapOutRandom(vmm.kvm, a);
      return `swap-random ${a}: ${r.done} swapped out${r.stoppedBy ? ` (stopped: ${r.stoppedBy})` : ''}`;
    }
    default: {
      const r = kvmKsmMergeIdentical(vmm.kvm);
      return `merge-all: ${r.considered} resident pages scanned, ${r.done} merged` +
        (r.done >= KSM_MERGES_PER_PASS ? ` (a pass merges at most ${KSM_MERGES_PER_PASS}, like ksmd's pages_to_scan)` : '');
    }
  }
}

/** The host-op and notifier counters, one line. */
function hostCounters(vmm: Vmm): string {
  const sm = vmm.vm.view('swap-map');
  const st = vmm.vm.stats;
  const u = (v: number | undefined) => (v ?? 0) >>> 0;
  return `swap-outs ${u(sm[SWAP_OUTS])}, swap-ins ${u(sm[SWAP_INS])}, KSM merges ${u(sm[HOSTOP_KSM_MERGES])}, ` +
    `CoW copies ${u(sm[HOSTOP_KSM_COW_COPIES])}, CoW reuses ${u(sm[HOSTOP_KSM_COW_REUSES])}, migrations ${u(sm[HOSTOP_MIGRATIONS])}, ` +
    `notifier invalidations ${u(st[STAT_NOTIFIER_INVALIDATE])}, notifier TLB flushes ${u(st[STAT_FLUSH_CAUSE + FLUSH_CAUSE_MMU_NOTIFIER])}`;
}

export async function hostmemCommand(argv: string[]): Promise<number> {
  const { values, rest } = takeRepeated(argv, 'host-op');
  const { positional, options } = parseArgs(rest, OPTIONS);
  if (values.length === 0) throw new UsageError('hostmem needs at least one --host-op OP@MS');
  const ops = values.map(parseHostOp).sort((x, y) => x.at - y.at);
  const after = (options.after as number | undefined) ?? 200;
  const obs: ObservedVm = await startObserved(positional, options, 'hostmem');
  let failed = 0;
  try {
    process.stdout.write(`hostmem: ${obs.name} on ${obs.vmm.vcpus} vCPU${obs.vmm.vcpus === 1 ? '' : 's'}, ${ops.length} host operation${ops.length === 1 ? '' : 's'}\n`);
    let exit = undefined;
    for (const op of ops) {
      while (!exit && obs.elapsed() * 1000 < op.at) exit = await obs.wait(op.at - obs.elapsed() * 1000);
      const at = Math.round(obs.elapsed() * 1000);
      try {
        process.stdout.write(`@${at} ms ${performHostOp(obs.vmm, op)}\n`);
      } catch (e) {
        if (!(e instanceof KvmError)) throw e;
        failed++;
        process.stdout.write(`@${at} ms ${op.text}: ${e.message}\n`);
      }
    }
    const end = obs.elapsed() * 1000 + after;
    while (!exit && obs.elapsed() * 1000 < end) exit = await obs.wait(end - obs.elapsed() * 1000);
    process.stdout.write(`hostmem: ${hostCounters(obs.vmm)}\n`);
    if (!exit || exit.kind === EXITK_LIMIT) {
      obs.vmm.pause();
      process.stdout.write('guest: still running when hostmem stopped it\n');
      return failed ? 1 : EXIT_OK;
    }
    process.stdout.write(`guest: ended (${exit.message ?? `code ${exit.code}`})\n`);
    const code = exitCodeFor(exit);
    return code !== EXIT_OK ? code : failed ? 1 : EXIT_OK;
  } finally {
    await obs.destroy();
  }
}
