// The UI's shared-memory readers, exercised on a real SharedArrayBuffer laid
// out as src/ui/shared-layout.ts describes (the VMM side must produce this).
import { describe, expect, it } from 'vitest';
import * as L from '../../src/ui/shared-layout.ts';
import { createSharedViews } from '../../src/ui/shared-views.ts';
import type { VmHandles } from '../../src/ui/vmm-api.ts';

const OUT_SIZE = 16;
const IN_SIZE = 8;

function makeHandles(vcpus = 2): VmHandles {
  const vcpuWords = vcpus * L.VCPU_STRIDE_WORDS;
  const outWords = L.RING_HEADER_WORDS + OUT_SIZE / 4;
  const inWords = L.RING_HEADER_WORDS + IN_SIZE / 4;
  const hv = new SharedArrayBuffer((8 + vcpuWords + outWords + inWords) * 4);
  const at = (w: number) => w * 4;
  const layout = {
    vcpu: { offset: at(8), words: vcpuWords },
    'console-out': { offset: at(8 + vcpuWords), words: outWords },
    'console-in': { offset: at(8 + vcpuWords + outWords), words: inWords },
  };
  new Uint32Array(hv, layout['console-out'].offset)[L.RING_SIZE] = OUT_SIZE;
  new Uint32Array(hv, layout['console-in'].offset)[L.RING_SIZE] = IN_SIZE;
  return { hv, ram: new SharedArrayBuffer(4096), layout, vcpus };
}

/** Play the producer side of a ring (what the UART does for console-out). */
function produce(h: VmHandles, region: string, bytes: number[]): void {
  const r = h.layout[region]!;
  const u32 = new Uint32Array(h.hv, r.offset, r.words);
  const size = u32[L.RING_SIZE]!;
  const data = new Uint8Array(h.hv, r.offset + L.RING_HEADER_WORDS * 4, size);
  let head = Atomics.load(u32, L.RING_HEAD);
  for (const b of bytes) {
    data[head & (size - 1)] = b;
    head = (head + 1) >>> 0;
  }
  Atomics.store(u32, L.RING_HEAD, head);
}

describe('shared views', () => {
  it('reads each vCPU instret as a 64-bit (lo, hi) pair at its stride', () => {
    const h = makeHandles(2);
    const v = new Uint32Array(h.hv, h.layout.vcpu!.offset, h.layout.vcpu!.words);
    v[L.VCPU_STRIDE_WORDS + L.VCPU_INSTRET_LO] = 7;
    v[L.VCPU_STRIDE_WORDS + L.VCPU_INSTRET_HI] = 2;
    v[L.VCPU_INSTRET_LO] = 0xffffffff;
    const views = createSharedViews(h);
    expect(views.problems).toEqual([]);
    expect(views.readInstret(0)).toBe(0xffffffff);
    expect(views.readInstret(1)).toBe(2 * 2 ** 32 + 7);
    expect(views.readInstret(2)).toBeNaN();
  });

  it('reports a vcpu region too small for the stride instead of reading past it', () => {
    const h = makeHandles(2);
    h.layout.vcpu = { offset: h.layout.vcpu!.offset, words: L.VCPU_STRIDE_WORDS };
    const views = createSharedViews(h);
    expect(views.readInstret(0)).toBeNaN();
    expect(views.problems.join()).toMatch(/vcpu/);
  });

  it('drains console output across the wrap point and advances the tail', () => {
    const h = makeHandles();
    const views = createSharedViews(h);
    const out = views.consoleOut!;
    expect(out.drain()).toBeNull();
    produce(h, 'console-out', Array.from({ length: 12 }, (_, i) => i));
    expect(Array.from(out.drain()!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    produce(h, 'console-out', [20, 21, 22, 23, 24, 25, 26, 27, 28]); // wraps at 16
    expect(out.available()).toBe(9);
    expect(Array.from(out.drain(4)!)).toEqual([20, 21, 22, 23]);
    expect(Array.from(out.drain()!)).toEqual([24, 25, 26, 27, 28]);
    expect(out.available()).toBe(0);
  });

  it('keeps working when the free-running counters wrap past 2^32', () => {
    const h = makeHandles();
    const r = h.layout['console-out']!;
    const u32 = new Uint32Array(h.hv, r.offset, r.words);
    u32[L.RING_HEAD] = u32[L.RING_TAIL] = 0xfffffffe;
    const views = createSharedViews(h);
    produce(h, 'console-out', [1, 2, 3, 4]);
    expect(u32[L.RING_HEAD]).toBe(2);
    expect(Array.from(views.consoleOut!.drain()!)).toEqual([1, 2, 3, 4]);
  });

  it('writes console input, refuses what does not fit and counts it as dropped', () => {
    const h = makeHandles();
    const views = createSharedViews(h);
    const input = views.consoleIn!;
    expect(input.write(new Uint8Array([1, 2, 3, 4, 5, 6]))).toBe(6);
    expect(input.write(new Uint8Array([7, 8, 9, 10]))).toBe(2);
    expect(input.dropped()).toBe(2);
    const r = h.layout['console-in']!;
    const u32 = new Uint32Array(h.hv, r.offset, r.words);
    expect(u32[L.RING_HEAD]).toBe(8);
    const data = new Uint8Array(h.hv, r.offset + L.RING_HEADER_WORDS * 4, IN_SIZE);
    expect(Array.from(data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('rejects a region that lies outside hv and a ring whose size is not a power of two', () => {
    const h = makeHandles();
    h.layout['console-in'] = { offset: h.hv.byteLength - 8, words: 64 };
    new Uint32Array(h.hv, h.layout['console-out']!.offset)[L.RING_SIZE] = 12;
    const views = createSharedViews(h);
    expect(views.consoleIn).toBeNull();
    expect(views.consoleOut).toBeNull();
    expect(views.problems).toHaveLength(2);
  });
});
