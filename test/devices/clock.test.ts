import { describe, expect, it } from 'vitest';
import { CLOCK_MANUAL, CLOCK_PAUSED, CLOCK_RUNNING, Clock } from '../../src/devices/clock.ts';
import { manualHostClock, region } from './hv.ts';

describe('Clock (shared mtime)', () => {
  it('counts at 10 MHz of host time from its start value', () => {
    const host = manualHostClock();
    const c = new Clock(region(Clock.WORDS), host.now);
    c.init(500);
    expect(c.mtime()).toBe(500);
    host.advanceMs(1.5);
    expect(c.mtime()).toBe(500 + 15_000);
    expect(c.mode).toBe(CLOCK_RUNNING);
  });

  it('is the same clock for every instance over the same region (every worker)', () => {
    const host = manualHostClock();
    const view = region(Clock.WORDS);
    const a = new Clock(view, host.now);
    const b = new Clock(view, host.now);
    a.init();
    host.advanceMs(2);
    expect(b.mtime()).toBe(20_000);
    b.setMtime(7);
    expect(a.mtime()).toBe(7);
  });

  it('stays frozen while paused and resumes where it stopped', () => {
    const host = manualHostClock();
    const c = new Clock(region(Clock.WORDS), host.now);
    c.init();
    host.advanceMs(1);
    c.pause();
    expect(c.mode).toBe(CLOCK_PAUSED);
    host.advanceMs(1000);
    expect(c.mtime()).toBe(10_000);
    expect(c.msUntil(20_000)).toBe(Infinity);
    c.resume();
    host.advanceMs(1);
    expect(c.mtime()).toBe(20_000);
  });

  it('moves only by advance() in manual (deterministic) mode', () => {
    const host = manualHostClock();
    const c = new Clock(region(Clock.WORDS), host.now);
    c.init();
    c.setManual(true);
    expect(c.mode).toBe(CLOCK_MANUAL);
    host.advanceMs(50);
    expect(c.mtime()).toBe(0);
    c.advance(1234);
    expect(c.mtime()).toBe(1234);
    expect(() => c.advance(-1)).toThrow(/EINVAL/);
    c.setManual(false);
    host.advanceMs(1);
    expect(c.mtime()).toBe(1234 + 10_000);
  });

  it('tells a sleeper how long until a deadline', () => {
    const host = manualHostClock();
    const c = new Clock(region(Clock.WORDS), host.now);
    c.init();
    expect(c.msUntil(25_000)).toBe(2.5);
    expect(c.msUntil(0)).toBe(0);
    expect(c.msUntil(Infinity)).toBe(Infinity);
  });

  it('never goes backwards in one worker even if the host clock does', () => {
    const host = manualHostClock();
    const c = new Clock(region(Clock.WORDS), host.now);
    c.init();
    host.advanceMs(1);
    const t1 = c.mtime();
    host.advanceMs(-0.5);
    expect(c.mtime()).toBe(t1);
  });

  it('runs on the real host clock by default', () => {
    const c = new Clock(region(Clock.WORDS));
    c.init();
    const t0 = c.mtime();
    const until = performance.now() + 3;
    while (performance.now() < until) { /* spin 3 ms */ }
    const dt = c.mtime() - t0;
    expect(dt).toBeGreaterThanOrEqual(25_000);
    expect(dt).toBeLessThan(10_000_000); // well under a second
  });

  it('refuses a region that is too small or not 8-byte aligned', () => {
    const sab = new SharedArrayBuffer(64);
    expect(() => new Clock(new Int32Array(sab, 4, 8))).toThrow(/8-byte aligned/);
    expect(() => new Clock(new Int32Array(sab, 0, 4))).toThrow(/EINVAL/);
  });
});
