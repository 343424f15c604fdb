import { describe, expect, it } from 'vitest';
import { ConsoleRing, RING_DROPPED, RING_HEAD, RING_HEADER_WORDS, RING_SIZE, RING_TAIL } from '../../src/devices/console-ring.ts';
import { bytes, region, text } from './hv.ts';

function ring(capacity: number): { r: ConsoleRing; view: Int32Array } {
  const view = region(ConsoleRing.words(capacity));
  const r = new ConsoleRing(view);
  r.init();
  return { r, view };
}

describe('ConsoleRing', () => {
  it('publishes the layout the UI reads: HEAD, TAIL, SIZE, DROPPED, then data', () => {
    const { r, view } = ring(16);
    expect(Atomics.load(view, RING_SIZE)).toBe(16);
    r.produce(bytes('AB'));
    expect(Atomics.load(view, RING_HEAD)).toBe(2);
    expect(Atomics.load(view, RING_TAIL)).toBe(0);
    const data = new Uint8Array(view.buffer, view.byteOffset + RING_HEADER_WORDS * 4, 16);
    expect(text(data.subarray(0, 2))).toBe('AB');
    expect(ConsoleRing.words(16)).toBe(RING_HEADER_WORDS + 4 + 2);
  });

  it('rejects capacities that are not powers of two, and regions that do not fit one', () => {
    expect(() => ConsoleRing.words(12)).toThrow(/power of two/);
    expect(() => new ConsoleRing(region(ConsoleRing.words(16) + 1))).toThrow(/power-of-two/);
  });

  it('wraps around the end of the data area and keeps byte order', () => {
    const { r } = ring(8);
    for (let round = 0; round < 20; round++) {
      const msg = bytes(`x${round % 10}y`); // 3 bytes: head crosses the end often
      expect(r.produce(msg)).toBe(3);
      expect(text(r.consume())).toBe(`x${round % 10}y`);
    }
    expect(r.available()).toBe(0);
    expect(r.dropped()).toBe(0);
  });

  it('drops what does not fit, counts it, and never overwrites unread bytes', () => {
    const { r, view } = ring(8);
    expect(r.produce(bytes('0123456'))).toBe(7);
    expect(r.produce(bytes('789'))).toBe(1); // only one slot left
    expect(r.dropped()).toBe(2);
    expect(Atomics.load(view, RING_DROPPED)).toBe(2);
    expect(text(r.consume())).toBe('01234567');
    expect(r.produceByteShared(0x41)).toBe(true);
    for (let i = 0; i < 7; i++) r.produceByteShared(0x42);
    expect(r.produceByteShared(0x43)).toBe(false);
    expect(r.dropped()).toBe(3);
    expect(text(r.consume())).toBe('ABBBBBBB');
  });

  it('consumes partially, byte by byte, and peeks without consuming', () => {
    const { r } = ring(16);
    r.produceShared(bytes('hello'));
    expect(text(r.consume(2))).toBe('he');
    expect(r.peekByte()).toBe('l'.charCodeAt(0));
    expect(r.consumeByte()).toBe('l'.charCodeAt(0));
    expect(r.consumeByteShared()).toBe('l'.charCodeAt(0));
    expect(text(r.consumeShared())).toBe('o');
    expect(r.consumeByte()).toBe(-1);
    expect(r.peekByte()).toBe(-1);
    expect(r.consume().length).toBe(0);
  });

  it('keeps working when the free-running counters wrap past 2^32', () => {
    const { r, view } = ring(8);
    Atomics.store(view, RING_HEAD, -3); // 0xFFFFFFFD
    Atomics.store(view, RING_TAIL, -3);
    expect(r.produce(bytes('abcdef'))).toBe(6);
    expect(Atomics.load(view, RING_HEAD)).toBe(3);
    expect(r.available()).toBe(6);
    expect(text(r.consume())).toBe('abcdef');
  });

  it('hands out private copies, not views of shared memory', () => {
    const { r } = ring(8);
    r.produce(bytes('ab'));
    const out = r.consume();
    expect(out.buffer).not.toBeInstanceOf(SharedArrayBuffer);
  });
});
