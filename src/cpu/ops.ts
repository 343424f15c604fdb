// The hart's internal operation numbers and how each INSNS entry of isa.ts maps
// to one. The interpreter's switch dispatches on these numbers; they are dense
// small integers so V8 compiles the switch to a jump table. The switch in
// interp.ts writes them as literals (V8 only builds a jump table for literal
// case labels); test/cpu/ops.test.ts checks that every `case N: // NAME` there
// agrees with this table.

import { INSNS } from './isa.ts';

export const OP = {
  DECODE: 0, // slot not decoded yet (never dispatched)
  ILLEGAL: 1,
  LUI: 2, AUIPC: 3, JAL: 4, JALR: 5,
  BEQ: 6, BNE: 7, BLT: 8, BGE: 9, BLTU: 10, BGEU: 11,
  LB: 12, LH: 13, LW: 14, LBU: 15, LHU: 16,
  SB: 17, SH: 18, SW: 19,
  ADDI: 20, SLTI: 21, SLTIU: 22, XORI: 23, ORI: 24, ANDI: 25,
  SLLI: 26, SRLI: 27, SRAI: 28,
  ADD: 29, SUB: 30, SLL: 31, SLT: 32, SLTU: 33, XOR: 34, SRL: 35, SRA: 36, OR: 37, AND: 38,
  MUL: 39, MULH: 40, MULHSU: 41, MULHU: 42, DIV: 43, DIVU: 44, REM: 45, REMU: 46,
  FENCE: 47, FENCE_I: 48,
  ECALL: 49, EBREAK: 50, MRET: 51, SRET: 52, WFI: 53, SFENCE_VMA: 54,
  CSRRW: 55, CSRRS: 56, CSRRC: 57, CSRRWI: 58, CSRRSI: 59, CSRRCI: 60,
  LR_W: 61, SC_W: 62,
  AMOSWAP: 63, AMOADD: 64, AMOXOR: 65, AMOAND: 66, AMOOR: 67,
  AMOMIN: 68, AMOMAX: 69, AMOMINU: 70, AMOMAXU: 71,
  /** A branch whose target is not 4-byte aligned: traps if taken (cond op in the rd field). */
  BR_MISALIGNED: 72,
  /** A JAL whose target is not 4-byte aligned: always traps. */
  JAL_MISALIGNED: 73,
} as const;

export const OP_COUNT = 74;

/** isa.ts mnemonic -> our op. Every INSNS entry must appear here. */
const OP_BY_NAME: Record<string, number> = {
  'lui': OP.LUI, 'auipc': OP.AUIPC, 'jal': OP.JAL, 'jalr': OP.JALR,
  'beq': OP.BEQ, 'bne': OP.BNE, 'blt': OP.BLT, 'bge': OP.BGE, 'bltu': OP.BLTU, 'bgeu': OP.BGEU,
  'lb': OP.LB, 'lh': OP.LH, 'lw': OP.LW, 'lbu': OP.LBU, 'lhu': OP.LHU,
  'sb': OP.SB, 'sh': OP.SH, 'sw': OP.SW,
  'addi': OP.ADDI, 'slti': OP.SLTI, 'sltiu': OP.SLTIU, 'xori': OP.XORI, 'ori': OP.ORI,
  'andi': OP.ANDI, 'slli': OP.SLLI, 'srli': OP.SRLI, 'srai': OP.SRAI,
  'add': OP.ADD, 'sub': OP.SUB, 'sll': OP.SLL, 'slt': OP.SLT, 'sltu': OP.SLTU, 'xor': OP.XOR,
  'srl': OP.SRL, 'sra': OP.SRA, 'or': OP.OR, 'and': OP.AND,
  'mul': OP.MUL, 'mulh': OP.MULH, 'mulhsu': OP.MULHSU, 'mulhu': OP.MULHU,
  'div': OP.DIV, 'divu': OP.DIVU, 'rem': OP.REM, 'remu': OP.REMU,
  'fence': OP.FENCE, 'fence.i': OP.FENCE_I,
  'ecall': OP.ECALL, 'ebreak': OP.EBREAK, 'mret': OP.MRET, 'sret': OP.SRET, 'wfi': OP.WFI,
  'sfence.vma': OP.SFENCE_VMA,
  'csrrw': OP.CSRRW, 'csrrs': OP.CSRRS, 'csrrc': OP.CSRRC,
  'csrrwi': OP.CSRRWI, 'csrrsi': OP.CSRRSI, 'csrrci': OP.CSRRCI,
  'lr.w': OP.LR_W, 'sc.w': OP.SC_W,
  'amoswap.w': OP.AMOSWAP, 'amoadd.w': OP.AMOADD, 'amoxor.w': OP.AMOXOR, 'amoand.w': OP.AMOAND,
  'amoor.w': OP.AMOOR, 'amomin.w': OP.AMOMIN, 'amomax.w': OP.AMOMAX,
  'amominu.w': OP.AMOMINU, 'amomaxu.w': OP.AMOMAXU,
  // Hints the table may one day list separately behave as the base instruction.
  'fence.tso': OP.FENCE, 'pause': OP.FENCE,
};

