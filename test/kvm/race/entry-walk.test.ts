// The vCPU's half of the request/mode handshake (dekker-entry) and the
// lockless walk against a shadow-page free (walk-vs-free), both ways, on real
// lane workers. The OOPS is found by the checkers, never by the script.
import { describe, expect, it } from 'vitest';
import { expectClean, expectWellFormed, runScenario } from './run-both.ts';

describe('race lab: dekker-entry', () => {
  it('mode then requests: the requester sees IN_GUEST_MODE and waits; the vCPU flushes; the write is logged', async () => {
    const run = await runScenario('dekker-entry', false);
    expectWellFormed(run);
    const entering = run.steps.find((s) => s.parkedAt === 'enter:after-mode')!;
    expect(entering.snapshot.notes['vcpu0.mode']).toBe('in guest');
    // The requester, having seen the vCPU in guest mode, is blocked until its ack.
    expect(run.steps.find((s) => s.lane === 'host' && / blocked$|: blocked/.test(s.action))).toBeDefined();
    expect(run.steps.find((s) => s.action.includes('0x2 to'))!.action).toMatch(/TLB miss/);
    expectClean(run);
  });

  it('no-entry-order: the vCPU checked before storing its mode, enters with the request pending, writes unlogged', async () => {
    const run = await runScenario('dekker-entry', true);
    const entering = run.steps.find((s) => s.parkedAt === 'enter:before-mode')!;
    expect(entering.snapshot.notes['vcpu0.mode']).toBe('outside');
    expect(entering.snapshot.notes['vcpu0.requests']).toBe('0x0');
    expect(run.steps.some((s) => s.parkedAt === 'enter:after-mode')).toBe(false);
    expect(run.steps.find((s) => s.action.includes('0x2 to'))!.action).toMatch(/TLB hit/);
    expect(run.verdict.checker).toBe('stale TLB');
    expect(run.verdict.violations.join('\n')).toMatch(/stale TLB: gfn 0x80048/);
    expect(run.verdict.expected).toBe(true);
  });
});

describe('race lab: walk-vs-free', () => {
  it('READING_SHADOW_PAGE_TABLES: the zapper is blocked in the flush until the walk ends, then frees the page', async () => {
    const run = await runScenario('walk-vs-free', false);
    expectWellFormed(run);
    const walking = run.steps.find((s) => s.parkedAt === 'fast-pf:walking')!;
    expect(walking.snapshot.notes['vcpu0.mode']).toBe('reading spt');
    expect(walking.snapshot.notes['vcpu0.walk']).toMatch(/in shadow page \d+ \(gfn 0x80000\): in use/);
    const zap = run.steps.find((s) => s.action.startsWith('zap shadow page'))!;
    expect(zap.action).toMatch(/: blocked$/);
    expect(zap.snapshot.notes['vcpu0.walk']).toMatch(/zapped \(unlinked\), not freed yet/);
    expect(zap.snapshot.notes['host.lane']).not.toMatch(/parked/);
    expect(run.steps.find((s) => s.lane === 'host' && s.action.includes('finished'))!.action).toMatch(/unlinked, TLBs flushed, page freed/);
    expectClean(run);
  });

  it('no-walk-mode: the flush does not wait; the page is freed and reused under the walker; the checker finds it', async () => {
    const run = await runScenario('walk-vs-free', true);
    const walking = run.steps.find((s) => s.parkedAt === 'fast-pf:walking')!;
    expect(walking.snapshot.notes['vcpu0.mode']).toBe('outside');
    const zap = run.steps.find((s) => s.action.startsWith('zap shadow page'))!;
    expect(zap.action).toMatch(/page freed$/);
    expect(zap.snapshot.notes['vcpu0.walk']).toMatch(/FREED under the walk/);
    const reuse = run.steps.find((s) => s.lane === 'vcpu1' && s.action.startsWith('store'))!;
    expect(reuse.snapshot.notes['vcpu0.walk']).toMatch(/REUSED for gfn 0x80002/);
    expect(run.verdict.checker).toBe('lockless walk');
    expect(run.verdict.violations).toHaveLength(1);
    expect(run.verdict.violations[0]).toMatch(/^lockless walk: vCPU 0's lockless walk .* freed and reused \(now it shadows gfn 0x80002\)/);
    expect(run.verdict.expected).toBe(true);
  });
});
