// `webkvm run`: load a program, run it on N vCPU workers, connect the console
// to stdin/stdout, and turn the way the guest ended into an exit code.
import { formatOptions, parseArgs, UsageError, type OptionSpecs } from './args.ts';
import { EXIT_BAD_INPUT, EXIT_GUEST_TRAP, EXIT_HANG, EXIT_INTERNAL, EXIT_OK, guestExitCode } from './exit-codes.ts';
import { readProgram } from './program.ts';
import { parseSets } from './observe.ts';
import { Vmm, type ExitInfo } from '../kvm/vmm.ts';
import { spawnVcpuNode } from '../../workers/node-spawn.ts';
import { EXITK_HTIF, EXITK_INTERNAL, EXITK_LIMIT, EXITK_REBOOT, EXITK_SHUTDOWN, EXITK_TRAP } from '../kvm/vcpu-ctl.ts';
import { formatTrace } from './trace.ts';
import { causeName } from '../cpu/causes.ts';

const OPTIONS: OptionSpecs = {
  vcpus: { type: 'int', min: 1, max: 8, arg: 'N', help: 'number of vCPUs (1-8, default 1)' },
  mem: { type: 'int', min: 1, max: 1024, arg: 'MiB', help: 'guest RAM in MiB (default 64)' },
  'max-insns': { type: 'int', min: 1, arg: 'N', help: 'stop when any vCPU has retired N instructions (exit 124)' },
  timeout: { type: 'number', min: 0.001, arg: 'S', help: 'stop after S seconds of wall time (exit 124)' },
  stats: { type: 'flag', help: 'print one JSON line of statistics on stderr at the end' },
  trace: { type: 'int', min: 1, arg: 'N', help: 'print the first N instructions vCPU 0 executes, on stderr' },
  param: { type: 'string', arg: 'NAME=V,...', help: "set a built-in guest's parameters (webkvm guests lists them)" },
};

export const RUN_HELP = `usage: webkvm run <prog.elf|prog.S|guest> [options]

options:
${formatOptions(OPTIONS)}

exit codes:
  0        the guest exited with success (HTIF code 0, SBI shutdown)
  1-119    the guest's own exit code (HTIF code; SBI shutdown with system failure = 1)
  124      hang: --max-insns or --timeout reached
  125      bad input (options, file, ELF, assembly)
  126      a guest trap with no working handler
  127      internal error`;

export async function runCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  if (positional.length !== 1) throw new UsageError('run takes one program: webkvm run prog.elf');
  const prog = await readProgram(positional[0], parseSets(options.param as string | undefined, '--param'));
  const vcpus = (options.vcpus as number | undefined) ?? 1;
  const memMiB = (options.mem as number | undefined) ?? 64;
  const vmm = await Vmm.create({ memBytes: memMiB * 1024 * 1024, vcpus }, spawnVcpuNode);
  try {
    vmm.loadElf(prog.elf, prog.name);
    vmm.setLimits({ maxInsns: options['max-insns'] as number | undefined, trace: options.trace as number | undefined });
    const t0 = performance.now();
    vmm.run();
    const exit = await pumpUntilExit(vmm, options.timeout as number | undefined);
    const secs = (performance.now() - t0) / 1000;
    drainConsole(vmm);
    if (options.trace) process.stderr.write(formatTrace(vmm.traceEntries(), vmm.symbols()));
    if (options.stats) process.stderr.write(JSON.stringify(vmm.stats(secs)) + '\n');
    return exitCodeFor(exit);
  } finally {
    await vmm.destroy();
  }
}

/** Forward the console both ways until the guest exits or the timeout passes. */
async function pumpUntilExit(vmm: Vmm, timeoutS: number | undefined): Promise<ExitInfo> {
  const deadline = timeoutS === undefined ? Infinity : performance.now() + timeoutS * 1000;
  const stopInput = connectStdin(vmm);
  try {
    for (;;) {
      drainConsole(vmm);
      const exit = vmm.exitInfo();
      if (exit) return exit;
      if (performance.now() >= deadline) {
        vmm.pause();
        return { kind: EXITK_LIMIT, code: 0, vcpu: -1, pc: 0, cause: 0, tval: 0, message: `timeout after ${timeoutS} s` };
      }
      await vmm.waitForExit(5);
    }
  } finally {
    stopInput();
  }
}

function drainConsole(vmm: Vmm): void {
  const bytes = vmm.readConsole();
  if (bytes.length) process.stdout.write(bytes);
}

function connectStdin(vmm: Vmm): () => void {
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  const onData = (d: Buffer) => vmm.writeConsole(new Uint8Array(d));
  stdin.on('data', onData);
  stdin.on('error', () => {});
  return () => {
    stdin.off('data', onData);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    stdin.unref?.();
  };
}

export function exitCodeFor(exit: ExitInfo): number {
  const where = exit.vcpu >= 0 ? ` on vCPU ${exit.vcpu} at pc 0x${(exit.pc >>> 0).toString(16)}` : '';
  switch (exit.kind) {
    case EXITK_HTIF:
    case EXITK_SHUTDOWN:
      if (exit.code !== 0) process.stderr.write(`webkvm: guest exited with code ${exit.code}${where}\n`);
      return guestExitCode(exit.code);
    case EXITK_REBOOT:
      process.stderr.write(`webkvm: guest asked for a reboot${where}; stopping\n`);
      return EXIT_OK;
    case EXITK_TRAP:
      process.stderr.write(
        `webkvm: guest trap with no handler${where}: cause ${exit.cause} (${causeName(exit.cause)}), ` +
          `tval 0x${(exit.tval >>> 0).toString(16)}; ${exit.message ?? 'no handler'}\n`,
      );
      return EXIT_GUEST_TRAP;
    case EXITK_LIMIT:
      process.stderr.write(`webkvm: guest did not exit: ${exit.message ?? 'instruction limit reached'}${where}\n`);
      return EXIT_HANG;
    case EXITK_INTERNAL:
      process.stderr.write(`webkvm: internal error${where}: ${exit.message ?? 'a vCPU worker failed'}\n`);
      return EXIT_INTERNAL;
    default:
      process.stderr.write(`webkvm: unknown exit kind ${exit.kind}\n`);
      return EXIT_BAD_INPUT;
  }
}
