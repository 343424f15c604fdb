import { describe, expect, it } from 'vitest';
import { IrqLines, MIP_MEIP, MIP_SEIP } from '../../src/devices/irq-lines.ts';
import {
  PLIC_CONTEXT_BASE,
  PLIC_CONTEXT_STRIDE,
  PLIC_ENABLE_BASE,
  PLIC_ENABLE_STRIDE,
  PLIC_PENDING_BASE,
  Plic,
} from '../../src/devices/plic.ts';
import { kickRecorder, region } from './hv.ts';

function setup(nvcpus = 2) {
  const k = kickRecorder();
  const lines = new IrqLines(region(IrqLines.words(nvcpus)), nvcpus, k.kick);
  lines.init();
  const plic = new Plic(region(Plic.words(nvcpus)), nvcpus, lines);
  plic.init();
  const prio = (s: number, p: number) => plic.mmioStore(4 * s, 4, p);
  const enable = (ctx: number, ...srcs: number[]) => {
    const words = [0, 0, 0];
    for (const s of srcs) words[s >> 5]! |= 1 << (s & 31);
    words.forEach((w, i) => plic.mmioStore(PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * ctx + 4 * i, 4, w));
  };
  const threshold = (ctx: number, t: number) => plic.mmioStore(PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * ctx, 4, t);
  const claim = (ctx: number) => plic.mmioLoad(PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * ctx + 4, 4);
  const complete = (ctx: number, s: number) => plic.mmioStore(PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * ctx + 4, 4, s);
  k.kicked.length = 0;
  return { plic, lines, kicked: k.kicked, prio, enable, threshold, claim, complete };
}

