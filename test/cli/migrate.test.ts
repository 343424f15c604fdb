// `webkvm migrate` through the real command: the pre-copy loop's rounds, not
// converging against a guest that never stops writing, converging at once
// with a threshold above its working set (ring mode).
import { describe, expect, it } from 'vitest';
import { webkvm } from './helpers.ts';

describe('webkvm migrate', () => {
  it('a guest that never stops writing does not converge; a high threshold converges at round 2', () => {
    const r = webkvm(['migrate', 'dirty', '--vcpus', '2', '--set', 'max_iterations=0', '--rounds', '4', '--threshold', '1']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rounds = [...r.stdout.matchAll(/^round +(\d+): +(\d+) pages/gm)].map((m) => Number(m[2]));
    expect(rounds).toHaveLength(4);
    expect(rounds.every((p) => p > 0)).toBe(true);
    expect(r.stdout).toMatch(/^round +1: +\d+ pages #+ \(full copy\)$/m);
    expect(r.stdout).toMatch(/^Did not converge in 4 rounds/m);

    const c = webkvm(['migrate', 'dirty', '--vcpus', '2', '--mode', 'ring', '--set', 'max_iterations=0', '--threshold', '100000']);
    expect(c.stdout).toMatch(/mode ring/);
    expect(c.stdout).toMatch(/^round +2: +\d+ pages #* ?\(stop and copy\)$/m);
    expect(c.stdout).toMatch(/^Converged: /m);
  });
});
