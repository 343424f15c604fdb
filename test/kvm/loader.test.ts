// Loading an ELF image into guest RAM: every check happens before anything is
// written, so a bad file changes nothing.
import { describe, expect, it } from 'vitest';
import { chooseBootMode, loadImage, type LoadImage } from '../../src/kvm/loader.ts';

const RAM = { base: 0x8000_0000, size: 1 << 20 };

function image(paddr: number, len: number, entry = paddr, memsz = len, symbols: [string, number][] = []): LoadImage {
  return { entry, segments: [{ paddr, data: new Uint8Array(len).fill(7), memsz }], symbols: new Map(symbols) };
}

function attempt(img: LoadImage): { error?: string; writes: [number, number][] } {
  const writes: [number, number][] = [];
  try {
    loadImage(img, RAM, 'p.elf', (gpa, b) => writes.push([gpa, b.length]));
    return { writes };
  } catch (e) {
    return { error: (e as Error).message, writes };
  }
}

describe('loader', () => {
  it('writes each segment and zeroes the bss tail', () => {
    const r = attempt(image(0x8000_0000, 100, 0x8000_0000, 300));
    expect(r.error).toBeUndefined();
    expect(r.writes).toEqual([[0x8000_0000, 100], [0x8000_0064, 200]]);
  });

  it('rejects a segment below RAM, past its end, or straddling it, writing nothing', () => {
    for (const img of [image(0x1000, 16), image(0x8010_0000, 16), image(0x800f_fff0, 32)]) {
      const r = attempt(img);
      expect(r.error).toMatch(/^ENOEXEC: p\.elf: segment at 0x[0-9a-f]{8}\.\.0x[0-9a-f]{8} lies outside guest RAM/);
      expect(r.writes).toEqual([]);
    }
  });

  it('rejects an entry point outside every segment and an image with no segment', () => {
    expect(attempt(image(0x8000_0000, 16, 0x8000_1000)).error).toMatch(/entry point 0x80001000 is not inside any loaded segment/);
    expect(attempt({ entry: 0x8000_0000, segments: [], symbols: new Map() }).error).toMatch(/no loadable segment/);
  });

  it('boots in M-mode exactly when the program has a tohost symbol', () => {
    expect(chooseBootMode(new Map([['tohost', 0x8000_1000]]))).toBe('M');
    expect(chooseBootMode(new Map([['_start', 0x8000_0000]]))).toBe('S');
    const r = loadImage(image(0x8000_0000, 8, 0x8000_0000, 8, [['tohost', 0x8000_0000]]), RAM, 'p', () => {});
    expect(r.tohost).toBe(0x8000_0000);
    expect(r.bootMode).toBe('M');
  });
});
