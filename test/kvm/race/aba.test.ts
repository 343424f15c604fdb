// The gfn->pfn ABA and its two variants, both ways, on real lane workers.
import { describe, expect, it } from 'vitest';
import { expectClean, expectWellFormed, runScenario } from './run-both.ts';

describe('race lab: aba-indirect', () => {
  it('protected: the fault takes the slow path (parked after gfn_to_pfn), gfn2 gets another pfn, clean', async () => {
    const run = await runScenario('aba-indirect', false);
    expectWellFormed(run);
    expect(run.steps.find((s) => s.parkedAt !== null)!.parkedAt).toBe('slow-pf:after-pfn');
    expectClean(run);
  });

  it('indirect-fast: the recycled SPTE has the very value vCPU 0 read, and the checker finds gfn2 lost', async () => {
    const run = await runScenario('aba-indirect', true);
    expectWellFormed(run);
    const parked = run.steps.find((s) => s.parkedAt === 'fast-pf:before-cmpxchg')!;
    const before = parked.snapshot.sptes[0]!.value;
    const released = run.steps.find((s) => s.action.startsWith('released'))!;
    const justBefore = run.steps[released.index - 1]!.snapshot.sptes[0]!.value;
    expect(justBefore).toBe(before); // the ABA: same SPTE value, another gfn behind it
    expect(run.verdict.violations).toHaveLength(1);
    expect(run.verdict.violations[0]).toMatch(/dirty-log completeness: gfn 0x80011 was written .* lost from the dirty log/);
    expect(run.verdict.expected).toBe(true);
  });
});

describe('race lab: aba-direct (harmless on a direct page)', () => {
  for (const unsafe of [false, true]) {
    it(`${unsafe ? 'indirect-fast' : 'protected'}: the fast path is parked and resumes on the recycled SPTE, clean`, async () => {
      const run = await runScenario('aba-direct', unsafe);
      expectWellFormed(run);
      expect(run.steps.some((s) => s.parkedAt === 'fast-pf:before-cmpxchg')).toBe(true);
      expectClean(run);
    });
  }
});

describe('race lab: aba-pinned', () => {
  it('pinned: pfn1 is not reused, the cmpxchg fails on the new value, clean', async () => {
    const run = await runScenario('aba-pinned', false);
    const parked = run.steps.find((s) => s.parkedAt === 'fast-pf:before-cmpxchg')!;
    const released = run.steps.find((s) => s.action.startsWith('released'))!;
    expect(run.steps[released.index - 1]!.snapshot.sptes[0]!.pfn).not.toBe(parked.snapshot.sptes[0]!.pfn);
    expectClean(run);
  });

  it('no pin: the OOPS of the indirect fast path is back', async () => {
    const run = await runScenario('aba-pinned', true);
    expect(run.verdict.violations.join('\n')).toMatch(/gfn 0x80011 .* lost from the dirty log/);
    expect(run.verdict.expected).toBe(true);
  });
});
