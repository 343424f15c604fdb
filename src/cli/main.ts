// The `webkvm` command: run, asm, disasm, guests, bench.
// Every failure a user can cause ends in one clear line on stderr and a
// documented exit code (src/cli/exit-codes.ts), never a stack trace.
import { UsageError } from './args.ts';
import { EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK } from './exit-codes.ts';
import { KvmError } from '../kvm/errors.ts';

const HELP = `webkvm: a RISC-V VM that shows how Linux KVM virtualizes memory

usage:
  webkvm run <prog.elf|prog.S|guest> [options]   run a program; console on stdout
  webkvm asm <prog.S> -o <prog.elf>              assemble to an ELF32 executable
  webkvm disasm <prog.elf>                       disassemble an ELF's code
  webkvm torture [--mode bitmap|clear|ring] [--host-ops] [--unsafe NAME]
                                                 dirty_log_test on real workers: N passed, N failed
  webkvm stat <prog|guest> [--interval S] [--json]
                                                 kvm_stat: KVM counters per VM and per vCPU
  webkvm events <prog|guest> [--types T,...]     the hypervisor's event ring as text lines
  webkvm hostmem <prog|guest> --host-op OP@MS   swap, KSM-merge, migrate pages while the guest runs
  webkvm explain <prog|guest> --at GVA           the walk gva -> guest PTEs -> SPTEs -> host pfn
  webkvm migrate <prog|guest> [--rounds N] [--threshold P]
                                                 live migration's pre-copy loop: pages sent per round
  webkvm race list | NAME [--unsafe] [--json]   replay a race of locking.txt step by step on real workers
  webkvm race play NAME [--unsafe] --script F   free play, live: arm pause points, drive the lanes by hand
  webkvm guests                                  list the built-in guests
  webkvm bench [--quick] [--only GROUPS]         print benchmark figures (docs/benchmarks.md)
  webkvm help [command]                          this text, or a command's options

'webkvm help run' lists run's options and its exit codes.`;

type Command = (argv: string[]) => Promise<number>;

async function loadCommand(name: string): Promise<Command | undefined> {
  switch (name) {
    case 'run':
      return (await import('./run.ts')).runCommand;
    case 'asm':
      return (await import('./asm.ts')).asmCommand;
    case 'disasm':
      return (await import('./asm.ts')).disasmCommand;
    case 'torture':
      return (await import('./torture.ts')).tortureCommand;
    case 'stat':
      return (await import('./stat.ts')).statCommand;
    case 'events':
      return (await import('./events.ts')).eventsCommand;
    case 'hostmem':
      return (await import('./hostmem.ts')).hostmemCommand;
    case 'explain':
      return (await import('./explain.ts')).explainCommand;
    case 'migrate':
      return (await import('./migrate.ts')).migrateCommand;
    case 'guests':
      return (await import('./guests.ts')).guestsCommand;
    case 'race':
      return (await import('./race.ts')).raceCommand;
    case 'bench':
      return (await import('../../bench/bench.ts')).benchCommand;
    default:
      return undefined;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    if (rest[0]) return helpFor(rest[0]);
    process.stdout.write(HELP + '\n');
    return cmd ? EXIT_OK : EXIT_BAD_INPUT;
  }
  if (cmd === '--version') {
    process.stdout.write('webkvm 0.1.0\n');
    return EXIT_OK;
  }
  const fn = await loadCommand(cmd);
  if (!fn) return fail(`unknown command '${cmd}' (try 'webkvm help')`, EXIT_BAD_INPUT);
  try {
    return await fn(rest);
  } catch (e) {
    return report(e);
  }
}

/** Each command's own help text, loaded with the command's module. */
const HELP_TEXTS: Record<string, () => Promise<string>> = {
  run: async () => (await import('./run.ts')).RUN_HELP,
  asm: async () => (await import('./asm.ts')).ASM_HELP,
  disasm: async () => (await import('./asm.ts')).DISASM_HELP,
  torture: async () => (await import('./torture.ts')).TORTURE_HELP,
  stat: async () => (await import('./stat.ts')).STAT_HELP,
  events: async () => (await import('./events.ts')).EVENTS_HELP,
  hostmem: async () => (await import('./hostmem.ts')).HOSTMEM_HELP,
  explain: async () => (await import('./explain.ts')).EXPLAIN_HELP,
  migrate: async () => (await import('./migrate.ts')).MIGRATE_HELP,
  race: async () => (await import('./race.ts')).RACE_HELP,
  guests: async () => (await import('./guests.ts')).GUESTS_HELP,
  bench: async () => (await import('../../bench/bench.ts')).BENCH_HELP,
};

/** `webkvm help NAME`: that command's options, or the general text (exit 125) for an unknown name. */
async function helpFor(name: string): Promise<number> {
  const load = Object.hasOwn(HELP_TEXTS, name) ? HELP_TEXTS[name] : undefined;
  if (!load) {
    process.stdout.write(HELP + '\n');
    return EXIT_BAD_INPUT;
  }
  process.stdout.write((await load()) + '\n');
  return EXIT_OK;
}

/** Turn an error into one line on stderr and an exit code. */
export function report(e: unknown): number {
  if (e instanceof UsageError) return fail(`${e.message} (see 'webkvm help')`, EXIT_BAD_INPUT);
  if (e instanceof KvmError) return fail(e.message, EXIT_BAD_INPUT);
  const err = e as NodeJS.ErrnoException;
  if (err && (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR')) {
    return fail(`cannot read '${err.path}': ${err.code === 'ENOENT' ? 'no such file' : err.code}`, EXIT_BAD_INPUT);
  }
  const where = err instanceof Error && err.stack ? err.stack.split('\n')[1]?.trim() : '';
  return fail(`internal error: ${err instanceof Error ? err.message : String(e)}${where ? ` (${where})` : ''}`, EXIT_INTERNAL);
}

export function fail(message: string, code: number): number {
  process.stderr.write(`webkvm: ${message}\n`);
  return code;
}