/** INSNS index -> op, built once at module load. Unknown mnemonics decode as ILLEGAL. */
export const OP_OF_INSN: Int32Array = buildOpTable();

/** INSNS mnemonics this hart does not know (should be empty; checked by a test). */
export const UNMAPPED_INSNS: readonly string[] = INSNS.filter((d) => !(d.name in OP_BY_NAME)).map(
  (d) => d.name,
);

function buildOpTable(): Int32Array {
  const t = new Int32Array(INSNS.length);
  INSNS.forEach((d, i) => {
    t[i] = OP_BY_NAME[d.name] ?? OP.ILLEGAL;
  });
  return t;
}

/** Operand shapes the decoder extracts (our own grouping, independent of isa.ts's Fmt). */
export const SHAPE_NONE = 0; // no operands kept
export const SHAPE_R = 1; // rd, rs1, rs2
export const SHAPE_I = 2; // rd, rs1, imm[11:0]
export const SHAPE_S = 3; // rs1, rs2, store offset
export const SHAPE_B = 4; // rs1, rs2, branch offset
export const SHAPE_U = 5; // rd, imm[31:12]
export const SHAPE_J = 6; // rd, jump offset
export const SHAPE_SHIFT = 7; // rd, rs1, shamt
export const SHAPE_CSR = 8; // rd, rs1 (or uimm), csr number in imm

/** op -> operand shape. */
export const SHAPE_OF_OP: Uint8Array = buildShapes();

function buildShapes(): Uint8Array {
  const s = new Uint8Array(OP_COUNT); // default SHAPE_NONE
  const set = (shape: number, ...ops: number[]): void => ops.forEach((o) => (s[o] = shape));
  set(SHAPE_U, OP.LUI, OP.AUIPC);
  set(SHAPE_J, OP.JAL);
  set(SHAPE_I, OP.JALR, OP.LB, OP.LH, OP.LW, OP.LBU, OP.LHU,
    OP.ADDI, OP.SLTI, OP.SLTIU, OP.XORI, OP.ORI, OP.ANDI);
  set(SHAPE_B, OP.BEQ, OP.BNE, OP.BLT, OP.BGE, OP.BLTU, OP.BGEU);
  set(SHAPE_S, OP.SB, OP.SH, OP.SW);
  set(SHAPE_SHIFT, OP.SLLI, OP.SRLI, OP.SRAI);
  set(SHAPE_R, OP.ADD, OP.SUB, OP.SLL, OP.SLT, OP.SLTU, OP.XOR, OP.SRL, OP.SRA, OP.OR, OP.AND,
    OP.MUL, OP.MULH, OP.MULHSU, OP.MULHU, OP.DIV, OP.DIVU, OP.REM, OP.REMU,
    OP.LR_W, OP.SC_W, OP.AMOSWAP, OP.AMOADD, OP.AMOXOR, OP.AMOAND, OP.AMOOR,
    OP.AMOMIN, OP.AMOMAX, OP.AMOMINU, OP.AMOMAXU, OP.SFENCE_VMA);
  set(SHAPE_CSR, OP.CSRRW, OP.CSRRS, OP.CSRRC, OP.CSRRWI, OP.CSRRSI, OP.CSRRCI);
  return s;
}
