// The one RISC-V encoding table of webkvm: RV32I, M, A, Zicsr, Zifencei and
// the privileged instructions a bare-metal or S-mode guest uses.
//
// The assembler encodes from it, the disassembler prints from it and the hart's
// decoder classifies words with it, so an encoding can only be wrong in one place.
// Numbers are from the RISC-V Unprivileged ISA (chapters "RV32I", "M", "A",
// "Zicsr", "Zifencei", and the "RV32/64G Instruction Set Listings") and the
// Privileged Architecture (trap-return, wfi, sfence.vma, and the CSR listing).
//
// An instruction is identified by `(word & mask) === match`. Every mask covers
// the 7-bit major opcode, so two entries never match the same word unless one
// is a special case of the other (none are, today; decodeIndex still tries the
// most specific mask first so that adding such a pair stays safe).

/** Operand layout: how the assembler parses and the disassembler prints operands. */
export const enum Fmt {
  /** add rd,rs1,rs2 */
  R,
  /** addi rd,rs1,imm12 (also jalr rd,imm(rs1) by special case in the parsers) */
  I,
  /** (unused by base instructions: stores use STORE) kept for the layout name */
  S,
  /** beq rs1,rs2,target (13-bit, even, pc-relative) */
  B,
  /** lui rd,imm20 */
  U,
  /** jal rd,target (21-bit, even, pc-relative) */
  J,
  /** slli rd,rs1,shamt (shamt 0..31 in bits 24:20) */
  SHIFT,
  /** csrrw rd,csr,rs1 */
  CSR,
  /** csrrwi rd,csr,uimm5 (uimm in the rs1 field) */
  CSRI,
  /** amoadd.w rd,rs2,(rs1); aq = bit 26, rl = bit 25 are operands, not part of match */
  AMO,
  /** lr.w rd,(rs1); aq/rl as for AMO */
  LR,
  /** lw rd,imm(rs1) */
  LOAD,
  /** sw rs2,imm(rs1) */
  STORE,
  /** fence pred,succ (pred in bits 27:24, succ in 23:20) */
  FENCE,
  /** no operands: ecall, ebreak, mret, sret, wfi, fence.i */
  NONE,
  /** sfence.vma rs1,rs2 */
  SFENCE,
}

export type IsaExt = 'I' | 'M' | 'A' | 'Zicsr' | 'Zifencei' | 'priv';

export interface InsnDef {
  name: string;
  match: number;
  mask: number;
  fmt: Fmt;
  ext: IsaExt;
}

// Major opcodes (bits 6:0), named as in the spec's opcode map.
export const OPC_LOAD = 0x03;
export const OPC_MISC_MEM = 0x0f;
export const OPC_OP_IMM = 0x13;
export const OPC_AUIPC = 0x17;
export const OPC_STORE = 0x23;
export const OPC_AMO = 0x2f;
export const OPC_OP = 0x33;
export const OPC_LUI = 0x37;
export const OPC_BRANCH = 0x63;
export const OPC_JALR = 0x67;
export const OPC_JAL = 0x6f;
export const OPC_SYSTEM = 0x73;

// Masks for the common shapes. `>>> 0` keeps them as non-negative numbers so
// that the table prints readably; comparisons always go through `>>> 0` too.
const M_OPC = 0x0000007f; // opcode only (U and J types)
const M_F3 = 0x0000707f; // opcode + funct3 (I, S, B types)
const M_F7 = 0xfe00707f >>> 0; // opcode + funct3 + funct7 (R type, shifts)
const M_AMO = 0xf800707f >>> 0; // opcode + funct3 + funct5; aq/rl free
const M_LR = 0xf9f0707f >>> 0; // as AMO, plus rs2 must be 0
const M_ALL = 0xffffffff >>> 0; // fixed words: ecall, mret...
const M_SFENCE = 0xfe007fff >>> 0; // funct7 + rd=0 + funct3 + opcode

const f3 = (n: number): number => n << 12;
const f7 = (n: number): number => (n << 25) >>> 0;
const f5 = (n: number): number => (n << 27) >>> 0;

function def(name: string, match: number, mask: number, fmt: Fmt, ext: IsaExt): InsnDef {
  return Object.freeze({ name, match: match >>> 0, mask: mask >>> 0, fmt, ext });
}

function amo(name: string, funct5: number): InsnDef {
  return def(name, OPC_AMO | f3(2) | f5(funct5), M_AMO, Fmt.AMO, 'A');
}

