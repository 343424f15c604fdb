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
import { readFileSync } from 'node:fs';
import { KvmError } from '../kvm/errors.ts';
import { RaceSession } from '../kvm/race/session.ts';
import type { RaceVerdict } from '../kvm/race/types.ts';
import { parsePlayScript } from './race-play.ts';

const OPTIONS: OptionSpecs = {
  unsafe: { type: 'flag', help: "switch the scenario's protection off" },
  json: { type: 'flag', help: 'print the whole run (steps, snapshots, verdict) as JSON' },
  quotes: { type: 'flag', help: "also print locking.txt's words under each step" },
  script: { type: 'string', arg: 'FILE|-', help: 'race play: the actions, one a line (- reads stdin)' },
};

/** Outcome not the expected one for the setting. */
export const EXIT_RACE_UNEXPECTED = 1;

export const RACE_HELP = `usage: webkvm race list
       webkvm race NAME [--unsafe] [--json] [--quotes]
       webkvm race play NAME [--unsafe] [--quotes] --script FILE|-

Replays a race of locking.txt step by step on the real code, with one worker
thread per lane (vCPU 0, vCPU 1, host), parked at named pause points. Prints
each step (lane, action, the SPTE with its flags, dirty bits, TLB entries,
why it matters) and the verdict of the checkers over the final state.

options:
${formatOptions(OPTIONS)}

race play is free play, live: NAME's setup, then the script's actions on the
live lanes, one a line, each printed as the step it produced:
  arm LANE [POINT...]     arm pause points on LANE until changed (none: disarm)
  LANE OP [ARG...]        vcpu0 write VA VALUE | read VA | enter | exit | poll |
                          context PRIV SATP; host swap-out GFN | ksm-merge GFN GFN2 |
                          migrate GFN | zap GFN | get-log | flush | zap-page GFN
  release LANE            release a parked lane
  join LANE               wait for a blocked lane to finish or park
  verdict                 the checkers over the state now
Numbers are decimal or 0x hex; '#' starts a comment line.

exit status: 0 if the outcome is the expected one for the setting (clean with
the protection on, the doc's OOPS found with --unsafe), 1 if not, 125 for an
unknown scenario or option. race play: 0 when every line ran, 125 for a bad
line or an action the session refused (the message names the line).`;

const out = (s: string): void => {
  process.stdout.write(s + '\n');
};

export async function raceCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, OPTIONS);
  const [name, extra] = positional;
  if (name === undefined) throw new UsageError("race: give a scenario name or 'list'");
  if (extra !== undefined && name !== 'play') throw new UsageError(`race: one scenario at a time (got '${name}' and '${extra}')`);
  if (name === 'list') {
    listScenarios(options.json === true);
    return EXIT_OK;
  }
  if (name === 'play') return racePlay(extra, positional.slice(2), options.unsafe === true, options.script, options.quotes === true);
  if (options.script !== undefined) throw new UsageError('race: --script is for race play');
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

/** Free play, live: the scenario's setup, then the script's actions one by one. */
async function racePlay(name: string | undefined, more: string[], unsafe: boolean, script: unknown, quotes: boolean): Promise<number> {
  if (name === undefined) throw new UsageError('race play: give a scenario name');
  if (more.length > 0) throw new UsageError(`race play: one scenario at a time (got '${name}' and '${more[0]}')`);
  if (typeof script !== 'string') throw new UsageError('race play: give the actions with --script FILE (or - for stdin)');
  const scenario = findRaceScenario(name);
  const lines = parsePlayScript(readFileSync(script === '-' ? 0 : script, 'utf8'));
  const session = await RaceSession.start(spawnRaceLaneNode, scenario, unsafe);
  try {
    out(`race play ${name}: ${scenario.info.title}${unsafe ? ' (protection OFF)' : ''}; lanes ${scenario.info.lanes.join(', ')}, set up`);
    for (const l of lines) {
      try {
        if (l.kind === 'verdict') {
          out('');
          printVerdict(session.verdict());
          continue;
        }
        const r = await session.act(l.action);
        if (r.step !== null) printStep(r.step, quotes);
        else if (l.action.kind === 'arm') {
          out('');
          out(`      armed ${l.action.lane}: ${l.action.points.length > 0 ? l.action.points.join(', ') : '(nothing)'}`);
        }
      } catch (e) {
        // Name the line; the code prefix ("EINVAL: ") is added again by KvmError.
        if (e instanceof KvmError) throw new KvmError(e.code, `race play: line ${l.line} (${l.text}): ${e.message.slice(e.code.length + 2)}`);
        throw e;
      }
    }
  } finally {
    await session.end();
  }
  return EXIT_OK;
}

function printVerdict(v: RaceVerdict): void {
  if (v.violations.length === 0) out(`verdict: clean (${v.checker})`);
  else {
    out(`verdict: OOPS, found by ${v.checker}`);
    for (const x of v.violations) out(`  ${x}`);
  }
  out(v.expected ? 'outcome: as expected for this setting' : 'outcome: NOT the expected one for this setting');
}

function printRun(run: RaceRun, title: string, quotes: boolean): void {
  out(`race ${run.scenario}: ${title}${run.unsafe ? ' (protection OFF)' : ''}`);
  for (const s of run.steps) printStep(s, quotes);
  out('');
  printVerdict(run.verdict);
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
  const modes = Object.keys(n).filter((k) => k.endsWith('.mode') || k.endsWith('.lane') || k.endsWith('.walk') || k.startsWith('mmu_notifier')).map((k) => `${k}=${n[k]}`);
  out(`      ${modes.join(', ')}`);
  out(`      ${s.narrative}`);
  if (quotes && s.quote !== null) out(`      locking.txt: "${s.quote}"`);
}
