// `webkvm stat`: kvm_stat for one guest. Runs the program as `webkvm run`
// would and, every --interval seconds, prints the KVM counters kept in `hv`
// (src/kvm/stats.ts): per VM with their rate over the interval, and per vCPU
// (instructions, fast and slow faults, TLB flushes, exits). --json prints one
// JSON object per line instead, for scripts.
import { formatOptions, parseArgs, type OptionSpecs } from './args.ts';
import { EXIT_OK } from './exit-codes.ts';
import { OBSERVE_OPTIONS, startObserved, type ObservedVm } from './observe.ts';
import { exitCodeFor } from './run.ts';
import type { ExitInfo } from '../kvm/vmm.ts';
import { collectStats, type VmStats } from '../kvm/stats.ts';
import { EXITK_LIMIT } from '../kvm/vcpu-ctl.ts';

const OPTIONS: OptionSpecs = {
  ...OBSERVE_OPTIONS,
  interval: { type: 'number', min: 0.05, max: 3600, arg: 'S', help: 'seconds between reports (default 1)' },
  count: { type: 'int', min: 1, arg: 'N', help: 'stop after N reports' },
  json: { type: 'flag', help: 'one JSON object per report, one per line' },
  all: { type: 'flag', help: 'also list VM counters that are still 0' },
};

export const STAT_HELP = `usage: webkvm stat <prog.elf|prog.S|guest> [options]

Runs the program and prints KVM's counters every --interval seconds, like
kvm_stat: per VM (total and per second over the interval) and per vCPU.
Stops when the guest exits, after --count reports, --timeout seconds, or Ctrl-C.

options:
${formatOptions(OPTIONS)}

example:
  webkvm stat dirty --vcpus 4 --set max_iterations=0 --collect 100 --timeout 3

exit codes: as 'webkvm run' when the guest ends by itself; 0 when stat stops it.`;

/** One report: totals now, and rates over the interval since the previous one. */
export interface StatReport {
  t: number;
  interval: number;
  vm: Record<string, number>;
  rate: Record<string, number>;
  flushes_by_cause: Record<string, number>;
  locks: Record<string, { acquired: number; contended: number; wait_ns: number; max_wait_ns: number; hold_ns: number; max_hold_ns: number }>;
  vcpus: VcpuRow[];
  dirty_log: { collections: number; pages: number };
}

interface VcpuRow {
  vcpu: number;
  instructions: number;
  mips: number;
  fast_pf_fixed: number;
  fast_pf_failed: number;
  slow_pf: number;
  guest_pf: number;
  tlb_flush: number;
  exits: number;
}

/** kvm_stat's VM-wide figures plus the flushes by cause, as one flat name -> total map. */
function vmCounters(st: VmStats): Record<string, number> {
  const out: Record<string, number> = { ...st.kvm_stat };
  for (const [cause, n] of Object.entries(st.remote_tlb_flushes.by_cause)) out[`remote_tlb_flush_${cause.replace(/[^a-z0-9]+/g, '_')}`] = n;
  out['remote_tlb_flush_wait_us_max'] = st.remote_tlb_flushes.wait_us_max;
  return out;
}

/** Build a report from a stats snapshot and the previous report's totals. */
export function makeReport(st: VmStats, prev: Record<string, number> | null, t: number, interval: number,
  collections: { count: number; pages: number }): StatReport {
  const vm = vmCounters(st);
  const rate: Record<string, number> = {};
  for (const [k, v] of Object.entries(vm)) {
    // Maxima are not rates; counters only go up (uint32 wrap aside).
    if (k.endsWith('_max')) continue;
    const d = prev && prev[k] !== undefined ? (v - prev[k]!) : v;
    rate[k] = interval > 0 ? Math.round((d >= 0 ? d : v) / interval) : 0;
  }
  const locks: StatReport['locks'] = {};
  for (const [name, l] of Object.entries(st.locks)) {
    locks[name] = { acquired: l.acquired, contended: l.contended, wait_ns: l.waitNs, max_wait_ns: l.maxWaitNs, hold_ns: l.holdNs, max_hold_ns: l.maxHoldNs };
  }
  return {
    t: round3(t),
    interval: round3(interval),
    vm,
    rate,
    flushes_by_cause: st.remote_tlb_flushes.by_cause,
    locks,
    vcpus: st.vcpus.map((v, i) => ({
      vcpu: i,
      instructions: v.instructions,
      mips: v.mips,
      fast_pf_fixed: v.faults.fast_fixed,
      fast_pf_failed: v.faults.fast_failed,
      slow_pf: v.faults.slow,
      guest_pf: v.faults.guest,
      tlb_flush: v.tlb_flushes,
      exits: Object.values(v.exits).reduce((a, b) => a + b, 0),
    })),
    dirty_log: { collections: collections.count, pages: collections.pages },
  };
}

