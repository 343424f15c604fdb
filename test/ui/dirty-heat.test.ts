import { describe, expect, it } from 'vitest';
import { DirtyHeat, HEAT_MAX } from '../../src/ui/dirty-heat.ts';
import { dirtyGrid, pageAtPoint, stepPage } from '../../src/ui/dirty-grid.ts';
import { cividisLut, packRgb } from '../../src/ui/cividis.ts';

describe('DirtyHeat', () => {
  it('sets full heat for set bits, decays the rest, and counts dirty pages', () => {
    const heat = new DirtyHeat(40);
    const bits = new Uint32Array(new SharedArrayBuffer(8));
    bits[0] = 0b101;
    bits[1] = 1 << 7; // page 39
    expect(heat.fold(bits, 10)).toBe(3);
    expect([heat.heat[0], heat.heat[1], heat.heat[2], heat.heat[39]]).toEqual([HEAT_MAX, 0, HEAT_MAX, HEAT_MAX]);
    bits[0] = 0;
    bits[1] = 0;
    expect(heat.fold(bits, 10)).toBe(0);
    expect(heat.heat[0]).toBe(HEAT_MAX - 10);
    expect(heat.heat[39]).toBe(HEAT_MAX - 10);
  });

  it('without fade (reduced motion) heat follows the bit', () => {
    const heat = new DirtyHeat(32);
    const bits = new Uint32Array(new SharedArrayBuffer(4));
    bits[0] = 1 << 3;
    heat.fold(bits, -1);
    bits[0] = 1 << 4;
    heat.fold(bits, -1);
    expect(heat.heat[3]).toBe(0);
    expect(heat.heat[4]).toBe(HEAT_MAX);
  });

  it('renders hot pages from the LUT, cold backed and never-backed pages in their colours', () => {
    const heat = new DirtyHeat(3);
    heat.heat[0] = HEAT_MAX;
    const px = new Uint32Array(3);
    const lut = cividisLut();
    heat.render(px, Int32Array.from([0, 5 << 12 | 1, 0]), lut, 7, 9);
    expect([...px]).toEqual([lut[255], 7, 9]);
    expect(lut[0]).toBe(packRgb(0x00, 0x22, 0x4e));
  });

  it('draws the selected page and says whether a frame changed any pixel', () => {
    const heat = new DirtyHeat(3);
    const px = new Uint32Array(3);
    const lut = cividisLut();
    const table = Int32Array.from([0, 5 << 12 | 1, 0]);
    heat.render(px, table, lut, 7, 9, 2, 1);
    expect([...px]).toEqual([9, 7, 1]);
    expect(heat.changed).toBe(true);
    heat.render(px, table, lut, 7, 9, 2, 1);
    expect(heat.changed).toBe(false); // an idle frame: the panel skips putImageData
    heat.heat[0] = 1;
    heat.render(px, table, lut, 7, 9, 2, 1);
    expect(heat.changed).toBe(true);
    heat.render(px, table, lut, 7, 9, -1, 1);
    expect(heat.changed).toBe(true); // the selection moved off page 2
    expect(px[2]).toBe(9);
  });
});

describe('dirty grid', () => {
  it('maps points to pages and back within the slot', () => {
    const g = dirtyGrid(1000);
    expect(g).toEqual({ pages: 1000, width: 256, height: 4 });
    expect(dirtyGrid(262144)).toEqual({ pages: 262144, width: 512, height: 512 });
    expect(pageAtPoint(g, 0.5, 0.5, 512, 8)).toBe(0);
    expect(pageAtPoint(g, 511, 2.5, 512, 8)).toBe(255 + 256);
    expect(pageAtPoint(g, 511, 7.5, 512, 8)).toBe(-1); // past page 999
    expect(stepPage(g, 0, 'ArrowDown')).toBe(256);
    expect(stepPage(g, 999, 'ArrowRight')).toBe(999);
  });
});
