// Pseudo-instruction expansions and the %hi/%lo/%pcrel arithmetic. The
// table's words (tables.ts) were checked once against GNU as; the pc-relative
// cases are worked out by hand in the comments.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.ts';
import { asmWords, hex, words } from './helpers.ts';
import { PSEUDO_ENCODINGS } from './tables.ts';


describe('pseudo-instructions', () => {
  it.each(PSEUDO_ENCODINGS)('%s', (src, expected) => {
    expect(hex(asmWords(src))).toEqual(hex(expected));
  });

  it('li takes one instruction when the low 12 bits suffice, lui alone when they are zero', () => {
    const li = (v: string): number => asmWords(`li t0, ${v}`).length;
    expect(li('0')).toBe(1);
    expect(li('2047')).toBe(1);
    expect(li('-2048')).toBe(1);
    expect(li('2048')).toBe(2);
    expect(li('0x1000')).toBe(1);
    expect(li('0xfffff000')).toBe(1);
    expect(li('0xffffffff')).toBe(1); // = -1 as a 32-bit value
  });

  it('li reconstructs every edge value exactly (lui + sign-extended addi)', () => {
    for (const v of [0, 0x7ff, 0x800, -0x800, -0x801, 0x12345fff, 0x80000000, -1, 0x7fffffff, 0x80000800, 0xfffff800, 0x7ffff800]) {
      const ws = asmWords(`li a0, ${v}`);
      let x = 0;
      for (const w of ws) {
        if ((w & 0x7f) === 0x37) x = w & 0xfffff000; // lui
        else x = (x + (w >> 20)) | 0; // addi rd, rd|zero, imm
      }
      expect(x >>> 0, `li ${v}`).toBe(v >>> 0);
    }
  });

  it('li with a value not known yet (a label or a later .equ) takes lui %hi + addi %lo', () => {
    const r = assemble('li a0, later\nli a1, K\n.equ K, 5\nlater: nop', 't.S', { base: 0x8000_0000 });
    // later = 0x80000010: %hi = 0x80000, %lo = 0x10
    expect(hex(words(r))).toEqual(hex([0x80000537, 0x01050513, 0x000005b7, 0x00558593, 0x00000013]));
    // an .equ defined before is known: one addi
    expect(asmWords('.equ K, 5\nli a1, K')).toEqual([0x00500593]);
  });

  it('la rounds the auipc part up when bit 11 of the distance is set', () => {
    // target - pc = 0x800: auipc a0, 1 then addi a0, a0, -2048
    const r = assemble('la a0, target\n.space 0x800 - 8\ntarget: .byte 0', 't.S');
    expect(hex(words(r).slice(0, 2))).toEqual(hex([0x00001517, 0x80050513]));
    // target - pc = 0x7ff: auipc a0, 0 then addi a0, a0, 2047
    const r2 = assemble('la a0, target\n.space 0x7ff - 8\ntarget: .byte 0', 't.S');
    expect(hex(words(r2).slice(0, 2))).toEqual(hex([0x00000517, 0x7ff50513]));
    // backwards by 0x801 (target at 3, la at 0x804): auipc a0, 0xfffff then addi a0, a0, 2047 (-0x1000 + 0x7ff)
    const r3 = assemble('.byte 0, 0, 0\ntarget: .byte 0\n.space 0x800\nla a0, target', 't.S');
    expect(hex(words(r3).slice(-2))).toEqual(hex([0xfffff517, 0x7ff50513]));
  });

  it('la/lla reach across sections (address of .data from .text)', () => {
    const r = assemble('.text\nla a0, msg\n.data\nmsg: .word 1', 't.S');
    // .text at 0x80000000, .data on the next page 0x80001000: distance 0x1000
    expect(hex(words(r, '.text'))).toEqual(hex([0x00001517, 0x00050513]));
    expect(words(assemble('.text\nlla a0, msg\n.data\nmsg: .word 1', 't.S'), '.text')).toEqual(words(r, '.text'));
  });

  it('call, tail and jump go through auipc + jalr', () => {
    const src = 'call f\ntail f\njump f, t2\ncall t0, f\n.space 0x1000 - 32\nf: ret';
    // call at 0: f - pc = 0x1000 -> auipc ra,1; jalr ra,0(ra)
    // tail at 8: 0xff8 -> auipc t1,1; jalr zero,-8(t1)
    // jump at 16: 0xff0 -> auipc t2,1; jalr zero,-16(t2)
    // call t0 at 24: 0xfe8 -> auipc t0,1; jalr t0,-24(t0)
    expect(hex(asmWords(src).slice(0, 8))).toEqual(
      hex([0x00001097, 0x000080e7, 0x00001317, 0xff830067, 0x00001397, 0xff038067, 0x00001297, 0xfe8282e7]),
    );
  });

  it('lw/sw with a symbol use auipc into rd (loads) or the named scratch register (stores)', () => {
    const src = 'lw a0, v\nsw a1, v, t0\nlbu a2, v+3\nsh a3, v+2, t1\nv: .word 0';
    // v at 0x20: lw at 0 (+32), sw at 8 (+24), lbu at 16 (+19), sh at 24 (+10)
    expect(hex(asmWords(src).slice(0, 8))).toEqual(
      hex([0x00000517, 0x02052503, 0x00000297, 0x00b2ac23, 0x00000617, 0x01364603, 0x00000317, 0x00d31523]),
    );
  });

  it('jalr accepts all the gas forms', () => {
    expect(asmWords('jalr t0')).toEqual([0x000280e7]); // jalr ra, 0(t0)
    expect(asmWords('jalr a0, t0')).toEqual([0x00028567]);
    expect(asmWords('jalr a0, t0, 12')).toEqual([0x00c28567]);
    expect(asmWords('jalr a0, 12(t0)')).toEqual([0x00c28567]);
    expect(asmWords('jalr 8(t0)')).toEqual([0x008280e7]);
    expect(asmWords('jalr a0, (t0)')).toEqual([0x00028567]);
  });

  it('jal with one operand links through ra, with two it is the real instruction', () => {
    expect(asmWords('jal .+8')).toEqual([0x008000ef]);
    expect(asmWords('jal t0, .+8')).toEqual([0x008002ef]);
    expect(asmWords('jal zero, .+8')).toEqual(asmWords('j .+8'));
  });

  it('csrw/csrs/csrc with an immediate pick the *i form (objdump prints csrw mie,5)', () => {
    expect(asmWords('csrw mie, 5')).toEqual(asmWords('csrwi mie, 5'));
    expect(asmWords('csrs mie, 5')).toEqual(asmWords('csrsi mie, 5'));
    expect(asmWords('csrc mie, 5')).toEqual(asmWords('csrci mie, 5'));
  });

  it('sfence.vma takes zero, one or two registers', () => {
    expect(asmWords('sfence.vma\nsfence.vma a0\nsfence.vma a0, a1\nsfence.vma zero, a1')).toEqual([
      0x12000073, 0x12050073, 0x12b50073, 0x12b00073,
    ]);
  });
});

