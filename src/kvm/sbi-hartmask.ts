// The SBI "hart list" parameter: (hart_mask, hart_mask_base). Bit i of
// hart_mask names hart hart_mask_base + i; a base of -1 (all ones) means every
// hart, ignoring the mask. Since a hart mask is XLEN = 32 bits here and we
// have at most 32 harts, the result fits one unsigned word with bit h = hart h.
//
// Errors (SBI v2.0, "Hart Mask Errors"): SBI_ERR_INVALID_PARAM if the base or
// any named hart is not valid. We check the whole list before anyone is
// touched, so an invalid call has no effect. (KVM delivers to the valid harts
// first and then reports the error; the spec permits either, and
// all-or-nothing is easier to reason about.)

/** Returned by decodeHartMask when the list names a hart that does not exist. */
export const HARTMASK_INVALID = -1;

/** The harts named by (mask, base), as an unsigned bitmask, or HARTMASK_INVALID. */
export function decodeHartMask(mask: number, base: number, nvcpus: number): number {
  const all = nvcpus >= 32 ? 0xffff_ffff : (1 << nvcpus) - 1;
  if ((base | 0) === -1) return all >>> 0;
  const b = base >>> 0;
  if (b >= nvcpus) return HARTMASK_INVALID;
  const m = mask >>> 0;
  // Harts b+i for i >= nvcpus - b do not exist: such bits must be clear.
  const room = nvcpus - b; // 1..32
  if (room < 32 && m >>> room !== 0) return HARTMASK_INVALID;
  return (m << b) >>> 0;
}
