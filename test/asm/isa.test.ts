// The shared encoding table: every entry decodes to itself, entries never
// overlap, and the field extractors invert the encodings.
import { describe, expect, it } from 'vitest';
import {
  CSR_NAMES, CSR_NUMBERS, Fmt, INSNS, REG_NAMES, decodeIndex, immB, immI, immJ, immS, immU, insnIndex,
} from '../../src/cpu/isa.ts';

describe('INSNS', () => {
  it('covers RV32I, M, A, Zicsr, Zifencei and the privileged instructions', () => {
    const names = INSNS.map((d) => d.name);
    for (const n of [
      'lui', 'auipc', 'jal', 'jalr', 'beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu', 'lb', 'lh', 'lw', 'lbu', 'lhu',
      'sb', 'sh', 'sw', 'addi', 'slti', 'sltiu', 'xori', 'ori', 'andi', 'slli', 'srli', 'srai', 'add', 'sub',
      'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and', 'fence', 'ecall', 'ebreak', 'fence.i',
      'mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu',
      'lr.w', 'sc.w', 'amoswap.w', 'amoadd.w', 'amoxor.w', 'amoand.w', 'amoor.w', 'amomin.w', 'amomax.w', 'amominu.w', 'amomaxu.w',
      'csrrw', 'csrrs', 'csrrc', 'csrrwi', 'csrrsi', 'csrrci', 'sret', 'mret', 'wfi', 'sfence.vma',
    ]) expect(names, n).toContain(n);
    expect(names).toHaveLength(70);
    expect(new Set(names).size).toBe(names.length);
  });

  it('every match is inside its mask and every mask covers the opcode', () => {
    for (const d of INSNS) {
      expect((d.match & ~d.mask) >>> 0, d.name).toBe(0);
      expect(d.mask & 0x7f, d.name).toBe(0x7f);
    }
  });

  it('no word matches two entries', () => {
    for (const a of INSNS) {
      for (const b of INSNS) {
        if (a === b) continue;
        // a's match, with b's free bits varied, never satisfies b: check the shared bits disagree.
        const common = (a.mask & b.mask) >>> 0;
        expect(((a.match ^ b.match) & common) >>> 0, `${a.name} vs ${b.name}`).not.toBe(0);
      }
    }
  });

  it('decodeIndex finds each entry from its match and from matches with free bits set', () => {
    INSNS.forEach((d, i) => {
      expect(decodeIndex(d.match), d.name).toBe(i);
      expect(decodeIndex((d.match | ~d.mask) >>> 0), d.name).toBe(i);
      expect(insnIndex(d.name)).toBe(i);
    });
  });

  it('aq/rl bits are operands, not part of an AMO match', () => {
    const i = insnIndex('amoadd.w');
    expect(decodeIndex(0x0000202f | (3 << 25))).toBe(i);
    expect(INSNS[i].fmt).toBe(Fmt.AMO);
  });

  it('rejects words that are not instructions', () => {
    expect(decodeIndex(0)).toBe(-1); // all zeros: defined illegal
    expect(decodeIndex(0xffffffff)).toBe(-1);
    expect(decodeIndex(0x4501)).toBe(-1); // a compressed (RVC) encoding: c.li a0,0
    expect(decodeIndex(0x02000013 | (1 << 12))).toBe(-1); // slli with shamt[5] set: RV64 only
    expect(decodeIndex(0x0000302f)).toBe(-1); // amoadd with funct3 011 (.d): RV64
    expect(decodeIndex(0x1015202f)).toBe(-1); // lr.w with rs2 != 0
    expect(decodeIndex(0x12000073 | (1 << 7))).toBe(-1); // sfence.vma with rd != 0
    expect(decodeIndex(0x00200073)).toBe(-1); // uret: not supported
  });
});

