// `webkvm race play NAME [--unsafe] --script FILE|-`: free play, live, from a
// script of actions, one a line (src/kvm/race/session.ts):
//
//   arm LANE [POINT...]        arm these pause points on LANE (none: disarm);
//                              they stay armed for its next commands
//   LANE OP [ARG...]           one operation: vcpu0 write 0x40001000 7,
//                              vcpu0 read VA, host swap-out GFN, host get-log...
//   release LANE               release a parked lane
//   join LANE                  wait for a busy (blocked) lane to finish or park
//   verdict                    the checkers over the state now
//
// Blank lines and lines starting with '#' are skipped. The whole script is
// parsed before the session starts, so a typo never leaves a half-run: a bad
// line, or an action the session refuses, is an error naming the line.
import { KvmError } from '../kvm/errors.ts';
import type { RaceAction } from '../kvm/race/session.ts';
import type { RaceLane } from '../kvm/race/types.ts';

export type PlayLine = { line: number; text: string } & ({ kind: 'action'; action: RaceAction } | { kind: 'verdict' });

const LANES: readonly RaceLane[] = ['vcpu0', 'vcpu1', 'host', 'guest'];

/** A number as a user types it: decimal, 0x hex, or a privilege name (M, S, U). */
function parseNumber(word: string, line: number): number {
  const priv: Record<string, number> = { M: 3, S: 1, U: 0 };
  if (word in priv) return priv[word]!;
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(word)) throw lineError(line, `'${word}' is not a number (decimal or 0x hex)`);
  const v = Number(word);
  if (v > 0xffff_ffff) throw lineError(line, `${word} does not fit in 32 bits`);
  return v;
}

function lineError(line: number, msg: string): KvmError {
  return new KvmError('EINVAL', `race play: line ${line}: ${msg}`);
}

function parseLane(word: string | undefined, line: number): RaceLane {
  if (word === undefined || !(LANES as readonly string[]).includes(word)) {
    throw lineError(line, `'${word ?? ''}' is not a lane (${LANES.join(', ')})`);
  }
  return word as RaceLane;
}

/** Parse a free-play script: one action a line. Errors name the line. */
export function parsePlayScript(text: string): PlayLine[] {
  const out: PlayLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) return;
    const [head, ...rest] = t.split(/\s+/);
    if (head === 'verdict') {
      if (rest.length > 0) throw lineError(line, 'verdict takes no arguments');
      out.push({ line, text: t, kind: 'verdict' });
      return;
    }
    if (head === 'arm') {
      out.push({ line, text: t, kind: 'action', action: { kind: 'arm', lane: parseLane(rest[0], line), points: rest.slice(1) } });
      return;
    }
    if (head === 'release' || head === 'join') {
      if (rest.length !== 1) throw lineError(line, `${head} takes one lane`);
      out.push({ line, text: t, kind: 'action', action: { kind: head, lane: parseLane(rest[0], line) } });
      return;
    }
    if ((LANES as readonly string[]).includes(head!)) {
      const [op, ...args] = rest;
      if (op === undefined) throw lineError(line, `give ${head} an operation (e.g. '${head === 'host' ? 'host get-log' : `${head} write 0x80010000 7`}')`);
      out.push({ line, text: t, kind: 'action', action: { kind: 'op', lane: head as RaceLane, op, args: args.map((a) => parseNumber(a, line)) } });
      return;
    }
    throw lineError(line, `unknown action '${head}' (arm, release, join, verdict, or a lane: ${LANES.join(', ')})`);
  });
  return out;
}
