// `webkvm race` through the real command: the list, a run both ways (exit 0
// when the outcome is the expected one), --json, and the errors.
import { describe, expect, it } from 'vitest';
import { webkvm } from './helpers.ts';

describe('webkvm race', () => {
  it('list: one line per scenario, then what each shows', () => {
    const r = webkvm(['race', 'list']);
    expect(r.status).toBe(0);
    for (const n of ['aba-indirect', 'aba-direct', 'aba-pinned', 'lost-dirty-bit', 'stale-tlb', 'dekker']) {
      expect(r.stdout).toMatch(new RegExp(`^${n} +\\S`, 'm'));
    }
    expect(r.stdout).toMatch(/^ {2}--unsafe: {3}.*missing from every dirty log/m);
  });

  it('lost-dirty-bit: clean with the protection on, the OOPS found with --unsafe, exit 0 both times', () => {
    const safe = webkvm(['race', 'lost-dirty-bit']);
    expect(safe.stderr).toBe('');
    expect(safe.stdout).toMatch(/^\[2\] host +MMU-notifier zap gfn 0x80020; parked at spte:after-read$/m);
    expect(safe.stdout).toMatch(/PRESENT\|W\|U\|X\|R\|A\|D\|HOST_WRITEABLE\|MMU_WRITEABLE/);
    expect(safe.stdout).toMatch(/^verdict: clean/m);
    expect(safe.status).toBe(0);
    const unsafe = webkvm(['race', 'lost-dirty-bit', '--unsafe', '--quotes']);
    expect(unsafe.stdout).toMatch(/^verdict: OOPS, found by host dirty flag$/m);
    expect(unsafe.stdout).toMatch(/locking\.txt: "else old_spte = xchg/);
    expect(unsafe.stdout).toMatch(/^outcome: as expected for this setting$/m);
    expect(unsafe.status).toBe(0);
  });

  it('--json prints the whole run', () => {
    const r = webkvm(['race', 'aba-indirect', '--unsafe', '--json']);
    expect(r.status).toBe(0);
    const run = JSON.parse(r.stdout);
    expect(run.scenario).toBe('aba-indirect');
    expect(run.unsafe).toBe(true);
    expect(run.steps.some((s: { parkedAt: string | null }) => s.parkedAt === 'fast-pf:before-cmpxchg')).toBe(true);
    expect(run.verdict.violations[0]).toMatch(/gfn 0x80011/);
    expect(run.verdict.expected).toBe(true);
  });

  it('an unknown scenario or a missing name is a clear error, exit 125', () => {
    const r = webkvm(['race', 'nope']);
    expect(r.stderr).toMatch(/^webkvm: ENOENT: race: no scenario named 'nope'; known: aba-indirect, /);
    expect(r.status).toBe(125);
    const none = webkvm(['race']);
    expect(none.stderr).toMatch(/give a scenario name or 'list'/);
    expect(none.status).toBe(125);
    expect(webkvm(['help', 'race']).stdout).toMatch(/^usage: webkvm race list/);
  });
});
