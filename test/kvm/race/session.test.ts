// Free play, live (session.ts) on real worker_threads: replaying a scenario's
// interleaving by hand through a RaceSession gives the same steps and the same
// verdict as the scripted run, both ways; wrong actions are KvmErrors that
// change nothing; a lane blocked behind a parked one is reported, waiting for
// it times out cleanly, and the session goes on.
import { afterEach, describe, expect, it } from 'vitest';
import { RaceSession, racePointsOf, type RaceAction } from '../../../src/kvm/race/session.ts';
import { findRaceScenario, RACE_SCENARIOS } from '../../../src/kvm/race/scenarios/index.ts';
import { spawnRaceLaneNode } from '../../../workers/race-lane-spawn.ts';
import { runScenario } from './run-both.ts';
import { VmmService } from '../../../src/kvm/vmm-service.ts';
import { spawnVcpuNode } from '../../../workers/node-spawn.ts';

const STALE_GPA = 0x8003_0000; // stale-tlb's page (gfn 0x80030)
const LOST_GPA = 0x8002_0000; // lost-dirty-bit's page (gfn 0x80020)

/** stale-tlb's interleaving, typed in by hand. */
const STALE_TLB_BY_HAND: RaceAction[] = [
  { kind: 'op', lane: 'vcpu0', op: 'write', args: [STALE_GPA, 1] },
  { kind: 'arm', lane: 'host', points: ['get-log:before-flush'] },
  { kind: 'op', lane: 'host', op: 'get-log', args: [] },
  { kind: 'arm', lane: 'host', points: [] },
  { kind: 'release', lane: 'host' },
  { kind: 'op', lane: 'vcpu0', op: 'write', args: [STALE_GPA, 2] },
  { kind: 'op', lane: 'host', op: 'get-log', args: [] },
];

const sessions: RaceSession[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.end()));
});

async function start(name: string, unsafe: boolean, opts = {}): Promise<RaceSession> {
  const s = await RaceSession.start(spawnRaceLaneNode, findRaceScenario(name), unsafe, opts);
  sessions.push(s);
  return s;
}

const trace = (steps: readonly { lane: string; action: string; parkedAt: string | null }[]) =>
  steps.map((s) => `${s.lane} | ${s.action} | ${s.parkedAt}`);

