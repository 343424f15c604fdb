// The high halves of 32x32->64-bit products (mulh, mulhsu, mulhu) without
// BigInt: split into 16-bit limbs so every partial product is exact in a double.

/** High 32 bits of the unsigned product a*b (a, b taken as uint32). */
export function mulhu(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const lo = a0 * b0;
  const m1 = a1 * b0;
  const m2 = a0 * b1;
  // Carry out of bits 16..31: the low halves of the middle products plus the
  // high half of the low product (< 3 * 2^16, exact).
  const mid = (lo >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
  return (a1 * b1 + (m1 >>> 16) + (m2 >>> 16) + (mid >>> 16)) | 0;
}

/** High 32 bits of the signed product. Signed = unsigned minus the borrow of each negative operand. */
export function mulh(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
}

/** High 32 bits of signed a times unsigned b. */
export function mulhsu(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0)) | 0;
}
