// The cividis colour map as a 256-entry lookup table of packed pixels.
//
// Cividis (Nuñez, Anderton & Renslow, PLOS ONE 2018) runs from dark blue
// through grey to yellow and was tuned to look nearly the same to viewers with
// red-green colour-vision deficiency; its lightness rises evenly, so "hotter"
// always reads as "lighter" (web-platform-notes §9). We rebuild it from five
// anchor colours sampled along the map, interpolated linearly in sRGB, which is
// close enough for a heat map and keeps the table out of the source.
const ANCHORS: readonly (readonly [number, number, number])[] = [
  [0x00, 0x22, 0x4e], // 0.00
  [0x35, 0x45, 0x6c], // 0.25
  [0x7c, 0x7b, 0x78], // 0.50
  [0xbc, 0xaf, 0x6f], // 0.75
  [0xfe, 0xe8, 0x38], // 1.00
];

/** Pack r, g, b as one opaque pixel for a Uint32Array view of ImageData (little-endian RGBA). */
export function packRgb(r: number, g: number, b: number): number {
  return ((0xff << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** Colour at t in [0, 1] as [r, g, b]. */
export function cividisRgb(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (ANCHORS.length - 1);
  const i = Math.min(ANCHORS.length - 2, Math.floor(x));
  const f = x - i;
  const a = ANCHORS[i]!;
  const b = ANCHORS[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
}

/** 256 packed pixels, index = heat (0 cold, 255 just dirtied). */
export function cividisLut(): Uint32Array {
  const lut = new Uint32Array(256);
  for (let i = 0; i < 256; i++) lut[i] = packRgb(...cividisRgb(i / 255));
  return lut;
}

/** CSS colour at t, for the legend (same numbers as the canvas). */
export function cividisCss(t: number): string {
  const [r, g, b] = cividisRgb(t);
  return `rgb(${r} ${g} ${b})`;
}