const VCPU_COLUMNS: [keyof VcpuRow, string][] = [
  ['vcpu', 'vCPU'], ['instructions', 'insns'], ['mips', 'MIPS'], ['fast_pf_fixed', 'fast_pf'], ['fast_pf_failed', 'fast_fail'],
  ['slow_pf', 'slow_pf'], ['guest_pf', 'guest_pf'], ['tlb_flush', 'tlb_flush'], ['exits', 'exits'],
];

/** The report as kvm_stat-style text. */
export function formatReport(r: StatReport, all: boolean): string {
  const lines: string[] = [];
  lines.push(`── ${r.t.toFixed(2)} s ${'─'.repeat(40)}`);
  const names = Object.keys(r.vm).filter((k) => all || r.vm[k] !== 0);
  const w = Math.max(24, ...names.map((n) => n.length));
  lines.push(`${'VM counter'.padEnd(w)} ${'total'.padStart(12)} ${'per s'.padStart(10)}`);
  for (const n of names) {
    const rate = r.rate[n];
    lines.push(`${n.padEnd(w)} ${String(r.vm[n]).padStart(12)} ${(rate === undefined ? '' : String(rate)).padStart(10)}`);
  }
  if (r.dirty_log.collections > 0) lines.push(`${'GET_DIRTY_LOG by --collect'.padEnd(w)} ${String(r.dirty_log.collections).padStart(12)} (${r.dirty_log.pages} pages)`);
  const widths = VCPU_COLUMNS.map(([k, label]) => Math.max(label.length, ...r.vcpus.map((v) => String(v[k]).length)));
  lines.push(VCPU_COLUMNS.map(([, label], i) => label.padStart(widths[i]!)).join('  '));
  for (const v of r.vcpus) lines.push(VCPU_COLUMNS.map(([k], i) => String(v[k]).padStart(widths[i]!)).join('  '));
  return lines.join('\n') + '\n';
}

export async function statCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  const interval = (options.interval as number | undefined) ?? 1;
  const count = options.count as number | undefined;
  const json = options.json === true;
  const obs = await startObserved(positional, options, 'stat');
  try {
    if (!json) {
      process.stdout.write(`webkvm stat: ${obs.name} on ${obs.vmm.vcpus} vCPU${obs.vmm.vcpus === 1 ? '' : 's'}, every ${interval} s\n`);
    }
    const exit = await reportLoop(obs, interval, count, (r) =>
      process.stdout.write(json ? JSON.stringify(r) + '\n' : formatReport(r, options.all === true)));
    return exit && exit.kind !== EXITK_LIMIT ? exitCodeFor(exit) : EXIT_OK;
  } finally {
    await obs.destroy();
  }
}

/** Report every `interval` s until the guest exits or a limit is reached; a last report at the end. */
async function reportLoop(obs: ObservedVm, interval: number, count: number | undefined,
  emit: (r: StatReport) => void): Promise<ExitInfo | undefined> {
  let prev: Record<string, number> | null = null;
  let lastT = 0;
  let reports = 0;
  let next = interval;
  const report = () => {
    const t = obs.elapsed();
    const r = makeReport(collectStats(obs.vmm.vm, t), prev, t, t - lastT, obs.collections);
    prev = r.vm;
    lastT = t;
    reports++;
    emit(r);
  };
  for (;;) {
    const exit = await obs.wait(Math.max(1, (next - obs.elapsed()) * 1000));
    if (exit) {
      if (obs.elapsed() - lastT > 0.001 || reports === 0) report();
      return exit;
    }
    if (obs.elapsed() >= next) {
      report();
      next += interval;
      if (next <= obs.elapsed()) next = obs.elapsed() + interval; // fell behind: no burst of reports
      if (count !== undefined && reports >= count) return undefined;
    }
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