describe('%hi, %lo, %pcrel_hi, %pcrel_lo', () => {
  it('%hi rounds up when bit 11 is set so %hi<<12 + %lo is the value', () => {
    // 0x12345800: %hi = 0x12346, %lo = -0x800
    expect(hex(asmWords('lui a0, %hi(0x12345800)\naddi a0, a0, %lo(0x12345800)'))).toEqual(hex([0x12346537, 0x80050513]));
    // 0x123457ff: %hi = 0x12345, %lo = 0x7ff
    expect(hex(asmWords('lui a0, %hi(0x123457ff)\naddi a0, a0, %lo(0x123457ff)'))).toEqual(hex([0x12345537, 0x7ff50513]));
    // 0xfffff800: %hi wraps to 0, %lo = -0x800
    expect(hex(asmWords('lui a0, %hi(0xfffff800)\naddi a0, a0, %lo(0xfffff800)'))).toEqual(hex([0x00000537, 0x80050513]));
  });

  it('%hi/%lo of a label use its final address; %lo works in a memory operand', () => {
    const r = assemble('lui a0, %hi(v)\nlw a1, %lo(v)(a0)\nsw a1, %lo(v)(a0)\n.data\nv: .word 0', 't.S', { base: 0x8000_0000 });
    // v = 0x80001000
    expect(hex(words(r, '.text'))).toEqual(hex([0x80001537, 0x00052583, 0x00b52023]));
  });

  it('%pcrel_lo names the auipc label and uses that auipc\'s distance', () => {
    const src = [
      '1: auipc a0, %pcrel_hi(v)', // at 0, v - 0 = 0x800: hi 1
      'addi a0, a0, %pcrel_lo(1b)', // lo of 0x800 = -0x800, even though this insn is at 4
      'lw a1, %pcrel_lo(1b)(a0)',
      'sw a1, %pcrel_lo(1b)(a0)',
      'here: auipc a2, %pcrel_hi(v)', // at 16: 0x7f0 -> hi 0, lo 0x7f0
      'addi a2, a2, %pcrel_lo(here)',
      '.space 0x800 - 24',
      'v: .word 0',
    ].join('\n');
    expect(hex(asmWords(src).slice(0, 6))).toEqual(hex([0x00001517, 0x80050513, 0x80052583, 0x80b52023, 0x00000617, 0x7f060613]));
  });

  it('%pcrel_lo may refer forward to its auipc', () => {
    const src = 'j 2f\n3: addi a0, a0, %pcrel_lo(2f)\nret\n2: auipc a0, %pcrel_hi(3b)\nj 3b';
    // auipc at 12 for target 4: -8 -> hi 0, lo -8
    expect(hex(asmWords(src))).toEqual(hex([0x00c0006f, 0xff850513, 0x00008067, 0x00000517, 0xff5ff06f]));
  });
});