export const INSNS: readonly InsnDef[] = Object.freeze([
  // RV32I: upper immediates and jumps
  def('lui', OPC_LUI, M_OPC, Fmt.U, 'I'),
  def('auipc', OPC_AUIPC, M_OPC, Fmt.U, 'I'),
  def('jal', OPC_JAL, M_OPC, Fmt.J, 'I'),
  def('jalr', OPC_JALR | f3(0), M_F3, Fmt.I, 'I'),
  // RV32I: conditional branches
  def('beq', OPC_BRANCH | f3(0), M_F3, Fmt.B, 'I'),
  def('bne', OPC_BRANCH | f3(1), M_F3, Fmt.B, 'I'),
  def('blt', OPC_BRANCH | f3(4), M_F3, Fmt.B, 'I'),
  def('bge', OPC_BRANCH | f3(5), M_F3, Fmt.B, 'I'),
  def('bltu', OPC_BRANCH | f3(6), M_F3, Fmt.B, 'I'),
  def('bgeu', OPC_BRANCH | f3(7), M_F3, Fmt.B, 'I'),
  // RV32I: loads and stores
  def('lb', OPC_LOAD | f3(0), M_F3, Fmt.LOAD, 'I'),
  def('lh', OPC_LOAD | f3(1), M_F3, Fmt.LOAD, 'I'),
  def('lw', OPC_LOAD | f3(2), M_F3, Fmt.LOAD, 'I'),
  def('lbu', OPC_LOAD | f3(4), M_F3, Fmt.LOAD, 'I'),
  def('lhu', OPC_LOAD | f3(5), M_F3, Fmt.LOAD, 'I'),
  def('sb', OPC_STORE | f3(0), M_F3, Fmt.STORE, 'I'),
  def('sh', OPC_STORE | f3(1), M_F3, Fmt.STORE, 'I'),
  def('sw', OPC_STORE | f3(2), M_F3, Fmt.STORE, 'I'),
  // RV32I: register-immediate
  def('addi', OPC_OP_IMM | f3(0), M_F3, Fmt.I, 'I'),
  def('slti', OPC_OP_IMM | f3(2), M_F3, Fmt.I, 'I'),
  def('sltiu', OPC_OP_IMM | f3(3), M_F3, Fmt.I, 'I'),
  def('xori', OPC_OP_IMM | f3(4), M_F3, Fmt.I, 'I'),
  def('ori', OPC_OP_IMM | f3(6), M_F3, Fmt.I, 'I'),
  def('andi', OPC_OP_IMM | f3(7), M_F3, Fmt.I, 'I'),
  // RV32 shifts: shamt[5] (bit 25) must be 0, so it is part of the funct7 mask.
  def('slli', OPC_OP_IMM | f3(1) | f7(0x00), M_F7, Fmt.SHIFT, 'I'),
  def('srli', OPC_OP_IMM | f3(5) | f7(0x00), M_F7, Fmt.SHIFT, 'I'),
  def('srai', OPC_OP_IMM | f3(5) | f7(0x20), M_F7, Fmt.SHIFT, 'I'),
  // RV32I: register-register
  def('add', OPC_OP | f3(0) | f7(0x00), M_F7, Fmt.R, 'I'),
  def('sub', OPC_OP | f3(0) | f7(0x20), M_F7, Fmt.R, 'I'),
  def('sll', OPC_OP | f3(1) | f7(0x00), M_F7, Fmt.R, 'I'),
  def('slt', OPC_OP | f3(2) | f7(0x00), M_F7, Fmt.R, 'I'),
  def('sltu', OPC_OP | f3(3) | f7(0x00), M_F7, Fmt.R, 'I'),
  def('xor', OPC_OP | f3(4) | f7(0x00), M_F7, Fmt.R, 'I'),
  def('srl', OPC_OP | f3(5) | f7(0x00), M_F7, Fmt.R, 'I'),
  def('sra', OPC_OP | f3(5) | f7(0x20), M_F7, Fmt.R, 'I'),
  def('or', OPC_OP | f3(6) | f7(0x00), M_F7, Fmt.R, 'I'),
  def('and', OPC_OP | f3(7) | f7(0x00), M_F7, Fmt.R, 'I'),
  // RV32I: memory ordering and environment. fence's fm/rs1/rd fields are
  // reserved for future use and ignored by hardware, so they are not matched.
  def('fence', OPC_MISC_MEM | f3(0), M_F3, Fmt.FENCE, 'I'),
  def('ecall', 0x00000073, M_ALL, Fmt.NONE, 'I'),
  def('ebreak', 0x00100073, M_ALL, Fmt.NONE, 'I'),
  // Zifencei: imm/rs1/rd are reserved and ignored, as for fence.
  def('fence.i', OPC_MISC_MEM | f3(1), M_F3, Fmt.NONE, 'Zifencei'),
  // M extension: funct7 = 0000001
  def('mul', OPC_OP | f3(0) | f7(0x01), M_F7, Fmt.R, 'M'),
  def('mulh', OPC_OP | f3(1) | f7(0x01), M_F7, Fmt.R, 'M'),
  def('mulhsu', OPC_OP | f3(2) | f7(0x01), M_F7, Fmt.R, 'M'),
  def('mulhu', OPC_OP | f3(3) | f7(0x01), M_F7, Fmt.R, 'M'),
  def('div', OPC_OP | f3(4) | f7(0x01), M_F7, Fmt.R, 'M'),
  def('divu', OPC_OP | f3(5) | f7(0x01), M_F7, Fmt.R, 'M'),
  def('rem', OPC_OP | f3(6) | f7(0x01), M_F7, Fmt.R, 'M'),
  def('remu', OPC_OP | f3(7) | f7(0x01), M_F7, Fmt.R, 'M'),
  // A extension (word size, funct3 = 010); funct5 in bits 31:27
  def('lr.w', OPC_AMO | f3(2) | f5(0b00010), M_LR, Fmt.LR, 'A'),
  amo('sc.w', 0b00011),
  amo('amoswap.w', 0b00001),
  amo('amoadd.w', 0b00000),
  amo('amoxor.w', 0b00100),
  amo('amoand.w', 0b01100),
  amo('amoor.w', 0b01000),
  amo('amomin.w', 0b10000),
  amo('amomax.w', 0b10100),
  amo('amominu.w', 0b11000),
  amo('amomaxu.w', 0b11100),
  // Zicsr
  def('csrrw', OPC_SYSTEM | f3(1), M_F3, Fmt.CSR, 'Zicsr'),
  def('csrrs', OPC_SYSTEM | f3(2), M_F3, Fmt.CSR, 'Zicsr'),
  def('csrrc', OPC_SYSTEM | f3(3), M_F3, Fmt.CSR, 'Zicsr'),
  def('csrrwi', OPC_SYSTEM | f3(5), M_F3, Fmt.CSRI, 'Zicsr'),
  def('csrrsi', OPC_SYSTEM | f3(6), M_F3, Fmt.CSRI, 'Zicsr'),
  def('csrrci', OPC_SYSTEM | f3(7), M_F3, Fmt.CSRI, 'Zicsr'),
  // Privileged: trap return, wait for interrupt, address-translation fence
  def('sret', 0x10200073, M_ALL, Fmt.NONE, 'priv'),
  def('mret', 0x30200073, M_ALL, Fmt.NONE, 'priv'),
  def('wfi', 0x10500073, M_ALL, Fmt.NONE, 'priv'),
  def('sfence.vma', OPC_SYSTEM | f7(0x09), M_SFENCE, Fmt.SFENCE, 'priv'),
]);

