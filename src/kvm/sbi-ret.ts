// How an SBI call hands back its result: sbiret { error in a0, value in a1 }.
// regs is the hart's x0..x31 (Int32Array), so a0 = x10, a1 = x11, a6 = x16,
// a7 = x17. Handlers return RESUME when they wrote a result for the guest to
// continue with, or NO_RESUME when the call took the hart away (hart_stop,
// system_reset): nothing is written then, and the host stops the hart.

export const A0 = 10;
export const A1 = 11;
export const A2 = 12;
export const A3 = 13;
export const A4 = 14;
export const A5 = 15;
export const A6 = 16;
export const A7 = 17;

export const RESUME = true;
export const NO_RESUME = false;

/** Write sbiret (error, value) and continue the guest. */
export function sbiReturn(regs: Int32Array, error: number, value = 0): boolean {
  regs[A0] = error;
  regs[A1] = value;
  return RESUME;
}

/** Argument register a<n> as an unsigned 32-bit number. */
export function argU(regs: Int32Array, n: number): number {
  return regs[A0 + n]! >>> 0;
}
