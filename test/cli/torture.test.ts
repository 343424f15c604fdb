// `webkvm torture` through the real command: clean with every protection on,
// and the loss found (named, exit 1) with one switched off.
import { describe, expect, it } from 'vitest';
import { webkvm } from './helpers.ts';

describe('webkvm torture', () => {
  it.each(['bitmap', 'ring'])('mode %s: every collection passes', (mode) => {
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

  it('rejects an unknown mode or protection with exit 125', () => {
    expect(webkvm(['torture', '--mode', 'bogus']).stderr).toMatch(/--mode must be one of bitmap, clear, ring/);
    const u = webkvm(['torture', '--unsafe', 'bogus']);
    expect(u.status).toBe(125);
    expect(u.stderr).toMatch(/unknown protection 'bogus'/);
  });
});