// ---------------------------------------------------------------------------
// Decoding: buckets keyed by opcode[6:2] and funct3, each holding the few
// entries that can match there, most specific mask first.

const BUCKETS: readonly (readonly number[])[] = buildBuckets();

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v >>>= 1) n += v & 1;
  return n;
}

function bucketKey(word: number): number {
  return (((word >>> 2) & 0x1f) << 3) | ((word >>> 12) & 7);
}

function buildBuckets(): number[][] {
  const buckets: number[][] = Array.from({ length: 256 }, () => []);
  INSNS.forEach((d, index) => {
    const usesF3 = (d.mask & 0x7000) !== 0;
    for (let funct3 = 0; funct3 < 8; funct3++) {
      if (usesF3 && ((d.match >>> 12) & 7) !== funct3) continue;
      buckets[bucketKey(d.match & 0x7f) | funct3].push(index);
    }
  });
  for (const b of buckets) b.sort((x, y) => popcount(INSNS[y].mask) - popcount(INSNS[x].mask));
  return buckets;
}

/**
 * Index into INSNS of the instruction this 32-bit word encodes, or -1.
 * Words whose low two bits are not 11 are 16-bit (RVC) encodings: unsupported, -1.
 */
export function decodeIndex(word: number): number {
  if ((word & 3) !== 3) return -1;
  const bucket = BUCKETS[bucketKey(word)];
  for (let i = 0; i < bucket.length; i++) {
    const d = INSNS[bucket[i]];
    if (((word & d.mask) >>> 0) === d.match) return bucket[i];
  }
  return -1;
}

const INDEX_BY_NAME: ReadonlyMap<string, number> = new Map(INSNS.map((d, i) => [d.name, i]));

/** Index into INSNS of a mnemonic (e.g. 'amoadd.w'), or -1. For building dispatch tables. */
export function insnIndex(name: string): number {
  return INDEX_BY_NAME.get(name) ?? -1;
}

// ---------------------------------------------------------------------------
// Field extraction, shared by the disassembler and available to the hart.
// Immediates are returned sign-extended as int32 (JS numbers).

