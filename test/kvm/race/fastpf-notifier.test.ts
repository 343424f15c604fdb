// The fast path against GET and against an MMU-notifier zap, and the notifier
// sequence against a slow fault (semantics §7.5, §7.6, §7.9), both ways, on
// real lane workers. The OOPS is found by the checkers.
import { describe, expect, it } from 'vitest';
import { expectClean, expectWellFormed, runScenario } from './run-both.ts';

describe('race lab: fastpf-vs-get (clean both ways)', () => {
  for (const unsafe of [false, true]) {
    it(`${unsafe ? 'no-flush' : 'protected'}: GET between the cmpxchg and the mark skips g; the mark puts it in the next GET`, async () => {
      const run = await runScenario('fastpf-vs-get', unsafe);
      expectWellFormed(run);
      const parked = run.steps.find((s) => s.parkedAt === 'fast-pf:before-mark')!;
      expect(parked.snapshot.sptes[0]!.flags).toContain('W'); // the cmpxchg is done
      expect(parked.snapshot.dirty[0]!.live).toBe(false); // the mark is not
      const get = run.steps[parked.index + 2]!;
      expect(get.lane).toBe('host');
      expect(get.snapshot.dirty[0]).toMatchObject({ gfn: 0x80060, live: false });
      expect(get.snapshot.sptes[0]!.flags).toContain('W'); // GET did not protect g
      expect(run.steps[parked.index + 3]!.snapshot.dirty[0]!.live).toBe(true); // the mark
      expectClean(run);
    });
  }
});

describe('race lab: fastpf-vs-zap', () => {
  it('protected: the zap takes D to the host page, the cmpxchg fails, the re-fault retries until range_end', async () => {
    const run = await runScenario('fastpf-vs-zap', false);
    expectWellFormed(run);
    const zap = run.steps.find((s) => s.parkedAt === 'notifier:after-start')!;
    expect(zap.snapshot.sptes[0]!.loc === -1 || zap.snapshot.sptes[0]!.value === 0).toBe(true);
    expect(zap.snapshot.dirty[0]!.hostDirty).toBe(true); // xchg returned D: kvm_set_pfn_dirty
    expect(zap.snapshot.notes.mmu_notifier_count).toBe(1);
    const retry = run.steps[zap.index + 1]!;
    expect(retry.action).toMatch(/: blocked$/); // spinning on mmu_notifier_retry
    expect(retry.snapshot.sptes[0]!.value).toBe(0); // nothing installed while count != 0
    expect(run.steps.some((s) => s.action.includes('finished') && s.lane === 'vcpu0')).toBe(true);
    expectClean(run);
  });

  it('no-notifier-retry: the re-fault maps the old pfn, which the swap-out frees: the checker finds the SPTE', async () => {
    const run = await runScenario('fastpf-vs-zap', true);
    const zap = run.steps.find((s) => s.parkedAt === 'notifier:after-start')!;
    expect(run.steps[zap.index + 1]!.action).toMatch(/finished/);
    expect(run.verdict.checker).toBe('SPTEs match the host');
    expect(run.verdict.violations).toHaveLength(1);
    expect(run.verdict.violations[0]).toMatch(/SPTE for gfn 0x80070 .* a FREE page, but the gfn is backed by nothing: it is swapped out/);
    expect(run.verdict.expected).toBe(true);
  });
});

describe('race lab: notifier-vs-slow-fault', () => {
  it('protected: the fault sees the sequence moved and retries; its SPTE maps the page backing g', async () => {
    const run = await runScenario('notifier-vs-slow-fault', false);
    expectWellFormed(run);
    const parked = run.steps.find((s) => s.parkedAt === 'slow-pf:after-pfn')!;
    expect(parked.snapshot.notes.mmu_notifier_seq).toBe(0);
    expect(run.steps[parked.index + 1]!.snapshot.notes.mmu_notifier_seq).toBe(1);
    expectClean(run);
  });

  it('no-notifier-retry: the fault installs the freed pfn; the checker finds it', async () => {
    const run = await runScenario('notifier-vs-slow-fault', true);
    expect(run.verdict.checker).toBe('SPTEs match the host');
    expect(run.verdict.violations).toHaveLength(1);
    expect(run.verdict.violations[0]).toMatch(/SPTE for gfn 0x80078 .* a FREE page/);
    expect(run.verdict.expected).toBe(true);
  });
});
