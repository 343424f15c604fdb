// Encodings of every instruction in the table (words from tables.ts, checked
// once against GNU as); a few are also derived by hand below.
import { describe, expect, it } from 'vitest';
import { INSNS } from '../../src/cpu/isa.ts';
import { asmWords, hex } from './helpers.ts';
import { ENCODINGS } from './tables.ts';


describe('instruction encodings', () => {
  it.each(ENCODINGS)('%s', (src, expected) => {
    expect(hex(asmWords(src))).toEqual(hex(expected));
    expect(hex(asmWords(src, { base: 0x8000_0000 }))).toEqual(hex(expected));
  });

  it('exercises every entry of the encoding table', () => {
    const used = new Set(ENCODINGS.map(([src]) => src.split(/\s/)[0].replace(/\.(aq|rl|aqrl)$/, '')));
    for (const d of INSNS) expect(used, d.name).toContain(d.name);
  });

  it('derives a few words by hand from the spec formats', () => {
    // addi a0, a1, -1: imm 0xfff << 20 | rs1 11 << 15 | funct3 0 | rd 10 << 7 | OP-IMM 0x13
    expect(asmWords('addi a0, a1, -1')).toEqual([((0xfff << 20) | (11 << 15) | (10 << 7) | 0x13) >>> 0]);
    // sw s9, -2048(s5): imm 0x800 -> imm[11:5] = 0x40 at 31:25, imm[4:0] = 0 at 11:7; rs2 25, rs1 21, funct3 2, STORE 0x23
    expect(asmWords('sw s9, -2048(s5)')).toEqual([((0x40 << 25) | (25 << 20) | (21 << 15) | (2 << 12) | 0x23) >>> 0]);
    // beq a0, a1, .+8: imm[4:1] = 0b0100 at bits 11:8, funct3 0, BRANCH 0x63
    expect(asmWords('beq a0, a1, .+8')).toEqual([(11 << 20) | (10 << 15) | (4 << 8) | 0x63]);
    // amoadd.w.aqrl a0, a2, (a1): funct5 0, aq|rl at 26:25, funct3 2, AMO 0x2f
    expect(asmWords('amoadd.w.aqrl a0, a2, (a1)')).toEqual([(3 << 25) | (12 << 20) | (11 << 15) | (2 << 12) | (10 << 7) | 0x2f]);
    // csrrw a0, mstatus, a1: csr 0x300 at 31:20, funct3 1, SYSTEM 0x73
    expect(asmWords('csrrw a0, mstatus, a1')).toEqual([((0x300 << 20) | (11 << 15) | (1 << 12) | (10 << 7) | 0x73) >>> 0]);
  });

  it('accepts x-names, ABI names and fp for registers, and any case for mnemonics', () => {
    expect(asmWords('ADD x10, x11, x12')).toEqual(asmWords('add a0, a1, a2'));
    expect(asmWords('addi fp, s0, 0')).toEqual(asmWords('addi x8, x8, 0'));
  });

  it('accepts CSRs by number and by .equ name', () => {
    expect(asmWords('csrrs a0, 0x300, zero')).toEqual(asmWords('csrrs a0, mstatus, zero'));
    expect(asmWords('.equ MYCSR, 0x7c0\ncsrrw a0, MYCSR, a1')).toEqual(asmWords('csrrw a0, 1984, a1'));
  });

  it('accepts 0(rs1) for atomics and the fence set 0', () => {
    expect(asmWords('amoswap.w a0, a1, 0(a2)')).toEqual(asmWords('amoswap.w a0, a1, (a2)'));
    expect(asmWords('fence 0, rw')).toEqual([0x0030000f]);
  });
});
