// Bit counting for dirty bitmaps (Linux's hweight32 and bitmap_weight), so
// GET_DIRTY_LOG, the checkers, the VMM service and the CLI count pages the
// same way. Integers only: the SWAR sum of lib/hweight.c.

/** hweight32: the number of set bits of a 32-bit word. */
export function hweight32(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** bitmap_weight: the set bits of a whole bitmap (pages in a dirty log). */
export function bitmapWeight(bitmap: Uint32Array | Int32Array): number {
  let n = 0;
  for (let i = 0; i < bitmap.length; i++) n += hweight32(bitmap[i]!);
  return n;
}
