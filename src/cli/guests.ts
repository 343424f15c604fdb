// `webkvm guests`: the built-in guest programs, runnable by name.
import { parseArgs } from './args.ts';
import { EXIT_OK } from './exit-codes.ts';
import { GUESTS } from '../guests/index.ts';

export const GUESTS_HELP = 'usage: webkvm guests\n\nLists the built-in guests, their suggested vCPU count and the words --param (run) or --set\n' +
  '(stat, events, hostmem, explain, migrate) can patch. Run one by name: webkvm run <name>.';

export async function guestsCommand(argv: string[]): Promise<number> {
  parseArgs(argv, {});
  const width = Math.max(...GUESTS.map((g) => g.name.length));
  for (const g of GUESTS) {
    process.stdout.write(`${g.name.padEnd(width)}  ${g.title} (suggested vCPUs: ${g.vcpus})\n`);
    for (const [p, what] of Object.entries(g.params)) process.stdout.write(`${''.padEnd(width)}    --param ${p}=N  ${what}\n`);
  }
  process.stdout.write(`\nrun one with: webkvm run <name> [--vcpus N] [--param NAME=N,...]\n`);
  return EXIT_OK;
}
