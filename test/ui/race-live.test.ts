// Free play (live) in the race lab panel: the DOM-free part (race-live.ts):
// typed arguments become actions or a message, the checkboxes' armed set, the
// words for a lane's state, which buttons apply, and the live steps as a run.
import { describe, expect, it } from 'vitest';
import { liveLaneButtons, liveLaneText, liveRun, opAction, parseLiveNumber, toggleArmed } from '../../src/ui/race-live.ts';
import type { RaceSessionLane, RaceSessionState } from '../../src/ui/vmm-api.ts';
import { RUN } from './race-fixture.ts';

const WRITE = { name: 'write', args: ['va', 'value'], help: '' };
const GET = { name: 'get-log', args: [], help: '' };

const lane = (over: Partial<RaceSessionLane> = {}): RaceSessionLane => ({
  lane: 'host', points: ['spte:after-read', 'get-log:after-xchg', 'get-log:before-flush'], ops: [GET],
  state: 'idle', parkedAt: null, armed: [], ...over,
});

describe('free play (live): the panel logic', () => {
  it('reads decimal and 0x hex 32-bit numbers, nothing else', () => {
    expect(parseLiveNumber(' 0x80030000 ')).toBe(0x8003_0000);
    expect(parseLiveNumber('7')).toBe(7);
    expect(parseLiveNumber('0xffffffff')).toBe(0xffff_ffff);
    for (const bad of ['', '-1', '1e3', '0x', '0x100000000', '12abc', '0b11']) expect(parseLiveNumber(bad)).toBeNull();
  });

  it('builds an op action from the typed fields, or names the first bad one', () => {
    expect(opAction('vcpu0', WRITE, ['0x80030000', '2'])).toEqual({ action: { kind: 'op', lane: 'vcpu0', op: 'write', args: [0x8003_0000, 2] } });
    expect(opAction('host', GET, [])).toEqual({ action: { kind: 'op', lane: 'host', op: 'get-log', args: [] } });
    const bad = opAction('vcpu0', WRITE, ['0x80030000', 'x']);
    expect('error' in bad && bad.error).toMatch(/^write: value must be a number .*"x"/);
    expect('error' in opAction('vcpu0', WRITE, ['1'])).toBe(true);
  });

  it('ticking keeps the lane order; unticking removes only that point', () => {
    const l = lane({ armed: ['get-log:before-flush'] });
    expect(toggleArmed(l, 'spte:after-read', true)).toEqual(['spte:after-read', 'get-log:before-flush']);
    expect(toggleArmed(l, 'get-log:before-flush', false)).toEqual([]);
    expect(toggleArmed(l, 'get-log:before-flush', true)).toEqual(['get-log:before-flush']);
  });

  it('says what a lane does and which buttons apply', () => {
    expect(liveLaneText(lane({ state: 'parked', parkedAt: 'get-log:before-flush' }))).toBe('parked at get-log:before-flush');
    expect(liveLaneText(lane({ state: 'busy' }))).toMatch(/^running: blocked/);
    expect(liveLaneText(lane())).toBe('idle');
    expect(liveLaneButtons(lane())).toEqual({ issue: true, release: false, join: false });
    expect(liveLaneButtons(lane({ state: 'parked', parkedAt: 'x' }))).toEqual({ issue: false, release: true, join: false });
    expect(liveLaneButtons(lane({ state: 'busy' }))).toEqual({ issue: false, release: false, join: true });
    expect(liveLaneButtons(lane({ state: 'failed' })).issue).toBe(true);
  });

  it('the live steps as a run: the verdict asked for, or a placeholder', () => {
    const s: RaceSessionState = { scenario: 'stale-tlb', unsafe: true, lanes: [lane()], steps: 2 };
    const r = liveRun(s, RUN.steps.slice(0, 2), null);
    expect(r).toMatchObject({ scenario: 'stale-tlb', unsafe: true, verdict: { violations: [] } });
    expect(r.steps).toHaveLength(2);
    expect(liveRun(s, [], RUN.verdict).verdict).toBe(RUN.verdict);
  });
});
