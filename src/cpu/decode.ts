// Decoding one instruction word into the compact form the interpreter runs:
// two int32 per instruction in a decode-cache slot (see decode-cache.ts).
//
//   word 0: op | rd << 8 | rs1 << 14 | rs2 << 19      (never 0 once decoded)
//   word 1: the immediate, sign-extended and pre-shifted (or the CSR number,
//           or for ILLEGAL the raw instruction bits, which become mtval)
//
// rd = x0 is stored as 32, the index of a scratch "sink" register after x31,
// so the interpreter writes x[rd] unconditionally and x0 stays 0 for free.

import { decodeIndex, immB, immI, immJ, immS, immU } from './isa.ts';
import {
  OP, OP_OF_INSN, SHAPE_B, SHAPE_CSR, SHAPE_I, SHAPE_J, SHAPE_OF_OP, SHAPE_R, SHAPE_S,
  SHAPE_SHIFT, SHAPE_U,
} from './ops.ts';

/** Register index that absorbs writes to x0. */
export const REG_SINK = 32;

export const packOp = (op: number, rd: number, rs1: number, rs2: number): number =>
  op | (rd << 8) | (rs1 << 14) | (rs2 << 19);

/** Decode `word` into code[k], code[k+1]; returns the packed first word. */
export function decodeInto(code: Int32Array, k: number, word: number): number {
  const idx = decodeIndex(word);
  let op = idx < 0 ? OP.ILLEGAL : OP_OF_INSN[idx];
  let rd = (word >>> 7) & 31;
  const rs1 = (word >>> 15) & 31;
  const rs2 = (word >>> 20) & 31;
  let imm = 0;
  switch (SHAPE_OF_OP[op]) {
    case SHAPE_I: imm = immI(word); break;
    case SHAPE_S: imm = immS(word); break;
    case SHAPE_B: imm = immB(word); break;
    case SHAPE_U: imm = immU(word); break;
    case SHAPE_J: imm = immJ(word); break;
    case SHAPE_SHIFT: imm = rs2; break; // shamt sits in the rs2 field
    case SHAPE_CSR: imm = word >>> 20; break;
    case SHAPE_R: break;
    default: break;
  }
  if (rd === 0) rd = REG_SINK;
  // IALIGN=32: a taken jump to an address with bit 1 set traps on the jump.
  // pc is always 4-aligned, so that depends only on the offset; decide it here
  // to keep the check out of the hot branch ops.
  if ((imm & 2) !== 0 && SHAPE_OF_OP[op] === SHAPE_B) {
    rd = op; // the condition to evaluate
    op = OP.BR_MISALIGNED;
  } else if ((imm & 2) !== 0 && op === OP.JAL) {
    op = OP.JAL_MISALIGNED;
  }
  if (op === OP.ILLEGAL) imm = word;
  const packed = packOp(op, rd, rs1, rs2);
  code[k] = packed;
  code[k + 1] = imm;
  return packed;
}
