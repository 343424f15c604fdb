// The disassembler: objdump-style text for each format and alias, symbolic
// targets, the ELF listing, and disassemble(assemble(x)) round trips over the
// whole encoding table and over random words.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.ts';
import { disassemble, disassembleElf } from '../../src/asm/disasm.ts';
import { readElf, writeElf } from '../../src/asm/elf.ts';
import { Fmt, INSNS, decodeIndex } from '../../src/cpu/isa.ts';
import { words } from './helpers.ts';
import { ENCODINGS, PSEUDO_ENCODINGS } from './tables.ts';

const PC = 0x8000_0000;

describe('disassemble', () => {
  it.each([
    [0x00150513, 'addi a0,a0,1'],
    [0xfff58513, 'addi a0,a1,-1'],
    [0x00812583, 'lw a1,8(sp)'],
    [0xfeb12e23, 'sw a1,-4(sp)'],
    [0x12345537, 'lui a0,0x12345'],
    [0x00000517, 'auipc a0,0x0'],
    [0x01f51513, 'slli a0,a0,0x1f'],
    [0x40c58533, 'sub a0,a1,a2'],
    [0x02c58533, 'mul a0,a1,a2'],
    [0x00000013, 'nop'],
    [0x00500513, 'li a0,5'],
    [0x00058513, 'mv a0,a1'],
    [0xfff64593, 'not a1,a2'],
    [0x40c005b3, 'neg a1,a2'],
    [0x00163593, 'seqz a1,a2'],
    [0x00c035b3, 'snez a1,a2'],
    [0x000625b3, 'sltz a1,a2'],
    [0x00c025b3, 'sgtz a1,a2'],
    [0x00008067, 'ret'],
    [0x00050067, 'jr a0'],
    [0x7ff08067, 'jr 2047(ra)'],
    [0x000500e7, 'jalr a0'],
    [0x008280e7, 'jalr 8(t0)'],
    [0x004502e7, 'jalr t0,4(a0)'],
    [0x30002573, 'csrr a0,mstatus'],
    [0x30551073, 'csrw mtvec,a0'],
    [0x30452073, 'csrs mie,a0'],
    [0x30453073, 'csrc mie,a0'],
    [0x305515f3, 'csrrw a1,mtvec,a0'],
    [0x7c0525f3, 'csrrs a1,0x7c0,a0'],
    [0x3042d073, 'csrwi mie,5'],
    [0x3051d5f3, 'csrrwi a1,mtvec,3'],
    [0xc0002573, 'rdcycle a0'],
    [0xc8002573, 'rdcycleh a0'],
    [0xc0102573, 'rdtime a0'],
    [0xc0202573, 'rdinstret a0'],
    [0xc0001073, 'unimp'],
    [0x0ff0000f, 'fence'],
    [0x0330000f, 'fence rw,rw'],
    [0x0840000f, 'fence i,o'],
    [0x0030000f, 'fence 0,rw'],
    [0x8330000f, 'fence.tso'],
    [0x0000100f, 'fence.i'],
    [0x00000073, 'ecall'],
    [0x00100073, 'ebreak'],
    [0x30200073, 'mret'],
    [0x10200073, 'sret'],
    [0x10500073, 'wfi'],
    [0x12000073, 'sfence.vma'],
    [0x12050073, 'sfence.vma a0'],
    [0x12b50073, 'sfence.vma a0,a1'],
    [0x12b00073, 'sfence.vma zero,a1'],
    [0x1005a52f, 'lr.w a0,(a1)'],
    [0x1405a52f, 'lr.w.aq a0,(a1)'],
    [0x1ac5a52f, 'sc.w.rl a0,a2,(a1)'],
    [0x06c5a52f, 'amoadd.w.aqrl a0,a2,(a1)'],
    [0x08c5a52f, 'amoswap.w a0,a2,(a1)'],
    [0x00000000, '.word 0x00000000'],
    [0xffffffff, '.word 0xffffffff'],
    [0x4501, '.word 0x00004501'],
  ])('%s -> %s', (word, text) => {
    expect(disassemble(word, PC)).toBe(text);
  });

  it('prints branch and jump targets as addresses, with the symbol when known', () => {
    const syms = new Map([
      [0x8000_0000, '_start'],
      [0x8000_0010, 'loop'],
    ]);
    expect(disassemble(0x00b50863, PC, syms)).toBe('beq a0,a1,80000010 <loop>');
    expect(disassemble(0x00b50c63, PC, syms)).toBe('beq a0,a1,80000018 <loop+0x8>');
    expect(disassemble(0x00b50863, PC)).toBe('beq a0,a1,80000010');
    expect(disassemble(0xfe0508e3, 0x8000_0010, syms)).toBe('beqz a0,80000000 <_start>');
    expect(disassemble(0x0000006f, 0x8000_0010, syms)).toBe('j 80000010 <loop>');
    expect(disassemble(0xff1ff0ef, 0x8000_0010, syms)).toBe('jal 80000000 <_start>');
    expect(disassemble(0x010002ef, PC, syms)).toBe('jal t0,80000010 <loop>');
    expect(disassemble(0x00b50863, 0x7fff_0000, syms)).toBe('beq a0,a1,7fff0010'); // below every symbol
  });

  it('prints the branch-against-zero aliases', () => {
    const at = (w: number): string => disassemble(w, 0);
    expect(at(0x00050863)).toBe('beqz a0,10');
    expect(at(0xfe0598e3)).toBe('bnez a1,fffffff0');
    expect(at(0x02c05063)).toBe('blez a2,20');
    expect(at(0xfe06d0e3)).toBe('bgez a3,ffffffe0');
    expect(at(0x04074063)).toBe('bltz a4,40');
    expect(at(0xfcf040e3)).toBe('bgtz a5,ffffffc0');
    expect(at(0x00a5c463)).toBe('blt a1,a0,8'); // bgt a0,a1 prints as the real instruction
  });
});