describe('RaceSession (free play, live)', () => {
  for (const unsafe of [true, false]) {
    it(`stale-tlb by hand ${unsafe ? 'unsafe' : 'safe'}: the same steps and verdict as the script`, async () => {
      const scripted = await runScenario('stale-tlb', unsafe);
      const s = await start('stale-tlb', unsafe);
      expect(s.steps).toHaveLength(0); // the setup records nothing
      const produced = [];
      for (const a of STALE_TLB_BY_HAND) produced.push((await s.act(a)).step);
      // arm records no step; every other action records exactly one.
      expect(produced.map((p) => p === null)).toEqual(STALE_TLB_BY_HAND.map((a) => a.kind === 'arm'));
      expect(trace(s.steps)).toEqual(trace(scripted.steps));
      expect(s.steps[1]!.parkedAt).toBe('get-log:before-flush');
      expect(s.steps.every((st, i) => st.index === i && st.narrative.startsWith('Free play'))).toBe(true);
      // SPTEs, dirty bits and TLB entries (the engine waits for a kicked vCPU
      // to republish its flushed TLB before it takes a snapshot).
      const world = (st: { snapshot: { sptes: unknown; dirty: unknown; tlb: unknown } }) => [st.snapshot.sptes, st.snapshot.dirty, st.snapshot.tlb];
      expect(s.steps.map(world)).toEqual(scripted.steps.map(world));
      const v = s.verdict();
      expect(v).toEqual(scripted.verdict);
      expect(v.expected).toBe(true);
      if (unsafe) expect(v.violations.join()).toMatch(/0x80030/);
      else expect(v.violations).toEqual([]);
      expect(structuredClone(s.state())).toEqual(s.state());
    });
  }

  it('wrong actions are KvmErrors that change nothing', async () => {
    const s = await start('stale-tlb', false);
    await s.act({ kind: 'arm', lane: 'host', points: ['get-log:before-flush'] });
    await s.act({ kind: 'op', lane: 'host', op: 'get-log', args: [] });
    const before = JSON.stringify({ steps: s.steps, state: s.state() });
    const bad: [RaceAction, RegExp][] = [
      [{ kind: 'release', lane: 'vcpu0' }, /lane vcpu0 is not parked/],
      [{ kind: 'op', lane: 'host', op: 'flush', args: [] }, /lane host is parked at get-log:before-flush; release it first/],
      [{ kind: 'arm', lane: 'vcpu0', points: ['fast-pf:before-cmpxchg', 'nope'] }, /lane vcpu0 has no pause point 'nope'/],
      [{ kind: 'arm', lane: 'vcpu0', points: ['get-log:after-xchg'] }, /no pause point 'get-log:after-xchg'/],
      [{ kind: 'op', lane: 'vcpu0', op: 'swap-out', args: [1] }, /lane vcpu0 has no operation 'swap-out'/],
      [{ kind: 'op', lane: 'vcpu0', op: 'write', args: [STALE_GPA] }, /write takes va, value/],
      [{ kind: 'op', lane: 'vcpu1', op: 'write', args: [STALE_GPA, 1] }, /no lane 'vcpu1' in stale-tlb/],
      [{ kind: 'join', lane: 'vcpu0' }, /lane vcpu0 has no command running/],
    ];
    for (const [a, msg] of bad) {
      await expect(s.act(a)).rejects.toMatchObject({ name: 'KvmError', message: expect.stringMatching(msg) });
      expect(JSON.stringify({ steps: s.steps, state: s.state() })).toBe(before);
    }
    // Still usable: release and finish.
    const r = await s.act({ kind: 'release', lane: 'host' });
    expect(r.step?.action).toMatch(/^released from get-log:before-flush: GET_DIRTY_LOG \(slot 0\) finished/);
    expect(r.session.lanes.find((l) => l.lane === 'host')).toMatchObject({ state: 'idle', parkedAt: null });
    await s.end();
    await expect(s.act({ kind: 'join', lane: 'host' })).rejects.toThrow(/session has ended/);
  });

  it('a lane blocked behind a parked mmu_lock holder: reported, join times out, the session goes on', async () => {
    const s = await start('lost-dirty-bit', false, { settleMs: 300, stepTimeoutMs: 700 });
    await s.act({ kind: 'op', lane: 'vcpu0', op: 'read', args: [LOST_GPA] });
    await s.act({ kind: 'arm', lane: 'host', points: ['spte:after-read'] });
    const zap = await s.act({ kind: 'op', lane: 'host', op: 'zap', args: [LOST_GPA / 4096] });
    expect(zap.step?.parkedAt).toBe('spte:after-read');
    // A fault on a page not yet mapped needs mmu_lock, which the parked zap holds.
    const blocked = await s.act({ kind: 'op', lane: 'vcpu0', op: 'read', args: [LOST_GPA + 0x5000] });
    expect(blocked.step?.action).toMatch(/: blocked$/);
    expect(blocked.session.lanes.find((l) => l.lane === 'vcpu0')?.state).toBe('busy');
    await expect(s.act({ kind: 'join', lane: 'vcpu0' })).rejects.toMatchObject({ code: 'EBUSY', message: expect.stringMatching(/vcpu0 did not finish .* within 700 ms/) });
    await expect(s.act({ kind: 'op', lane: 'vcpu0', op: 'read', args: [LOST_GPA] })).rejects.toThrow(/still running its last command/);
    await s.act({ kind: 'arm', lane: 'host', points: [] });
    const rel = await s.act({ kind: 'release', lane: 'host' });
    expect(rel.step?.action).toMatch(/MMU-notifier zap gfn 0x80020 finished/);
    const joined = await s.act({ kind: 'join', lane: 'vcpu0' });
    expect(joined.step?.action).toMatch(/^load from 0x80025000 finished: TLB miss, walked/);
    expect(s.verdict()).toMatchObject({ violations: [], expected: true });
  });

  it('each lane kind lists the pause points of its own code paths', () => {
    expect(racePointsOf('vcpu0')).toEqual(expect.arrayContaining(['fast-pf:before-cmpxchg', 'slow-pf:after-pfn', 'enter:after-mode']));
    expect(racePointsOf('vcpu0')).not.toContain('get-log:before-flush');
    expect(racePointsOf('host')).toEqual(expect.arrayContaining(['get-log:before-flush', 'request:between', 'notifier:before-end', 'spte:after-read']));
    expect(racePointsOf('host')).not.toContain('fast-pf:before-cmpxchg');
  });

  it('through the VMM service: one session at a time, plain data, { code, message } errors', async () => {
    const svc = new VmmService(spawnVcpuNode, spawnRaceLaneNode);
    try {
      const st = await svc.raceSessionStart('stale-tlb', true);
      expect(st).toMatchObject({ scenario: 'stale-tlb', unsafe: true, steps: 0 });
      expect(st.lanes.map((l) => l.lane)).toEqual(['vcpu0', 'host']);
      expect(st.lanes[0]!.ops.map((o) => o.name)).toContain('write');
      const r = await svc.raceSessionAct({ kind: 'op', lane: 'vcpu0', op: 'write', args: [STALE_GPA, 1] });
      expect(structuredClone(r)).toEqual(r);
      expect(r.session.steps).toBe(1);
      await expect(svc.raceSessionAct({ kind: 'release', lane: 'host' })).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringMatching(/not parked/) });
      // A new session ends the old one: its steps start again from 0.
      const again = await svc.raceSessionStart('lost-dirty-bit', false);
      expect(again).toMatchObject({ scenario: 'lost-dirty-bit', steps: 0 });
      expect(await svc.raceSessionVerdict()).toMatchObject({ violations: [], expected: true });
      await svc.raceSessionEnd();
      await expect(svc.raceSessionVerdict()).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringMatching(/no session is running/) });
      await expect(svc.raceSessionStart('nope', false)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await svc.raceSessionEnd();
    }
  });

  it('every registered scenario starts a session from its own setup, with no step recorded', async () => {
    for (const sc of RACE_SCENARIOS) {
      const s = await start(sc.info.name, true);
      expect(s.steps, sc.info.name).toHaveLength(0);
      expect(s.state().lanes.map((l) => l.lane)).toEqual(sc.info.lanes);
      expect(s.state().lanes.every((l) => l.state === 'idle'), sc.info.name).toBe(true);
      await s.end();
    }
  }, 60_000);
});
