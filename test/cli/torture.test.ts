// `webkvm torture` through the real command: clean with every protection on,
// and the loss found (named, exit 1) with one switched off.
import { describe, expect, it } from 'vitest';
import { webkvm } from './helpers.ts';
import { UNSAFE_HELP } from '../../src/kvm/unsafe.ts';

describe('webkvm torture', () => {
  // bitmap mode runs below with --host-ops; clear mode is covered by test/system/dirty-log.test.ts.
  it.each(['ring'])('mode %s: every collection passes', (mode) => {
    const r = webkvm(['torture', '--seconds', '1.5', '--vcpus', '2', '--mode', mode]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^(\d+) passed, 0 failed$/m);
    expect(Number(/^(\d+) passed/m.exec(r.stdout)![1])).toBeGreaterThan(3);
    expect(r.status).toBe(0);
  });

  it('--unsafe no-flush: the lost pages are named and the exit code is 1', () => {
    const r = webkvm(['torture', '--seconds', '3', '--vcpus', '2', '--unsafe', 'no-flush']);
    expect(r.stdout).toMatch(/^LOST gfn 0x[0-9a-f]+ \(gpa 0x[0-9a-f]+\): written, never in the dirty log$/m);
    expect(r.stdout).toMatch(/^\d+ passed, [1-9]\d* failed$/m);
    expect(r.status).toBe(1);
  });

  it('--host-ops: swap, KSM merge and migration run meanwhile and every collection still passes', () => {
    const r = webkvm(['torture', '--seconds', '1', '--vcpus', '2', '--pages', '32', '--host-ops']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^torture: 2 vCPUs x 32 pages, mode bitmap, host ops, 1 s$/m);
    const ops = /^host ops: (\d+) swap-outs, (\d+) KSM merges, (\d+) migrations, \d+ skipped$/m.exec(r.stdout);
    expect(ops, r.stdout).not.toBeNull();
    expect(Number(ops![1])).toBeGreaterThan(0);
    expect(Number(ops![2])).toBeGreaterThan(0);
    expect(Number(ops![3])).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/^[1-9]\d* passed, 0 failed$/m);
    expect(r.status).toBe(0);
  });

  it('help names every protection --unsafe can switch off', () => {
    const r = webkvm(['help', 'torture']);
    // Every switch, its name and its description apart (a long name once ran into its text).
    for (const name of Object.keys(UNSAFE_HELP)) expect(r.stdout).toMatch(new RegExp(`^  ${name}  +\\S`, 'm'));
    expect(r.stdout).toMatch(/--host-ops/);
  });

  it('rejects an unknown mode or protection with exit 125', () => {
    expect(webkvm(['torture', '--mode', 'bogus']).stderr).toMatch(/--mode must be one of bitmap, clear, ring/);
    const u = webkvm(['torture', '--unsafe', 'bogus']);
    expect(u.status).toBe(125);
    expect(u.stderr).toMatch(/unknown protection 'bogus'/);
  });
});