/** Turn `beq a0,a1,80000010 <loop>` into source our assembler reads back. */
function reassemblable(text: string): string {
  return text.replace(/,?\b([0-9a-f]{1,8})( <[^>]*>)?$/, (m, addr: string) => {
    const lead = m.startsWith(',') ? ',' : ' ';
    return /^(j|jal|b[a-z]+) /.test(text) ? `${lead}0x${addr}` : m;
  });
}

function roundTrip(ws: number[], base: number): number[] {
  const src = ws.map((w, k) => reassemblable(disassemble(w, base + 4 * k))).join('\n');
  return words(assemble(src, 'roundtrip.S', { base }));
}

describe('disassemble(assemble(x)) round trip', () => {
  it('reproduces every word of the encoding and pseudo-instruction tables', () => {
    const all = [...ENCODINGS, ...PSEUDO_ENCODINGS].flatMap(([, ws]) => ws);
    expect(roundTrip(all, PC)).toEqual(all);
    expect(roundTrip(all, 0)).toEqual(all);
  });

  it('reproduces random decodable words (reserved fence fields aside)', () => {
    let seed = 0x1234567;
    const rand = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const sample: number[] = [];
    while (sample.length < 4000) {
      const w = rand() | 3;
      const idx = decodeIndex(w);
      if (idx < 0) continue;
      const d = INSNS[idx];
      // Branch offsets that are 2 mod 4 only ever trap without RVC; the assembler refuses them.
      if (d.fmt === Fmt.B && ((w >>> 8) & 1) !== 0) continue;
      if (d.fmt === Fmt.J && ((w >>> 21) & 1) !== 0) continue;
      sample.push(w);
    }
    // fence.i's imm/rs1/rd and fence's rs1/rd are reserved and ignored, so they
    // do not survive; fence's fm does only as fence.tso (fm 1000, rw,rw).
    const canonical = (w: number): number => {
      const d = INSNS[decodeIndex(w)];
      if (d.name === 'fence.i') return d.match;
      if (d.name !== 'fence') return w >>> 0;
      const tso = w >>> 28 === 8 && ((w >>> 20) & 0xff) === 0x33;
      return ((w & 0x0ff0707f) | (tso ? 0x80000000 : 0)) >>> 0;
    };
    // Each word at its own address, so targets of different words do not interact.
    for (const w of sample) expect(roundTrip([w], PC)[0] >>> 0, disassemble(w, PC)).toBe(canonical(w));
  });
});

describe('disassembleElf', () => {
  it('lists code sections with labels, addresses, words and instructions', () => {
    const src = '.globl _start\n_start: li a0, 1\nloop: addi a0, a0, -1\nbnez a0, loop\n.data\nd: .word 7';
    const listing = disassembleElf(readElf(writeElf(assemble(src, 'p.S'))));
    expect(listing).toBe(
      [
        'entry point 0x80000000',
        '',
        'section .text (12 bytes):',
        '',
        '80000000 <_start>:',
        '80000000:  00100513  li a0,1',
        '',
        '80000004 <loop>:',
        '80000004:  fff50513  addi a0,a0,-1',
        '80000008:  fe051ee3  bnez a0,80000004 <loop>',
        '',
      ].join('\n'),
    );
  });

  it('falls back to executable segments when there are no section headers', () => {
    const img = readElf(writeElf(assemble('nop\nret', 'p.S')));
    const listing = disassembleElf({ entry: img.entry, segments: img.segments, symbols: new Map() });
    expect(listing).toContain('segment at 0x80000000 (8 bytes):');
    expect(listing).toContain('80000004:  00008067  ret');
  });
});
