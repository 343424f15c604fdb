// 64-bit timer values on a machine with 32-bit words and no BigInt on hot
// paths. mtime, mtimecmp and SBI set_timer deadlines are 64-bit; guests write
// them as two 32-bit halves, and we keep them that way in `hv`.
//
// As a JS number a value is exact below 2^53 ticks (28 years at 10 MHz), which
// mtime never reaches. A compare value at or above 2^53 can therefore never
// fire: we call it Infinity. That covers the usual "disarm" value, all ones.

const TWO_32 = 4294967296;

/** Compare values with hi >= this are >= 2^53 and can never be reached. */
const HI_NEVER = 0x20_0000;

/** The deadline held in (lo, hi) as a number of ticks, or Infinity if unreachable. */
export function deadlineOf(lo: number, hi: number): number {
  const h = hi >>> 0;
  if (h >= HI_NEVER) return Infinity;
  return h * TWO_32 + (lo >>> 0);
}

/** Low 32 bits of a tick count (an integer below 2^53), as uint32. */
export function lo32(ticks: number): number {
  return ticks >>> 0; // ToUint32 is reduction modulo 2^32 for integers
}

/** High 32 bits of a tick count (an integer below 2^53), as uint32. */
export function hi32(ticks: number): number {
  return Math.floor(ticks / TWO_32) >>> 0;
}
