import { describe, expect, it } from 'vitest';
import { MIP_MSIP, MIP_MTIP, MIP_SEIP } from '../../src/devices/irq-lines.ts';
import { CLINT_BASE, PLIC_BASE, UART0_BASE, UART0_IRQ } from '../../src/devices/memory-map.ts';
import { Platform, platformLayout, platformWords } from '../../src/devices/platform.ts';
import { bytes, kickRecorder, manualHostClock, region, text } from './hv.ts';

function board(nvcpus = 2) {
  const host = manualHostClock();
  const k = kickRecorder();
  const view = region(platformWords({ nvcpus }));
  const p = new Platform(view, { nvcpus }, { kick: k.kick, hostClock: host.now });
  p.init();
  k.kicked.length = 0;
  return { p, view, host, kicked: k.kicked };
}

describe('Platform (the virt board)', () => {
  it('lays out 8-byte aligned sub-regions that do not overlap', () => {
    const L = platformLayout({ nvcpus: 3, consoleOutBytes: 1024, consoleInBytes: 64 });
    const subs = [L.clock, L.irqLines, L.clint, L.plic, L.uart, L.htif, L.consoleOut, L.consoleIn];
    let end = 0;
    for (const s of subs) {
      expect(s.offset % 2).toBe(0);
      expect(s.offset).toBeGreaterThanOrEqual(end);
      end = s.offset + s.words;
    }
    expect(L.words).toBeGreaterThanOrEqual(end);
    expect(() => platformLayout({ nvcpus: 0 })).toThrow(/1\.\.32/);
    expect(() => platformLayout({ nvcpus: 33 })).toThrow(/EINVAL/);
  });

  it('routes MMIO through a per-vCPU bus to the shared devices', () => {
    const { p } = board();
    const bus = p.createBus(1);
    for (const c of 'ok') bus.store(UART0_BASE, 1, c.charCodeAt(0));
    expect(text(p.consoleOut.consume())).toBe('ok');
    bus.load(0x3000_0000, 4);
    expect(bus.error).toBe(true);
    bus.load(UART0_BASE + 5, 4); // wrong width for the UART
    expect(bus.error).toBe(true);
    expect(bus.list().map((r) => r.name)).toEqual(['clint', 'plic', 'uart0']);
  });

  it('delivers a keystroke as UART -> PLIC -> SEIP of hart 0, claimable through MMIO', () => {
    const { p, kicked } = board();
    const bus = p.createBus(0);
    bus.store(PLIC_BASE + 4 * UART0_IRQ, 4, 1); // priority 1
    bus.store(PLIC_BASE + 0x2000 + 0x80 * 1, 4, 1 << UART0_IRQ); // enable in context 1 (hart 0 S)
    bus.store(UART0_BASE + 1, 1, 1); // IER: received data
    p.consoleIn.produce(bytes('x'));
    expect(p.irqLines(0) & MIP_SEIP).toBe(0); // nobody has looked yet
    p.poll();
    expect(p.irqLines(0) & MIP_SEIP).toBe(MIP_SEIP);
    expect(kicked).toEqual([0]);
    expect(bus.load(PLIC_BASE + 0x20_1004, 4)).toBe(UART0_IRQ);
    expect(bus.load(UART0_BASE, 1)).toBe('x'.charCodeAt(0));
    bus.store(PLIC_BASE + 0x20_1004, 4, UART0_IRQ);
    expect(p.irqLines(0) & MIP_SEIP).toBe(0);
  });

  it('reports MTIP from the CLINT and MSIP from msip in irqLines()', () => {
    const { p, host, kicked } = board();
    const bus = p.createBus(0);
    bus.store(CLINT_BASE + 0x4000 + 8, 4, 10_000); // hart 1 lo
    bus.store(CLINT_BASE + 0x4000 + 12, 4, 0); // hart 1 hi
    expect(p.nextTimerDeadline(1)).toBe(10_000);
    expect(p.irqLines(1)).toBe(0);
    host.advanceMs(1);
    expect(p.irqLines(1)).toBe(MIP_MTIP);
    bus.store(CLINT_BASE + 4, 4, 1);
    expect(p.irqLines(1)).toBe(MIP_MTIP | MIP_MSIP);
    expect(kicked).toContain(1);
  });

  it('is one machine for every worker: two Platforms over one region share all state', () => {
    const { p, view } = board();
    const other = new Platform(view, { nvcpus: 2 }, { kick: () => {} });
    other.createBus(1).store(UART0_BASE + 7, 1, 0x5a);
    expect(p.createBus(0).load(UART0_BASE + 7, 1)).toBe(0x5a);
    other.consoleOut.produceShared(bytes('!'));
    expect(text(p.consoleOut.consume())).toBe('!');
  });

  it('refuses a region that is too small or misaligned', () => {
    const words = platformWords({ nvcpus: 1 });
    expect(() => new Platform(region(words - 2), { nvcpus: 1 }, { kick: () => {} })).toThrow(/needs/);
    const sab = new SharedArrayBuffer(words * 4 + 16);
    expect(() => new Platform(new Int32Array(sab, 4, words), { nvcpus: 1 }, { kick: () => {} })).toThrow(/aligned/);
  });
});
