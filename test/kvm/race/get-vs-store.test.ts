// GET_DIRTY_LOG against a concurrent store at each of its four points
// (semantics §7.4), both ways, on real lane workers. (a) and (b) are clean
// both ways by design; (c) and (d) lose a later store without the flush.
import { describe, expect, it } from 'vitest';
import { expectClean, expectWellFormed, runScenario } from './run-both.ts';

const G = 0x80050;

describe('race lab: get-vs-store-a (store before the exchange)', () => {
  for (const unsafe of [false, true]) {
    it(`${unsafe ? 'no-flush' : 'protected'}: the fast path marks g while GET holds an earlier word; g is in this GET`, async () => {
      const run = await runScenario('get-vs-store-a', unsafe);
      expectWellFormed(run);
      const parked = run.steps.find((s) => s.parkedAt === 'get-log:after-xchg')!;
      const store = run.steps[parked.index + 1]!;
      expect(store.action).toMatch(/^store 0x2 to 0x80050000: TLB miss/);
      expect(store.snapshot.dirty.find((d) => d.gfn === G)!.live).toBe(true); // marked before GET reached word 2
      const get = run.steps[parked.index + 2]!;
      expect(get.action).toMatch(/2 page\(s\) reported/); // the decoy and g
      expect(get.snapshot.dirty.find((d) => d.gfn === G)).toMatchObject({ live: false, collected: true });
      expectClean(run);
    });
  }
});

describe('race lab: get-vs-store-b (between the exchange and the write-protect)', () => {
  for (const unsafe of [false, true]) {
    it(`${unsafe ? 'no-flush' : 'protected'}: the store hits a writable SPTE, g is reported now, then protected`, async () => {
      const run = await runScenario('get-vs-store-b', unsafe);
      expectWellFormed(run);
      const parked = run.steps.find((s) => s.parkedAt === 'get-log:after-xchg')!;
      expect(parked.snapshot.sptes[0]!.flags).toContain('W'); // exchanged, not yet protected
      expect(parked.snapshot.dirty[0]!.live).toBe(false);
      expect(run.steps[parked.index + 1]!.action).toMatch(/TLB hit/);
      const done = run.steps[parked.index + 2]!;
      expect(done.action).toMatch(/1 page\(s\) reported/);
      expect(done.snapshot.sptes[0]!.flags).not.toContain('W');
      expectClean(run);
    });
  }
});

describe('race lab: get-vs-store-c (between the write-protect and the flush)', () => {
  it('flush: the in-window store is in the snapshot, the store after return faults and is logged', async () => {
    const run = await runScenario('get-vs-store-c', false);
    expectWellFormed(run);
    expect(run.steps.find((s) => s.action.includes('0x2 to'))!.action).toMatch(/TLB hit/); // through the stale entry
    expect(run.steps.find((s) => s.action.includes('0x3 to'))!.action).toMatch(/TLB miss/);
    expectClean(run);
  });

  it('no-flush: the store after return goes through the stale entry; the stale-TLB checker finds it', async () => {
    const run = await runScenario('get-vs-store-c', true);
    expect(run.steps.find((s) => s.action.includes('0x3 to'))!.action).toMatch(/TLB hit/);
    expect(run.verdict.checker).toBe('stale TLB');
    expect(run.verdict.violations).toHaveLength(1); // the in-window store is covered by the snapshot
    expect(run.verdict.violations[0]).toMatch(/gfn 0x80050 was written through a stale writable TLB entry \(step 4/);
    expect(run.verdict.expected).toBe(true);
  });
});

describe('race lab: get-vs-store-d (after the flush)', () => {
  it('flush: the store faults, the fast path sets the live bit for the next GET', async () => {
    const run = await runScenario('get-vs-store-d', false);
    expectWellFormed(run);
    const store = run.steps.find((s) => s.action.includes('0x2 to'))!;
    expect(store.action).toMatch(/TLB miss/);
    expect(store.snapshot.dirty[0]!.live).toBe(true);
    expect(run.steps.at(-1)!.action).toMatch(/1 page\(s\) reported/);
    expectClean(run);
  });

  it('no-flush: the stores hit the stale entry and set no bit; the later one is lost', async () => {
    const run = await runScenario('get-vs-store-d', true);
    const store = run.steps.find((s) => s.action.includes('0x2 to'))!;
    expect(store.action).toMatch(/TLB hit/);
    expect(store.snapshot.dirty[0]!.live).toBe(false);
    expect(run.verdict.violations).toHaveLength(1);
    expect(run.verdict.violations[0]).toMatch(/^stale TLB: gfn 0x80050 .*step 4/);
    expect(run.verdict.expected).toBe(true);
  });
});
