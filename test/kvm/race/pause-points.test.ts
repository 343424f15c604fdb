// The pause-point mechanism itself, on real lane workers: park, release,
// the one-shot argument filter, the clear errors when a lane never reaches
// its point, and that no thread parks outside the race lab.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnRaceLaneNode } from '../../../workers/race-lane-spawn.ts';
import { RACE_RAM_GFN, RaceEngine } from '../../../src/kvm/race/engine.ts';
import { OP_GET_LOG, OP_LOAD, OP_STORE, OP_ZAP } from '../../../src/kvm/race/lane.ts';
import { PAUSE_POINTS, RACE_ARMED, RP_SPTE_AFTER_READ, racePoint } from '../../../src/kvm/race/pause-points.ts';
import { PRV_M } from '../../../src/cpu/memory.ts';
import { createVm } from '../../../src/kvm/shm.ts';

const GPA = (RACE_RAM_GFN + 0x20) * 4096;
let engine: RaceEngine | undefined;
afterEach(async () => {
  await engine?.destroy();
  engine = undefined;
});

async function lab(): Promise<RaceEngine> {
  engine = await RaceEngine.create(spawnRaceLaneNode, ['vcpu0', 'host'], 0);
  engine.watchSpte({ label: 'spte', vcpu: 0, va: GPA, nonpaging: true });
  engine.watchGfn(GPA / 4096);
  await engine.setupVcpu('vcpu0', PRV_M, 0);
  return engine;
}

describe('race lab pause points', () => {
  it('has unique names and ids, and never parks a thread that is not a lane', () => {
    expect(new Set(PAUSE_POINTS.map((p) => p.name)).size).toBe(PAUSE_POINTS.length);
    expect(new Set(PAUSE_POINTS.map((p) => p.id)).size).toBe(PAUSE_POINTS.length);
    const vm = createVm({ memBytes: 1 << 20 });
    expect(vm.race[RACE_ARMED]).toBe(0); // a normal VM: the points cost one load
    vm.race[RACE_ARMED] = 1;
    racePoint(vm, RP_SPTE_AFTER_READ, 0); // this thread is no lane: returns at once
  });

  it('parks a lane at the armed point (holding mmu_lock), lets another lane run lock-free, and releases it', async () => {
    const e = await lab();
    await e.command('vcpu0', OP_LOAD, [GPA], 'done', { narrative: 'map it' });
    await e.command('host', OP_GET_LOG, [], 'done', { narrative: 'write-protect it' });
    const loc = e.spteFor(0, GPA, true)!.loc;
    await e.command('host', OP_ZAP, [GPA / 4096], { park: 'spte:after-read' }, { narrative: 'park' }, { points: ['spte:after-read'], arg: loc });
    expect(e.steps.at(-1)!.parkedAt).toBe('spte:after-read');
    expect(e.steps.at(-1)!.snapshot.notes['mmu_notifier_count']).toBe(1);
    // The fast path needs no lock: the vCPU's write completes while the host is parked.
    await e.command('vcpu0', OP_STORE, [GPA, 5], 'done', { narrative: 'write' });
    expect(e.steps.at(-1)!.snapshot.sptes[0]!.flags).toContain('D');
    await e.release('host', 'done', { narrative: 'release' });
    expect(e.steps.at(-1)!.parkedAt).toBeNull();
    expect(e.steps.at(-1)!.snapshot.sptes[0]!.value).toBe(0); // zapped
    expect(e.steps.at(-1)!.snapshot.notes['mmu_notifier_count']).toBe(0);
  });

  it('a lane that finishes without passing its point is a clear error', async () => {
    const e = await lab();
    await expect(e.command('host', OP_GET_LOG, [], { park: 'notifier:before-end' }, { narrative: 'x' }))
      .rejects.toThrow(/lane host finished 'GET_DIRTY_LOG \(slot 0\)' without reaching pause point notifier:before-end/);
  });

  it('a lane stuck before its point times out with a clear error, and teardown still ends every lane', async () => {
    const e = await lab();
    await e.command('vcpu0', OP_LOAD, [GPA], 'done', { narrative: 'map it' });
    const loc = e.spteFor(0, GPA, true)!.loc;
    // The host parks holding mmu_lock; a slow fault on vCPU 0 then waits for the lock forever.
    await e.command('host', OP_ZAP, [GPA / 4096], { park: 'spte:after-read' }, { narrative: 'park' }, { points: ['spte:after-read'], arg: loc });
    e.stepTimeoutMs = 400;
    await expect(e.command('vcpu0', OP_STORE, [GPA + 0x1000, 1], { park: 'fast-pf:before-mark' }, { narrative: 'x' }))
      .rejects.toThrow(/lane vcpu0 did not reach pause point fast-pf:before-mark .* within 400 ms/);
    await expect(e.release('vcpu0', 'done', { narrative: 'x' })).rejects.toThrow(/not parked/);
  });

  it('an unknown point name is refused', async () => {
    const e = await lab();
    await expect(e.command('host', OP_GET_LOG, [], { park: 'nowhere' }, { narrative: 'x' })).rejects.toThrow(/no pause point named 'nowhere'/);
  });
});
