// `webkvm hostmem` through the real command: host operations on a running
// dirty guest (results, errno for a gfn outside every memslot, the counters
// moving, the guest still running).
import { describe, expect, it } from 'vitest';
import { webkvm } from './helpers.ts';

describe('webkvm hostmem', () => {
  it('swaps, migrates and merges pages of a running guest; a gfn in no memslot is EFAULT', () => {
    const r = webkvm(['hostmem', 'dirty', '--vcpus', '2', '--set', 'max_iterations=0',
      '--host-op', 'swap:0x80000@50', '--host-op', 'migrate:0x80001@80', '--host-op', 'merge-all@100',
      '--host-op', 'swap:0x1@120', '--after', '300']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^hostmem: dirty\.S on 2 vCPUs, 4 host operations$/m);
    expect(r.stdout).toMatch(/^@\d+ ms swap gfn 0x80000: swapped out$/m);
    expect(r.stdout).toMatch(/^@\d+ ms migrate gfn 0x80001: moved to host pfn 0x[0-9a-f]+$/m);
    expect(r.stdout).toMatch(/^@\d+ ms merge-all: \d+ resident pages scanned, [1-9]\d* merged/m);
    expect(r.stdout).toMatch(/^@\d+ ms swap:0x1@120: EFAULT: swap-out: gfn 0x1 \(guest physical 0x1000\) is in no memslot$/m);
    const counters = /^hostmem: swap-outs (\d+), swap-ins (\d+), KSM merges (\d+), .* migrations (\d+), notifier invalidations (\d+)/m.exec(r.stdout);
    expect(counters).not.toBeNull();
    const [, outs, ins, merges, migrations, invalidations] = counters!.map(Number);
    expect(outs).toBe(1);
    expect(ins).toBe(1); // the code page came back on the next fetch
    expect(merges).toBeGreaterThan(0);
    expect(migrations).toBe(1);
    expect(invalidations).toBeGreaterThanOrEqual(2 + 2 * merges!);
    expect(r.stdout).toMatch(/^guest: still running when hostmem stopped it$/m);
    expect(r.status).toBe(1); // one operation failed
  });

  it('rejects a malformed operation with exit 125', () => {
    const r = webkvm(['hostmem', 'dirty', '--host-op', 'merge:0x80000@5']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/merge takes 2 arguments/);
    expect(webkvm(['hostmem', 'dirty']).stderr).toMatch(/needs at least one --host-op/);
  });
});

