// The heat map's per-frame work, in typed arrays only (no allocation per frame):
//   fold:   a set dirty bit puts its page at full heat; other pages cool down by
//           `decay` (-1 under reduced motion means "no fade": heat follows the bit);
//   flash:  pages a collection returned go back to full heat, then fade;
//   render: heat -> cividis LUT, cold pages that were ever backed in a dim
//           colour, never-backed pages in the background colour; and
//           whether any pixel changed since the last frame.
// It returns how many pages are dirty right now (the live bitmap's set bits).
import { hweight32 } from '../kvm/bitops.ts';

export const HEAT_MAX = 255;

export class DirtyHeat {
  readonly heat: Uint8Array;
  /** Did the last render() change any pixel? (false: the canvas already shows this frame) */
  changed = true;

  constructor(readonly pages: number) {
    this.heat = new Uint8Array(pages);
  }

  /** Fold the live bitmap into the heat array; `decay` heat units per call, or -1 for no fade. */
  fold(dirty: Uint32Array, decay: number): number {
    const heat = this.heat;
    const pages = this.pages;
    let count = 0;
    for (let w = 0; w < dirty.length; w++) {
      const bits = Atomics.load(dirty, w);
      count += hweight32(bits);
      const first = w << 5;
      const last = Math.min(pages, first + 32);
      if (bits === 0 && decay > 0) {
        for (let p = first; p < last; p++) {
          const v = heat[p]!;
          if (v !== 0) heat[p] = v > decay ? v - decay : 0;
        }
        continue;
      }
      for (let p = first; p < last; p++) {
        if ((bits >>> (p - first)) & 1) heat[p] = HEAT_MAX;
        else if (decay < 0) heat[p] = 0;
        else {
          const v = heat[p]!;
          if (v !== 0) heat[p] = v > decay ? v - decay : 0;
        }
      }
    }
    return count;
  }

  /**
   * A collection just reported these pages (bit i = page i): they go to full
   * heat and fade from now on. In bitmap mode GET already cleared their live
   * bits, so this restarts the fade at the moment of collection; in ring mode
   * (no live bits: pages go to the vCPUs' rings) it is the only heat there is.
   */
  flash(bitmap: Uint32Array): void {
    const heat = this.heat;
    const words = Math.min(bitmap.length, Math.ceil(this.pages / 32));
    for (let w = 0; w < words; w++) {
      let bits = bitmap[w]!;
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const p = (w << 5) + b;
        if (p < this.pages) heat[p] = HEAT_MAX;
      }
    }
  }

  /**
   * Write one pixel per page into `pixels` (a Uint32Array view of ImageData),
   * page `selected` (if any) in `selectedPixel`; returns the pages not yet
   * cold. `changed` says whether any pixel differs from the previous frame, so
   * the panel can skip putImageData when nothing moved (an idle VM); the
   * comparison is a branch-free xor, cheaper than a test per pixel.
   */
  render(
    pixels: Uint32Array, gfnTable: Int32Array, lut: Uint32Array, backed: number, unbacked: number,
    selected = -1, selectedPixel = 0,
  ): number {
    const heat = this.heat;
    const n = Math.min(this.pages, pixels.length, gfnTable.length);
    let hot = 0;
    let diff = 0;
    for (let p = 0; p < n; p++) {
      const v = heat[p]!;
      let px: number;
      if (v !== 0) {
        px = lut[v]!;
        hot++;
      } else px = gfnTable[p] !== 0 ? backed : unbacked;
      if (p === selected) px = selectedPixel;
      diff |= pixels[p]! ^ px;
      pixels[p] = px;
    }
    this.changed = diff !== 0;
    return hot;
  }
}
