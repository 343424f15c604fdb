// The arithmetic behind %hi/%lo and %pcrel_hi/%pcrel_lo, and the table that
// ties a %pcrel_lo(label) to the auipc at `label`.
//
// A 32-bit value is built as (hi20 << 12) + sext(lo12). Because the 12-bit
// part is sign-extended by addi/lw/sw/jalr, hi20 must be rounded up whenever
// bit 11 of the value is set: 0x800 = (1 << 12) + (-0x800).
// For pc-relative pairs the value is `target - address of the auipc`, and the
// low part is applied by an instruction at a different pc, which is why
// %pcrel_lo names the auipc's label instead of the target.

/** Upper 20 bits for lui/auipc, rounded so the sign-extended low 12 bits add up. */
export function hi20(value: number): number {
  return ((value + 0x800) >>> 12) & 0xfffff;
}

/** Low 12 bits, sign-extended (the part addi/load/store/jalr add back). */
export function lo12(value: number): number {
  return (value << 20) >> 20;
}

/** Does `value` fit a signed immediate of `bits` bits? */
export function fitsSigned(value: number, bits: number): boolean {
  const lim = 2 ** (bits - 1);
  return value >= -lim && value < lim;
}

/**
 * %pcrel_lo(label) -> the pc-relative offset its auipc computed. Filled in
 * pass 2, before any instruction is encoded, from every
 * `auipc rd, %pcrel_hi(sym)`: key = the auipc's address, value = sym - address.
 */
export type PcrelHiTable = Map<number, number>;