describe('immediate extraction (hand-computed from the spec figures)', () => {
  it('I: bits 31:20 sign-extended', () => {
    expect(immI(0xfff58513)).toBe(-1); // addi a0,a1,-1
    expect(immI(0x7ff00513)).toBe(2047);
    expect(immI(0x80000513)).toBe(-2048);
  });
  it('S: bits 31:25 and 11:7', () => {
    expect(immS(0xfeb12e23)).toBe(-4); // sw a1,-4(sp)
    expect(immS(0x7f4a2fa3)).toBe(2047);
  });
  it('B: imm[12|10:5] and imm[4:1|11]', () => {
    expect(immB(0x00b50463)).toBe(8); // beq a0,a1,.+8
    expect(immB(0x80000063)).toBe(-4096);
    expect(immB(0x7e000fe3)).toBe(4094);
    expect(immB(0x00000063 | (1 << 7))).toBe(2048); // imm[11] alone lives in bit 7
  });
  it('U: upper 20 bits in place', () => {
    expect(immU(0xfedcbdb7) >>> 0).toBe(0xfedcb000);
  });
  it('J: imm[20|10:1|11|19:12]', () => {
    expect(immJ(0xffdff06f)).toBe(-4); // j .-4
    expect(immJ(0x001000ef)).toBe(2048); // imm[11] is bit 20
    expect(immJ(0x800000ef)).toBe(-(1 << 20));
    expect(immJ(0x7ffff0ef)).toBe((1 << 20) - 2);
  });
});

describe('names', () => {
  it('REG_NAMES are the psABI names', () => {
    expect(REG_NAMES).toHaveLength(32);
    expect(REG_NAMES.slice(0, 12)).toEqual(['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1']);
    expect(REG_NAMES[17]).toBe('a7');
    expect(REG_NAMES[18]).toBe('s2');
    expect(REG_NAMES[27]).toBe('s11');
    expect(REG_NAMES[28]).toBe('t3');
    expect(REG_NAMES[31]).toBe('t6');
  });

  it('CSR_NAMES has the standard numbers', () => {
    const expected: Record<number, string> = {
      0x100: 'sstatus', 0x104: 'sie', 0x105: 'stvec', 0x106: 'scounteren', 0x10a: 'senvcfg', 0x140: 'sscratch',
      0x141: 'sepc', 0x142: 'scause', 0x143: 'stval', 0x144: 'sip', 0x180: 'satp',
      0x300: 'mstatus', 0x301: 'misa', 0x302: 'medeleg', 0x303: 'mideleg', 0x304: 'mie', 0x305: 'mtvec',
      0x306: 'mcounteren', 0x30a: 'menvcfg', 0x31a: 'menvcfgh', 0x310: 'mstatush', 0x320: 'mcountinhibit',
      0x323: 'mhpmevent3', 0x33f: 'mhpmevent31', 0x340: 'mscratch', 0x341: 'mepc', 0x342: 'mcause',
      0x343: 'mtval', 0x344: 'mip', 0x3a0: 'pmpcfg0', 0x3a3: 'pmpcfg3', 0x3b0: 'pmpaddr0', 0x3bf: 'pmpaddr15',
      0x7a0: 'tselect', 0x7a1: 'tdata1', 0x7a3: 'tdata3',
      0xb00: 'mcycle', 0xb02: 'minstret', 0xb03: 'mhpmcounter3', 0xb1f: 'mhpmcounter31', 0xb80: 'mcycleh',
      0xb82: 'minstreth', 0xb83: 'mhpmcounter3h', 0xb9f: 'mhpmcounter31h',
      0xc00: 'cycle', 0xc01: 'time', 0xc02: 'instret', 0xc03: 'hpmcounter3', 0xc1f: 'hpmcounter31',
      0xc80: 'cycleh', 0xc81: 'timeh', 0xc82: 'instreth', 0xc83: 'hpmcounter3h', 0xc9f: 'hpmcounter31h',
      0xf11: 'mvendorid', 0xf12: 'marchid', 0xf13: 'mimpid', 0xf14: 'mhartid', 0xf15: 'mconfigptr',
    };
    for (const [num, name] of Object.entries(expected)) {
      expect(CSR_NAMES[Number(num)], name).toBe(name);
      expect(CSR_NUMBERS.get(name)).toBe(Number(num));
    }
    expect(CSR_NAMES[0x000]).toBeUndefined(); // ustatus is not listed
    expect(new Set(Object.values(CSR_NAMES)).size).toBe(Object.keys(CSR_NAMES).length);
  });
});
