import { describe, expect, it } from 'vitest';
import { CLINT_MSIP, CLINT_MTIME, CLINT_MTIMECMP, Clint } from '../../src/devices/clint.ts';
import { Clock } from '../../src/devices/clock.ts';
import { IrqLines, MIP_MSIP } from '../../src/devices/irq-lines.ts';
import { kickRecorder, manualHostClock, region } from './hv.ts';

function setup(nvcpus = 2) {
  const host = manualHostClock();
  const clock = new Clock(region(Clock.WORDS), host.now);
  clock.init();
  const k = kickRecorder();
  const lines = new IrqLines(region(IrqLines.words(nvcpus)), nvcpus, k.kick);
  lines.init();
  const clint = new Clint(region(Clint.words(nvcpus)), nvcpus, lines, clock, k.kick);
  clint.init();
  k.kicked.length = 0;
  return { host, clock, lines, clint, kicked: k.kicked };
}

describe('CLINT', () => {
  it('msip: bit 0 only, drives MSIP of that hart and kicks it when raised', () => {
    const { clint, lines, kicked } = setup();
    expect(clint.mmioStore(CLINT_MSIP + 4, 4, 0xffff_ffff)).toBe(true);
    expect(clint.mmioLoad(CLINT_MSIP + 4, 4)).toBe(1);
    expect(lines.read(1)).toBe(MIP_MSIP);
    expect(lines.read(0)).toBe(0);
    expect(kicked).toEqual([1]);
    clint.mmioStore(CLINT_MSIP + 4, 4, 2); // bit 0 clear
    expect(clint.mmioLoad(CLINT_MSIP + 4, 4)).toBe(0);
    expect(lines.read(1)).toBe(0);
    expect(kicked).toEqual([1]); // lowering does not kick
  });

  it('mtimecmp: 32-bit halves, reset to all ones (never)', () => {
    const { clint } = setup();
    expect(clint.mmioLoad(CLINT_MTIMECMP, 4)).toBe(0xffff_ffff);
    expect(clint.mmioLoad(CLINT_MTIMECMP + 4, 4)).toBe(0xffff_ffff);
    expect(clint.nextTimerDeadline(0)).toBe(Infinity);
    clint.mmioStore(CLINT_MTIMECMP + 8 + 4, 4, 1); // hart 1 hi
    clint.mmioStore(CLINT_MTIMECMP + 8, 4, 0x10); // hart 1 lo
    expect(clint.mmioLoad(CLINT_MTIMECMP + 8, 4)).toBe(0x10);
    expect(clint.mmioLoad(CLINT_MTIMECMP + 12, 4)).toBe(1);
    expect(clint.nextTimerDeadline(1)).toBe(0x1_0000_0010);
    expect(clint.nextTimerDeadline(0)).toBe(Infinity);
  });

  it('timer pending follows mtime >= mtimecmp as time passes', () => {
    const { clint, host } = setup();
    clint.mmioStore(CLINT_MTIMECMP + 4, 4, 0);
    clint.mmioStore(CLINT_MTIMECMP, 4, 20_000); // 2 ms at 10 MHz
    expect(clint.timerPending(0)).toBe(false);
    host.advanceMs(1.99);
    expect(clint.timerPending(0)).toBe(false);
    host.advanceMs(0.01);
    expect(clint.timerPending(0)).toBe(true);
    expect(clint.timerPending(0, 19_999)).toBe(false);
  });

  it('kicks a hart whose deadline moved earlier, not later', () => {
    const { clint, kicked } = setup();
    clint.mmioStore(CLINT_MTIMECMP + 4, 4, 0); // all ones -> 0x0_FFFFFFFF: earlier
    expect(kicked).toEqual([0]);
    clint.mmioStore(CLINT_MTIMECMP, 4, 1000); // earlier again
    expect(kicked).toEqual([0, 0]);
    clint.mmioStore(CLINT_MTIMECMP, 4, 5000); // later: no kick
    expect(kicked).toEqual([0, 0]);
  });

  it('mtime reads the shared clock in halves and can be written', () => {
    const { clint, clock, host, kicked } = setup();
    host.advanceMs(1);
    expect(clint.mmioLoad(CLINT_MTIME, 4)).toBe(10_000);
    expect(clint.mmioLoad(CLINT_MTIME + 4, 4)).toBe(0);
    clint.mmioStore(CLINT_MTIME + 4, 4, 2);
    expect(clock.mtime()).toBe(2 * 2 ** 32 + 10_000);
    clint.mmioStore(CLINT_MTIME, 4, 5);
    expect(clock.mtime()).toBe(2 * 2 ** 32 + 5);
    expect(clint.mmioLoad(CLINT_MTIME + 4, 4)).toBe(2);
    expect(kicked).toEqual([0, 1, 0, 1]); // every hart re-computes its sleep
  });

  it('accepts only aligned 32-bit accesses; holes read zero and ignore writes', () => {
    const { clint, lines } = setup(2);
    expect(clint.mmioLoad(CLINT_MSIP, 1)).toBe(-1);
    expect(clint.mmioLoad(CLINT_MSIP + 2, 4)).toBe(-1);
    expect(clint.mmioStore(CLINT_MTIMECMP, 2, 0)).toBe(false);
    expect(clint.mmioLoad(CLINT_MSIP + 4 * 5, 4)).toBe(0); // hart 5 does not exist
    expect(clint.mmioStore(CLINT_MSIP + 4 * 5, 4, 1)).toBe(true);
    expect(clint.mmioLoad(CLINT_MTIMECMP + 8 * 7, 4)).toBe(0);
    expect(clint.mmioLoad(0x8000, 4)).toBe(0);
    expect(clint.mmioLoad(0x10000, 4)).toBe(-1);
    expect(lines.read(0) | lines.read(1)).toBe(0);
  });
});
