// The lost dirty bit, the stale TLB and the request/mode (Dekker) ordering,
// both ways, on real lane workers. The OOPS is found by the checkers.
import { describe, expect, it } from 'vitest';
import { expectClean, expectWellFormed, runScenario } from './run-both.ts';

describe('race lab: lost-dirty-bit', () => {
  it('xchg: the D bit set behind the zapper reaches the host page', async () => {
    const run = await runScenario('lost-dirty-bit', false);
    expectWellFormed(run);
    expect(run.steps.find((s) => s.parkedAt === 'spte:after-read')!.snapshot.notes['host.lane']).toBe('parked at spte:after-read');
    expectClean(run);
    expect(run.steps.at(-1)!.snapshot.dirty[0]!.hostDirty).toBe(true);
  });

  it('plain-clear: the host dirty flag checker finds the lost bit', async () => {
    const run = await runScenario('lost-dirty-bit', true);
    const write = run.steps.find((s) => s.action.startsWith('store'))!;
    expect(write.snapshot.sptes[0]!.flags).toEqual(expect.arrayContaining(['W', 'D', 'HOST_WRITEABLE', 'MMU_WRITEABLE']));
    expect(run.verdict.violations).toHaveLength(1);
    expect(run.verdict.violations[0]).toMatch(/^host dirty flag: host page pfn .* kvm_set_pfn_dirty never ran/);
    expect(run.steps.at(-1)!.snapshot.dirty[0]!.hostDirty).toBe(false);
    expect(run.verdict.expected).toBe(true);
  });
});

describe('race lab: stale-tlb', () => {
  it('flush: the second write misses the TLB, faults and is logged', async () => {
    const run = await runScenario('stale-tlb', false);
    expectWellFormed(run);
    const parked = run.steps.find((s) => s.parkedAt === 'get-log:before-flush')!;
    // Parked between write-protect and flush: a read-only SPTE, a writable TLB entry.
    expect(parked.snapshot.sptes[0]!.flags).not.toContain('W');
    expect(parked.snapshot.tlb).toEqual([expect.objectContaining({ vcpu: 0, writable: true })]);
    expect(run.steps.find((s) => s.action.includes('0x2 to'))!.action).toMatch(/TLB miss/);
    expectClean(run);
  });

  it('no-flush: the write through the stale entry is found by the stale-TLB checker', async () => {
    const run = await runScenario('stale-tlb', true);
    expect(run.steps.find((s) => s.action.includes('0x2 to'))!.action).toMatch(/TLB hit/);
    expect(run.verdict.checker).toBe('stale TLB');
    expect(run.verdict.violations).toHaveLength(1);
    expect(run.verdict.expected).toBe(true);
  });
});

describe('race lab: dekker', () => {
  it('request before mode: the entering vCPU sees the request and flushes', async () => {
    const run = await runScenario('dekker', false);
    expectWellFormed(run);
    const entering = run.steps.find((s) => s.parkedAt === 'enter:after-mode')!;
    expect(entering.snapshot.notes['vcpu0.mode']).toBe('in guest');
    expect(entering.snapshot.notes['vcpu0.requests']).not.toBe('0x0'); // already published
    expectClean(run);
  });

  it('no-mode-order: the vCPU enters with no request and writes through its stale TLB', async () => {
    const run = await runScenario('dekker', true);
    const entering = run.steps.find((s) => s.parkedAt === 'enter:after-mode')!;
    expect(entering.snapshot.notes['vcpu0.requests']).toBe('0x0'); // not yet published
    expect(run.verdict.violations.join('\n')).toMatch(/stale TLB: gfn 0x80040/);
    expect(run.verdict.expected).toBe(true);
  });
});
