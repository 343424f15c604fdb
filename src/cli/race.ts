// `webkvm race`: the race lab on the command line.
//   webkvm race list                      the scenarios, one per line
//   webkvm race NAME [--unsafe] [--json]  replay one on real worker threads:
//                                         the step trace and the verdict
// Exit 0 iff the outcome is the expected one for the setting (clean with the
// protection on; the checkers found the OOPS with --unsafe, except for a
// scenario showing a harmless race), 1 otherwise, 125 for an unknown NAME.
import { formatOptions, parseArgs, UsageError, type OptionSpecs } from './args.ts';
import { EXIT_OK } from './exit-codes.ts';
import { runRaceScenario } from '../kvm/race/scenario.ts';
import { findRaceScenario, RACE_SCENARIOS } from '../kvm/race/scenarios/index.ts';
import type { RaceRun, RaceStep } from '../kvm/race/types.ts';
import { spawnRaceLaneNode } from '../../workers/race-lane-spawn.ts';

const OPTIONS: OptionSpecs = {
  unsafe: { type: 'flag', help: "switch the scenario's protection off" },
  json: { type: 'flag', help: 'print the whole run (steps, snapshots, verdict) as JSON' },
  quotes: { type: 'flag', help: "also print locking.txt's words under each step" },
};

/** Outcome not the expected one for the setting. */
export const EXIT_RACE_UNEXPECTED = 1;

export const RACE_HELP = `usage: webkvm race list
       webkvm race NAME [--unsafe] [--json] [--quotes]

Replays a race of locking.txt step by step on the real code, with one worker
thread per lane (vCPU 0, vCPU 1, host), parked at named pause points. Prints
each step (lane, action, the SPTE with its flags, dirty bits, TLB entries,
why it matters) and the verdict of the checkers over the final state.

options:
${formatOptions(OPTIONS)}

exit status: 0 if the outcome is the expected one for the setting (clean with
the protection on, the doc's OOPS found with --unsafe), 1 if not, 125 for an
unknown scenario or option.`;

const out = (s: string): void => {
  process.stdout.write(s + '\n');
};

export async function raceCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  const [name, extra] = positional;
  if (name === undefined) throw new UsageError("race: give a scenario name or 'list'");
  if (extra !== undefined) throw new UsageError(`race: one scenario at a time (got '${name}' and '${extra}')`);
  if (name === 'list') {
    listScenarios(options.json === true);
    return EXIT_OK;
  }
  const scenario = findRaceScenario(name);
  const unsafe = options.unsafe === true;
  const run = await runRaceScenario(spawnRaceLaneNode, scenario, unsafe);
  if (options.json === true) out(JSON.stringify(run, null, 2));
  else printRun(run, scenario.info.title, options.quotes === true);
  return run.verdict.expected ? EXIT_OK : EXIT_RACE_UNEXPECTED;
}

function listScenarios(json: boolean): void {
  if (json) {
    out(JSON.stringify(RACE_SCENARIOS.map((s) => s.info), null, 2));
    return;
  }
  const w = Math.max(...RACE_SCENARIOS.map((s) => s.info.name.length));
  for (const s of RACE_SCENARIOS) out(`${s.info.name.padEnd(w)}  ${s.info.title}`);
  for (const s of RACE_SCENARIOS) {
    out('');
    out(`${s.info.name}: ${s.info.source}`);
    out(`  protection: ${s.info.protection}`);
    out(`  safe:       ${s.info.expectSafe}`);
    out(`  --unsafe:   ${s.info.expectUnsafe}`);
  }
}

function printRun(run: RaceRun, title: string, quotes: boolean): void {
  out(`race ${run.scenario}: ${title}${run.unsafe ? ' (protection OFF)' : ''}`);
  for (const s of run.steps) printStep(s, quotes);
  const v = run.verdict;
  out('');
  if (v.violations.length === 0) out(`verdict: clean (${v.checker})`);
  else {
    out(`verdict: OOPS, found by ${v.checker}`);
    for (const x of v.violations) out(`  ${x}`);
  }
  out(v.expected ? 'outcome: as expected for this setting' : 'outcome: NOT the expected one for this setting');
}

function printStep(s: RaceStep, quotes: boolean): void {
  out('');
  out(`[${s.index}] ${s.lane.padEnd(5)} ${s.action}`);
  for (const p of s.snapshot.sptes) {
    out(`      ${p.label}: ${p.loc < 0 ? 'none' : `0x${p.value.toString(16).padStart(8, '0')} ${p.flags.join('|') || '(zero)'}${p.pfn >= 0 ? ` pfn 0x${p.pfn.toString(16)}` : ''}`}`);
  }
  const dirty = s.snapshot.dirty.map((d) =>
    `gfn 0x${d.gfn.toString(16)} live=${d.live ? 1 : 0} collected=${d.collected ? 1 : 0}${d.hostDirty === null ? '' : ` host-dirty=${d.hostDirty ? 1 : 0}`}`);
  if (dirty.length > 0) out(`      dirty: ${dirty.join('; ')}`);
  const tlb = s.snapshot.tlb.map((t) => `vcpu${t.vcpu} 0x${t.gva.toString(16)} -> pfn 0x${t.pfn.toString(16)} ${t.writable ? 'W' : 'R'}`);
  out(`      tlb: ${tlb.length > 0 ? tlb.join('; ') : '(no entries)'}`);
  const n = s.snapshot.notes;
  const modes = Object.keys(n).filter((k) => k.endsWith('.mode') || k.endsWith('.lane') || k.startsWith('mmu_notifier')).map((k) => `${k}=${n[k]}`);
  out(`      ${modes.join(', ')}`);
  out(`      ${s.narrative}`);
  if (quotes && s.quote !== null) out(`      locking.txt: "${s.quote}"`);
}
