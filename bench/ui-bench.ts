// UI frame time of the dirty-bitmap heat map, without a browser: the per-frame
// work of the dirty-map panel (src/ui/panels/dirty-map.ts) that is ours, i.e.
// DirtyHeat.fold (live bitmap words -> heat, with the fade) and DirtyHeat.render
// (heat -> cividis pixels into the ImageData-sized Uint32Array), on a
// SharedArrayBuffer bitmap that a "guest" changes between frames. What the
// browser adds (putImageData, compositing the scaled canvas) is not in it.
//   ui.heatmap_frame_ms.P.median / .p99   P = pages in the slot (one cell each)
// Load: before each frame ~10% of the pages get their bit set at random
// positions, and every 4th frame the bitmap is cleared (a GET_DIRTY_LOG), so
// nearly every bitmap word is non-zero and most cells are fading: close to the
// renderer's worst case. Timed with stats.ts workMs.
import { DirtyHeat } from '../src/ui/dirty-heat.ts';
import { dirtyGrid } from '../src/ui/dirty-grid.ts';
import { cividisLut, packRgb } from '../src/ui/cividis.ts';
import type { Row } from './bench.ts';
import { median, quantile, workMs } from './stats.ts';

/** The panel's fade step at 60 fps: 255 heat units over its FADE_MS (1.5 s). */
const DECAY_60FPS = Math.max(1, Math.round((16 * 255) / 1500));

function frameTimes(pages: number, frames: number): number[] {
  const grid = dirtyGrid(pages);
  const words = Math.ceil(pages / 32);
  const dirty = new Uint32Array(new SharedArrayBuffer(words * 4));
  const gfnTable = new Int32Array(new SharedArrayBuffer(pages * 4));
  for (let p = 0; p < pages; p++) gfnTable[p] = p % 3 === 0 ? 0 : ((p + 1) << 12) | 3; // 2 in 3 backed
  const pixels = new Uint32Array(grid.width * grid.height);
  const heat = new DirtyHeat(pages);
  const lut = cividisLut();
  const backed = packRgb(0x1c, 0x2a, 0x45);
  const unbacked = packRgb(0x0d, 0x11, 0x17);
  let seed = 0x9e3779b9 | 0;
  const ms: number[] = [];
  let sink = 0;
  for (let f = 0; f < frames; f++) {
    if (f % 4 === 0) dirty.fill(0);
    for (let k = 0; k < pages / 10; k++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const p = (seed >>> 0) % pages;
      Atomics.or(dirty, p >>> 5, 1 << (p & 31));
    }
    ms.push(workMs(() => {
      sink += heat.fold(dirty, DECAY_60FPS);
      heat.render(pixels, gfnTable, lut, backed, unbacked);
    }));
  }
  if (sink < 0) throw new Error('unreachable');
  return ms.slice(Math.min(20, frames >> 2)); // past the JIT warm-up
}

export function benchUi(scale = 1): Row[] {
  const rows: Row[] = [];
  const frames = Math.max(60, Math.round(300 * scale));
  for (const pages of [65536, 262144]) {
    const ms = frameTimes(pages, frames);
    rows.push(
      { name: `ui.heatmap_frame_ms.${pages}.median`, value: median(ms), unit: 'ms', target: { op: '<=', value: 16 } },
      { name: `ui.heatmap_frame_ms.${pages}.p99`, value: quantile(ms, 0.99), unit: 'ms', target: { op: '<=', value: 16 } },
    );
  }
  return rows;
}
