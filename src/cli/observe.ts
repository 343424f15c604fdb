// Running a guest to watch it: the part `webkvm stat` and `webkvm events`
// share. It takes the same program argument as `webkvm run` (a built-in
// guest's name, a .S file or an ELF), can patch the guest's data words
// (--set, e.g. the dirty guest's max_iterations=0 to run forever), switch
// dirty logging on and collect the log every N ms, so the counters and events
// of the locking.txt mechanisms appear without writing a host program.
import { UsageError, type OptionSpecs, type ParsedOptions } from './args.ts';
import { readProgram, type ProgramBytes } from './program.ts';
import { bitmapWeight } from '../kvm/bitops.ts';
import { KvmError } from '../kvm/errors.ts';
import { writeGuestWord } from '../kvm/guest-mem.ts';
import { Vmm, type ExitInfo } from '../kvm/vmm.ts';
import { EXITK_LIMIT } from '../kvm/vcpu-ctl.ts';
import { spawnVcpuNode } from '../../workers/node-spawn.ts';

export const OBSERVE_OPTIONS: OptionSpecs = {
  vcpus: { type: 'int', min: 1, max: 8, arg: 'N', help: 'number of vCPUs (1-8, default 1)' },
  mem: { type: 'int', min: 1, max: 1024, arg: 'MiB', help: 'guest RAM in MiB (default 64)' },
  timeout: { type: 'number', min: 0.001, arg: 'S', help: 'stop after S seconds (default: when the guest exits or on Ctrl-C)' },
  set: { type: 'string', arg: 'SYM=V,...', help: "patch guest words before it starts (e.g. max_iterations=0)" },
  'dirty-log': { type: 'flag', help: 'turn dirty logging on for the RAM slot before the guest starts' },
  collect: { type: 'number', min: 1, max: 60_000, arg: 'MS', help: 'GET_DIRTY_LOG every MS ms (implies --dirty-log)' },
  console: { type: 'flag', help: "copy the guest's console output to stderr" },
};

export interface ObservedVm {
  readonly vmm: Vmm;
  readonly name: string;
  /** Seconds since the guest started. */
  elapsed(): number;
  /**
   * Wait up to `ms` for something to happen; returns how the guest ended, a
   * LIMIT exit when --timeout passed or Ctrl-C was pressed, else undefined.
   */
  wait(ms: number): Promise<ExitInfo | undefined>;
  /** Collections made by --collect so far and the pages they returned. */
  readonly collections: { count: number; pages: number };
  destroy(): Promise<void>;
}

/** Parse "a=1,b=0x20" into pairs; every problem is a usage error naming the part. */
export function parseSets(spec: string | undefined, option = '--set'): [string, number][] {
  if (spec === undefined) return [];
  const noun = option === '--set' ? 'SYMBOL' : 'NAME';
  return spec.split(',').filter((s) => s.trim() !== '').map((part) => {
    const m = /^\s*([A-Za-z_.$][\w.$]*)\s*=\s*(-?(?:0x[0-9a-fA-F]+|\d+))\s*$/.exec(part);
    if (!m) throw new UsageError(`${option} expects ${noun}=NUMBER[,${noun}=NUMBER...], got '${part}'`);
    const raw = m[2]!;
    const value = raw.startsWith('-') ? -Number(raw.slice(1)) : Number(raw);
    if (!Number.isSafeInteger(value) || value < -(2 ** 31) || value >= 2 ** 32) {
      throw new UsageError(`${option} ${m[1]}: ${m[2]} does not fit in a 32-bit word`);
    }
    return [m[1]!, value | 0];
  });
}

/** A VM with the program loaded and its --set words (parseSets) patched, vCPUs not started. */
export async function createLoadedVm(
  prog: ProgramBytes, opts: { vcpus: number; memMiB: number; sets: [string, number][] },
): Promise<{ vmm: Vmm; symbols: Map<string, number> }> {
  const vmm = await Vmm.create({ memBytes: opts.memMiB * 1024 * 1024, vcpus: opts.vcpus }, spawnVcpuNode);
  try {
    const loaded = vmm.loadElf(prog.elf, prog.name);
    for (const [sym, value] of opts.sets) {
      const addr = loaded.symbols.get(sym);
      if (addr === undefined) throw new KvmError('EINVAL', `--set: ${prog.name} has no symbol '${sym}'`);
      if (!writeGuestWord(vmm.vm, addr, value)) throw new KvmError('EFAULT', `--set: ${sym} at 0x${(addr >>> 0).toString(16)} is not in guest RAM`);
    }
    return { vmm, symbols: loaded.symbols };
  } catch (e) {
    await vmm.destroy();
    throw e;
  }
}

/** Load the program, apply --set and --dirty-log, start the vCPUs. */
export async function startObserved(positional: string[], options: ParsedOptions, command: string): Promise<ObservedVm> {
  if (positional.length !== 1) throw new UsageError(`${command} takes one program: webkvm ${command} dirty --vcpus 4`);
  const sets = parseSets(options.set as string | undefined);
  const prog = await readProgram(positional[0]!);
  const vcpus = (options.vcpus as number | undefined) ?? 1;
  const memMiB = (options.mem as number | undefined) ?? 64;
  const collectMs = options.collect as number | undefined;
  const timeoutS = options.timeout as number | undefined;
  const { vmm } = await createLoadedVm(prog, { vcpus, memMiB, sets });
  const collections = { count: 0, pages: 0 };
  let timer: ReturnType<typeof setInterval> | undefined;
  let interrupted = false;
  const onSigint = () => (interrupted = true);
  try {
    if (options['dirty-log'] || collectMs !== undefined) vmm.setDirtyLogging(true);
  } catch (e) {
    await vmm.destroy();
    throw e;
  }
  process.once('SIGINT', onSigint);
  const t0 = performance.now();
  vmm.run();
  if (collectMs !== undefined) {
    // GET_DIRTY_LOG from this thread, as a migration loop in QEMU's main loop would.
    timer = setInterval(() => {
      if (vmm.exitInfo()) return;
      collections.count++;
      collections.pages += bitmapWeight(vmm.getDirtyLog(0));
    }, collectMs);
  }
  const drain = () => {
    const bytes = vmm.readConsole();
    if (bytes.length && options.console) process.stderr.write(bytes);
  };
  const deadline = timeoutS === undefined ? Infinity : t0 + timeoutS * 1000;
  return {
    vmm,
    name: prog.name,
    collections,
    elapsed: () => (performance.now() - t0) / 1000,
    async wait(ms) {
      drain();
      const exit = vmm.exitInfo();
      if (exit) return exit;
      const now = performance.now();
      if (interrupted || now >= deadline) {
        return { kind: EXITK_LIMIT, code: 0, vcpu: -1, pc: 0, cause: 0, tval: 0, message: interrupted ? 'interrupted' : `timeout after ${timeoutS} s` };
      }
      await vmm.waitForExit(Math.max(1, Math.min(ms, deadline - now)));
      drain();
      return vmm.exitInfo();
    },
    async destroy() {
      if (timer !== undefined) clearInterval(timer);
      process.off('SIGINT', onSigint);
      drain();
      await vmm.destroy();
    },
  };
}