describe('PLIC', () => {
  it('priorities are WARL 0..7; source 0 is hardwired to 0', () => {
    const { plic, prio } = setup();
    prio(10, 0xff);
    expect(plic.mmioLoad(40, 4)).toBe(7);
    prio(10, 3);
    expect(plic.mmioLoad(40, 4)).toBe(3);
    prio(0, 5);
    expect(plic.mmioLoad(0, 4)).toBe(0);
    expect(plic.mmioLoad(4 * 200, 4)).toBe(0); // beyond 96 sources
  });

  it('pending bits follow the source line and are read-only', () => {
    const { plic } = setup();
    plic.setLevel(33, true);
    expect(plic.mmioLoad(PLIC_PENDING_BASE + 4, 4)).toBe(2);
    plic.mmioStore(PLIC_PENDING_BASE + 4, 4, 0);
    expect(plic.isPending(33)).toBe(true);
    plic.setLevel(33, false); // withdrawn before anyone claimed it
    expect(plic.isPending(33)).toBe(false);
  });

  it('drives MEIP for context 2h and SEIP for 2h+1, and kicks the hart', () => {
    const { plic, lines, kicked, prio, enable } = setup();
    prio(10, 1);
    enable(3, 10); // hart 1, S-mode
    plic.setLevel(10, true);
    expect(lines.read(1)).toBe(MIP_SEIP);
    expect(lines.read(0)).toBe(0);
    expect(kicked).toEqual([1]);
    enable(2, 10); // hart 1, M-mode too
    expect(lines.read(1)).toBe(MIP_SEIP | MIP_MEIP);
    expect(plic.eip(2)).toBe(true);
    plic.setLevel(10, false);
    expect(lines.read(1)).toBe(0);
  });

  it('threshold masks sources of priority <= threshold, and priority 0 never interrupts', () => {
    const { plic, lines, prio, enable, threshold, claim } = setup();
    enable(1, 5);
    plic.setLevel(5, true);
    expect(lines.read(0)).toBe(0); // priority 0
    expect(claim(1)).toBe(0); // and it cannot be claimed
    prio(5, 3);
    expect(lines.read(0)).toBe(MIP_SEIP);
    threshold(1, 3);
    expect(lines.read(0)).toBe(0);
    expect(plic.mmioLoad(PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE, 4)).toBe(3);
    threshold(1, 2);
    expect(lines.read(0)).toBe(MIP_SEIP);
    threshold(1, 0xf);
    expect(plic.mmioLoad(PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE, 4)).toBe(7); // WARL
  });

  it('claim returns the highest priority, ties to the lowest ID, and ignores the threshold', () => {
    const { plic, prio, enable, threshold, claim, complete } = setup();
    prio(3, 2);
    prio(7, 5);
    prio(9, 5);
    enable(1, 3, 7, 9);
    for (const s of [3, 7, 9]) plic.setLevel(s, true);
    threshold(1, 7); // no EIP, but a claim still works (PLIC spec)
    expect(claim(1)).toBe(7);
    expect(claim(1)).toBe(9);
    expect(claim(1)).toBe(3);
    expect(claim(1)).toBe(0);
    for (const s of [3, 7, 9]) complete(1, s);
  });

  it('claim clears pending; the source is blocked until complete, then re-pends while still high', () => {
    const { plic, lines, prio, enable, claim, complete } = setup();
    prio(10, 1);
    enable(1, 10);
    plic.setLevel(10, true);
    expect(claim(1)).toBe(10);
    expect(plic.isPending(10)).toBe(false);
    expect(plic.isClaimed(10)).toBe(true);
    expect(lines.read(0)).toBe(0);
    expect(claim(1)).toBe(0); // gateway blocked
    complete(1, 10);
    expect(plic.isClaimed(10)).toBe(false);
    expect(plic.isPending(10)).toBe(true); // line still high: a new request
    expect(lines.read(0)).toBe(MIP_SEIP);
    expect(claim(1)).toBe(10);
    plic.setLevel(10, false);
    complete(1, 10);
    expect(plic.isPending(10)).toBe(false);
    expect(lines.read(0)).toBe(0);
  });

  it('ignores a completion for a source not enabled in that context', () => {
    const { plic, prio, enable, claim, complete } = setup();
    prio(10, 1);
    enable(1, 10);
    plic.setLevel(10, true);
    expect(claim(1)).toBe(10);
    complete(0, 10); // context 0 does not have source 10 enabled
    expect(plic.isClaimed(10)).toBe(true);
    complete(1, 10);
    expect(plic.isClaimed(10)).toBe(false);
  });

  it('lets exactly one context win a source both could claim', () => {
    const { plic, prio, enable, claim } = setup();
    prio(10, 1);
    enable(1, 10);
    enable(3, 10);
    plic.setLevel(10, true);
    expect([claim(1), claim(3)]).toEqual([10, 0]);
  });

  it('source 0 cannot be enabled; enable words read back per context', () => {
    const { plic } = setup();
    plic.mmioStore(PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * 2, 4, 0xffff_ffff);
    expect(plic.mmioLoad(PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * 2, 4)).toBe(0xffff_fffe);
    expect(plic.mmioLoad(PLIC_ENABLE_BASE, 4)).toBe(0);
    expect(plic.mmioLoad(PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * 2 + 12, 4)).toBe(0); // word 3: no such sources
  });

  it('tracks what each context has in service, for PV EOI', () => {
    const { plic, prio, enable, claim, complete } = setup();
    prio(10, 1);
    prio(40, 1);
    enable(1, 10, 40);
    plic.setLevel(10, true);
    plic.setLevel(40, true);
    expect(plic.inServiceSingle(1)).toBe(0);
    expect(claim(1)).toBe(10);
    expect(plic.inServiceSingle(1)).toBe(10);
    expect(claim(1)).toBe(40);
    expect(plic.inServiceSingle(1)).toBe(-1);
    complete(1, 10);
    expect(plic.inServiceSingle(1)).toBe(40);
    plic.complete(1, 40); // the hypervisor completing on the guest's behalf
    expect(plic.inServiceSingle(1)).toBe(0);
  });

  it('accepts only aligned 32-bit accesses; contexts that do not exist read zero', () => {
    const { plic } = setup(1);
    expect(plic.mmioLoad(0x28, 1)).toBe(-1);
    expect(plic.mmioLoad(0x2a, 4)).toBe(-1);
    expect(plic.mmioStore(0x28, 2, 1)).toBe(false);
    expect(plic.mmioLoad(PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * 5 + 4, 4)).toBe(0);
    expect(plic.mmioStore(PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * 5, 4, 1)).toBe(true);
    expect(plic.mmioLoad(PLIC_CONTEXT_BASE + 8, 4)).toBe(0);
  });
});
