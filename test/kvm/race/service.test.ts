// The race lab through the VMM service (what the UI calls over comlink), with
// Node lane workers injected in place of the browser's Web Workers.
import { describe, expect, it } from 'vitest';
import { VmmService } from '../../../src/kvm/vmm-service.ts';
import { spawnVcpuNode } from '../../../workers/node-spawn.ts';
import { spawnRaceLaneNode } from '../../../workers/race-lane-spawn.ts';

describe('VmmService race lab', () => {
  const svc = new VmmService(spawnVcpuNode, spawnRaceLaneNode);

  it('lists the scenarios and runs one both ways, structured-clone safe', async () => {
    const list = await svc.raceList();
    expect(list.map((s) => s.name)).toEqual([
      'aba-indirect', 'aba-direct', 'aba-pinned', 'lost-dirty-bit', 'stale-tlb',
      'get-vs-store-a', 'get-vs-store-b', 'get-vs-store-c', 'get-vs-store-d', 'fastpf-vs-get', 'fastpf-vs-zap',
      'dekker', 'dekker-entry', 'notifier-vs-slow-fault', 'walk-vs-free',
    ]);
    const safe = await svc.raceRun('dekker', false);
    const unsafe = await svc.raceRun('dekker', true);
    expect(structuredClone(unsafe)).toEqual(unsafe);
    expect(safe.verdict).toMatchObject({ violations: [], expected: true });
    expect(unsafe.verdict.violations.length).toBeGreaterThan(0);
    expect(unsafe.verdict.expected).toBe(true);
  });

  it('an unknown scenario is a { code, message } error; no spawner is ENOSYS', async () => {
    await expect(svc.raceRun('nope', false)).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringMatching(/no scenario named 'nope'/) });
    await expect(new VmmService(spawnVcpuNode).raceRun('dekker', false)).rejects.toMatchObject({ code: 'ENOSYS' });
  });
});