export const rdOf = (w: number): number => (w >>> 7) & 31;
export const rs1Of = (w: number): number => (w >>> 15) & 31;
export const rs2Of = (w: number): number => (w >>> 20) & 31;
export const funct3Of = (w: number): number => (w >>> 12) & 7;
/** CSR number (bits 31:20), unsigned 0..4095. */
export const csrOf = (w: number): number => w >>> 20;

/** I-type immediate: bits 31:20, sign-extended. */
export function immI(w: number): number {
  return w >> 20;
}

/** S-type immediate: bits 31:25 | 11:7, sign-extended. */
export function immS(w: number): number {
  return ((w >> 25) << 5) | ((w >>> 7) & 0x1f);
}

/** B-type immediate: imm[12|10:5] in 31:25, imm[4:1|11] in 11:7; always even. */
export function immB(w: number): number {
  return (
    ((w >> 31) << 12) | // imm[12], sign
    (((w >>> 7) & 1) << 11) | // imm[11]
    (((w >>> 25) & 0x3f) << 5) | // imm[10:5]
    (((w >>> 8) & 0xf) << 1) // imm[4:1]
  );
}

/** U-type immediate: bits 31:12 in place, low 12 bits zero (as int32). */
export function immU(w: number): number {
  return w & 0xfffff000;
}

/** J-type immediate: imm[20|10:1|11|19:12] in 31:12; always even. */
export function immJ(w: number): number {
  return (
    ((w >> 31) << 20) | // imm[20], sign
    (w & 0xff000) | // imm[19:12] already in place
    (((w >>> 20) & 1) << 11) | // imm[11]
    (((w >>> 21) & 0x3ff) << 1) // imm[10:1]
  );
}

// ---------------------------------------------------------------------------
// Register and CSR names.

/** ABI register names, x0..x31, as the psABI (and objdump) spell them. */
export const REG_NAMES: readonly string[] = Object.freeze([
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2',
  's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7',
  's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
]);

/** Standard CSR numbers -> names (Privileged spec, "CSR Listing"). RV32 view. */
export const CSR_NAMES: Record<number, string> = buildCsrNames();

function buildCsrNames(): Record<number, string> {
  const n: Record<number, string> = {
    // Supervisor
    0x100: 'sstatus', 0x104: 'sie', 0x105: 'stvec', 0x106: 'scounteren', 0x10a: 'senvcfg',
    0x140: 'sscratch', 0x141: 'sepc', 0x142: 'scause', 0x143: 'stval', 0x144: 'sip',
    0x180: 'satp',
    // Machine trap setup and handling
    0x300: 'mstatus', 0x301: 'misa', 0x302: 'medeleg', 0x303: 'mideleg', 0x304: 'mie',
    0x305: 'mtvec', 0x306: 'mcounteren', 0x30a: 'menvcfg', 0x310: 'mstatush',
    0x31a: 'menvcfgh', 0x320: 'mcountinhibit',
    0x340: 'mscratch', 0x341: 'mepc', 0x342: 'mcause', 0x343: 'mtval', 0x344: 'mip',
    // Debug/trace triggers
    0x7a0: 'tselect', 0x7a1: 'tdata1', 0x7a2: 'tdata2', 0x7a3: 'tdata3',
    // Machine counters
    0xb00: 'mcycle', 0xb02: 'minstret', 0xb80: 'mcycleh', 0xb82: 'minstreth',
    // Unprivileged counters (read-only shadows)
    0xc00: 'cycle', 0xc01: 'time', 0xc02: 'instret',
    0xc80: 'cycleh', 0xc81: 'timeh', 0xc82: 'instreth',
    // Machine information
    0xf11: 'mvendorid', 0xf12: 'marchid', 0xf13: 'mimpid', 0xf14: 'mhartid',
    0xf15: 'mconfigptr',
  };
  for (let i = 0; i < 4; i++) n[0x3a0 + i] = `pmpcfg${i}`;
  for (let i = 0; i < 16; i++) n[0x3b0 + i] = `pmpaddr${i}`;
  for (let i = 3; i <= 31; i++) {
    n[0x320 + i] = `mhpmevent${i}`;
    n[0xb00 + i] = `mhpmcounter${i}`;
    n[0xb80 + i] = `mhpmcounter${i}h`;
    n[0xc00 + i] = `hpmcounter${i}`;
    n[0xc80 + i] = `hpmcounter${i}h`;
  }
  return n;
}

/** CSR name -> number, the inverse of CSR_NAMES. */
export const CSR_NUMBERS: ReadonlyMap<string, number> = new Map(
  Object.entries(CSR_NAMES).map(([num, name]) => [name, Number(num)]),
);
