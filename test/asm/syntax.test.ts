// Source syntax: labels, expressions, comments, directives, sections and
// layout, symbols, macros and conditionals.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.ts';
import { asmWords, hex, words } from './helpers.ts';

const bytesOf = (src: string, section = '.data'): number[] => {
  const s = assemble(src, 't.S').sections.find((x) => x.name === section);
  if (s === undefined) throw new Error(`no ${section}`);
  return [...s.bytes];
};

describe('labels', () => {
  it('defines labels before statements, several per line, and forward references work', () => {
    const r = assemble('a: b: j c\nnop\nc: d: ret', 't.S');
    const sym = (n: string): number | undefined => r.symbols.get(n)?.value;
    expect(sym('a')).toBe(0x8000_0000);
    expect(sym('b')).toBe(0x8000_0000);
    expect(sym('c')).toBe(0x8000_0008);
    expect(sym('d')).toBe(0x8000_0008);
    expect(words(r)[0]).toBe(0x0080006f); // j .+8
  });

  it('numeric local labels: Nb is the latest definition, Nf the next one', () => {
    const src = ['1: j 1f', '   j 1b', '1: j 1b', '   j 1f', '1: nop'].join('\n');
    // 0: j 8   4: j 0   8: j 8 (a label is defined before its line's instruction)   12: j 16
    expect(hex(asmWords(src))).toEqual(hex([0x0080006f, 0xffdff06f, 0x0000006f, 0x0040006f, 0x13]));
  });

  it('keeps numeric labels out of the symbol table', () => {
    const r = assemble('1: nop\nfoo: j 1b', 't.S');
    expect([...r.symbols.keys()]).toEqual(['foo']);
  });

  it('accepts labels with dots, dollars and underscores', () => {
    const r = assemble('.L_x$1: nop\n_start.here: nop', 't.S');
    expect(r.symbols.get('.L_x$1')?.value).toBe(0x8000_0000);
    expect(r.symbols.get('_start.here')?.value).toBe(0x8000_0004);
  });
});

describe('expressions', () => {
  const value = (e: string): number => {
    const r = assemble(`.data\n.word ${e}`, 't.S');
    return new DataView(r.sections[0].bytes.buffer).getUint32(0, true);
  };

  it('evaluates arithmetic, bitwise and shift operators with gas precedence', () => {
    expect(value('1 + 2 * 3')).toBe(7);
    expect(value('(1 + 2) * 3')).toBe(9);
    expect(value('7 / 2')).toBe(3);
    expect(value('-7 / 2') | 0).toBe(-3); // truncates toward zero
    expect(value('-7 % 2') | 0).toBe(-1);
    expect(value('1 << 4 | 1')).toBe(17);
    expect(value('0x80000000 >> 4')).toBe(0x08000000); // values are not 32-bit while computing
    expect(value('-16 >> 2') | 0).toBe(-4);
    expect(value('~0')).toBe(0xffffffff);
    expect(value('!0 + !5')).toBe(1);
    expect(value('0xff & ~0xf')).toBe(0xf0);
    expect(value('6 ^ 3')).toBe(5);
    expect(value('1 + 2 | 4')).toBe(7); // | binds tighter than + in gas: 1 + (2|4)
    expect(value('8 - 2 & 3')).toBe(6); // 8 - (2&3)
  });

  it('compares like gas: true is -1 for comparisons and 1 for && and ||', () => {
    expect(value('1 == 1') | 0).toBe(-1);
    expect(value('1 != 1')).toBe(0);
    expect(value('1 <> 2') | 0).toBe(-1);
    expect(value('2 < 3') | 0).toBe(-1);
    expect(value('2 >= 3')).toBe(0);
    expect(value('-1 < 0') | 0).toBe(-1);
    expect(value('1 && 2')).toBe(1);
    expect(value('0 || 0')).toBe(0);
    expect(value('1 + 1 == 2 && 3 > 2')).toBe(1);
  });

  it('reads hex, binary, octal, decimal and character constants', () => {
    expect(value('0x10 + 0b101 + 010 + 10')).toBe(16 + 5 + 8 + 10);
    expect(value("'A'")).toBe(65);
    expect(value("'\\n'")).toBe(10);
  });

  it('uses symbols, differences of labels and `.`', () => {
    const r = assemble('.data\na: .word b - a, ., . + 4\nb: .word a', 't.S');
    const w = words(r, '.data');
    expect(w[0]).toBe(12);
    expect(w[1]).toBe(0x8000_0004); // `.` is the address of that word
    expect(w[2]).toBe(0x8000_000c);
    expect(w[3]).toBe(0x8000_0000);
  });
});

describe('comments and separators', () => {
  it('ignores # and // comments and /* */ blocks (also across lines); `;` separates statements', () => {
    const src = [
      'addi a0, a0, 1 # one',
      'addi a0, a0, 2 // two',
      '/* a block',
      '   over lines */ addi a0, a0, 3',
      'addi a0, a0, 4; addi a0, a0, 5 ; /* c */ addi a0, a0, 6',
    ].join('\n');
    expect(asmWords(src)).toEqual([1, 2, 3, 4, 5, 6].map((k) => ((k << 20) | 0x00050513) >>> 0));
  });

  it('keeps line numbers right after a block comment', () => {
    const r = assemble('/*\n\n*/\nnop', 't.S');
    expect(r.lines.get(0x8000_0000)).toBe(4);
  });
});

describe('data directives', () => {
  it('emits little-endian bytes, halves, words and dwords', () => {
    expect(bytesOf('.data\n.byte 1, -1, 255\n.half 0x1234, -2\n.2byte 1\n.short 2')).toEqual([
      1, 0xff, 0xff, 0x34, 0x12, 0xfe, 0xff, 1, 0, 2, 0,
    ]);
    expect(bytesOf('.data\n.word 0x12345678\n.4byte -1\n.long 1')).toEqual([
      0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0,
    ]);
    expect(bytesOf('.data\n.dword 0x80000000\n.8byte -1\n.quad 1')).toEqual([
      0, 0, 0, 0x80, 0, 0, 0, 0, ...Array(8).fill(0xff), 1, 0, 0, 0, 0, 0, 0, 0,
    ]);
  });

  it('emits strings with escapes; .asciz and .string add a NUL', () => {
    expect(bytesOf('.data\n.ascii "ab\\n\\t\\"\\\\"\n.asciz "c"\n.string "d", "e"')).toEqual([
      0x61, 0x62, 10, 9, 0x22, 0x5c, 0x63, 0, 0x64, 0, 0x65, 0,
    ]);
    expect(bytesOf('.data\n.ascii "\\101\\x42"')).toEqual([0x41, 0x42]);
  });

  it('.space/.skip/.zero reserve (filled) bytes and .fill repeats values', () => {
    expect(bytesOf('.data\n.byte 1\n.space 2\n.skip 1, 0xaa\n.zero 1')).toEqual([1, 0, 0, 0xaa, 0]);
    expect(bytesOf('.data\n.fill 2, 2, 0x1234\n.fill 1, 8, -1\n.fill 2')).toEqual([
      0x34, 0x12, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0,
    ]);
  });
});

describe('alignment and location', () => {
  it('.align n is 2^n bytes (as RISC-V gas), like .p2align; .balign takes bytes', () => {
    expect(bytesOf('.data\n.byte 1\n.align 2\n.byte 2')).toEqual([1, 0, 0, 0, 2]);
    expect(bytesOf('.data\n.byte 1\n.p2align 3, 0xee\n.byte 2')).toEqual([1, ...Array(7).fill(0xee), 2]);
    expect(bytesOf('.data\n.byte 1\n.balign 4\n.byte 2')).toEqual([1, 0, 0, 0, 2]);
    expect(bytesOf('.data\n.byte 1\n.balign 8, 0, 3\n.byte 2')).toEqual([1, 2]); // would need 7 > max 3: skipped
  });

  it('pads code with nops', () => {
    expect(hex(asmWords('nop\n.align 4\nret'))).toEqual(hex([0x13, 0x13, 0x13, 0x13, 0x8067]));
  });

  it('section alignment follows the largest .align inside it', () => {
    const r = assemble('.data\n.word 1\n.section .tohost, "aw"\n.align 6\ntohost: .dword 0', 't.S', { sectionAlign: 4 });
    const tohost = r.sections.find((s) => s.name === '.tohost');
    expect(tohost?.align).toBe(64);
    expect((tohost?.addr ?? 1) % 64).toBe(0);
  });

  it('.org and `. =` move forward within the section', () => {
    expect(bytesOf('.data\n.byte 1\n.org 4\n.byte 2\n. = 6\n.byte 3\n.org . + 1, 0xff\n.byte 4')).toEqual([
      1, 0, 0, 0, 2, 0, 3, 0xff, 4,
    ]);
  });
});

describe('sections and layout', () => {
  const src = [
    '.data', 'd: .word 1',
    '.bss', 'b: .space 16',
    '.section .rodata', 'r: .byte 1',
    '.text', 'f: ret',
    '.section .text.init, "ax", @progbits', '.globl _start', '_start: j f',
    '.section .tohost, "aw", @progbits', 'tohost: .dword 0',
  ].join('\n');

  it('places code first (.text.init, then .text), then read-only data, data, and .bss, each on its own page', () => {
    const r = assemble(src, 't.S');
    expect(r.sections.map((s) => [s.name, s.addr.toString(16)])).toEqual([
      ['.text.init', '80000000'],
      ['.text', '80001000'],
      ['.rodata', '80002000'],
      ['.data', '80003000'],
      ['.tohost', '80004000'],
      ['.bss', '80005000'],
    ]);
    expect(r.entry).toBe(0x8000_0000);
  });

  it('sets flags from names and from .section flags/type', () => {
    const r = assemble(src, 't.S');
    const flags = Object.fromEntries(r.sections.map((s) => [s.name, s.flags]));
    expect(flags['.text.init']).toEqual({ alloc: true, write: false, exec: true, nobits: false });
    expect(flags['.rodata']).toEqual({ alloc: true, write: false, exec: false, nobits: false });
    expect(flags['.tohost']).toEqual({ alloc: true, write: true, exec: false, nobits: false });
    expect(flags['.bss']).toEqual({ alloc: true, write: true, exec: false, nobits: true });
    const bss = r.sections.find((s) => s.name === '.bss');
    expect(bss?.size).toBe(16);
    const custom = assemble('.section .mybss, "aw", @nobits\n.space 8', 't.S').sections[0];
    expect(custom.flags.nobits).toBe(true);
  });

  it('honours base and sectionAlign options', () => {
    const r = assemble('nop\n.data\n.word 1', 't.S', { base: 0x1000, sectionAlign: 16 });
    expect(r.sections.map((s) => s.addr)).toEqual([0x1000, 0x1010]);
  });

  it('entry is _start if defined, else the start of .text', () => {
    expect(assemble('.data\n.word 0\n.text\nnop\n_start: nop', 't.S').entry).toBe(0x8000_0004);
    expect(assemble('.data\n.word 0\n.text\nnop', 't.S').entry).toBe(0x8000_0000);
  });

  it('drops non-allocated sections such as .note.GNU-stack and empty unlabelled ones', () => {
    const r = assemble('.section .note.GNU-stack, "", @progbits\n.data\n.text\nnop', 't.S');
    expect(r.sections.map((s) => s.name)).toEqual(['.text']);
  });
});

describe('symbols', () => {
  it('records value, section and binding; .equ/.set/= give absolute symbols', () => {
    const r = assemble('.globl g, A\n.equ A, 5\nB = A * 2\n.set C, g + 4\ng: nop\nl: nop\n.local l', 't.S');
    expect(r.symbols.get('g')).toEqual({ value: 0x8000_0000, section: '.text', global: true });
    expect(r.symbols.get('l')).toEqual({ value: 0x8000_0004, section: '.text', global: false });
    expect(r.symbols.get('A')).toEqual({ value: 5, section: null, global: true });
    expect(r.symbols.get('B')).toEqual({ value: 10, section: null, global: false });
    expect(r.symbols.get('C')).toEqual({ value: 0x8000_0004, section: '.text', global: false });
  });

  it('an assignment can be redefined, and each use sees the value at that point', () => {
    const r = assemble('.data\nx = 1\n.word x\nx = x + 1\n.word x', 't.S');
    expect(words(r, '.data')).toEqual([1, 2]);
  });

  it('an assignment may use symbols defined later', () => {
    const r = assemble('.equ SIZE, end - start\n.data\nstart: .space 12\nend:\n.word SIZE', 't.S');
    expect(words(r, '.data')[3]).toBe(12);
  });

  it('accepts and ignores .type, .size, .option, .file, .ident, .attribute and .cfi_*', () => {
    const src = '.option norvc\n.option push\n.option pop\n.file "x.c"\n.attribute arch, "rv32i2p1"\n.type f, @function\nf: .cfi_startproc\nret\n.cfi_endproc\n.size f, .-f\n.ident "gcc"';
    expect(asmWords(src)).toEqual([0x8067]);
  });

  it('.end stops assembling', () => {
    expect(asmWords('nop\n.end\nthis is not assembled')).toEqual([0x13]);
  });
});

describe('macros, repetition and conditionals', () => {
  it('expands .macro with positional, default and keyword arguments', () => {
    const src = ['.macro ADDK rd, k=1', '  addi \\rd, \\rd, \\k', '.endm', 'ADDK a0', 'ADDK a1, 5', 'ADDK k=7, rd=a2'].join('\n');
    expect(asmWords(src)).toEqual(asmWords('addi a0, a0, 1\naddi a1, a1, 5\naddi a2, a2, 7'));
  });

  it('numeric labels inside a macro are fresh per use; \\@ counts expansions; \\() pastes', () => {
    const src = ['.macro SPIN', '1: j 1b', '.endm', '.macro LBL n', 'l\\n\\()_\\@: nop', '.endm', 'SPIN', 'SPIN', 'LBL 7', 'LBL 7'].join('\n');
    const r = assemble(src, 't.S');
    expect(words(r).slice(0, 2)).toEqual([0x6f, 0x6f]);
    expect(r.symbols.get('l7_2')?.value).toBe(0x8000_0008);
    expect(r.symbols.get('l7_3')?.value).toBe(0x8000_000c);
  });

  it('macros can use other macros, and .exitm leaves early', () => {
    const src = ['.macro ONE', 'nop', '.endm', '.macro TWO', 'ONE', 'ONE', '.exitm', 'ret', '.endm', 'TWO'].join('\n');
    expect(asmWords(src)).toEqual([0x13, 0x13]);
  });

  it('.exitm inside an .if closes it; macros can recurse under a condition', () => {
    const src = ['.macro DOWN n', '.if \\n == 0', '.exitm', '.endif', 'li a0, \\n', 'DOWN \\n-1', '.endm', 'DOWN 3', 'nop'].join('\n');
    expect(asmWords(src)).toEqual(asmWords('li a0, 3\nli a0, 3-1\nli a0, 3-1-1\nnop'));
  });

  it('.rept repeats, with assignments changing per iteration', () => {
    const r = assemble('.data\ni = 0\n.rept 4\n.byte i\ni = i + 1\n.endr', 't.S');
    expect([...r.sections[0].bytes]).toEqual([0, 1, 2, 3]);
  });

  it('.irp substitutes each value', () => {
    expect(asmWords('.irp r, a0, a1, a2\nli \\r, 0\n.endr')).toEqual(asmWords('li a0, 0\nli a1, 0\nli a2, 0'));
  });

  it('.if/.elseif/.else/.endif and .ifdef/.ifndef select code', () => {
    const pick = (x: number): number[] =>
      asmWords([`X = ${x}`, '.if X - 1', '.if X - 2', 'li a0, 3', '.else', 'li a0, 2', '.endif', '.else', 'li a0, 1', '.endif'].join('\n'));
    expect(pick(1)).toEqual(asmWords('li a0, 1'));
    expect(pick(2)).toEqual(asmWords('li a0, 2'));
    expect(pick(3)).toEqual(asmWords('li a0, 3'));
    expect(asmWords('.ifdef FOO\nli a0, 1\n.else\nli a0, 2\n.endif\n.ifndef FOO\nnop\n.endif')).toEqual(asmWords('li a0, 2\nnop'));
    expect(asmWords('.if 0\nli a0, 1\n.elseif 1\nli a0, 2\n.else\nli a0, 3\n.endif')).toEqual(asmWords('li a0, 2'));
  });
});

describe('source line map', () => {
  it('maps every instruction address to its line', () => {
    const r = assemble('nop\n\nli a0, 0x12345678\n', 't.S');
    expect([...r.lines]).toEqual([
      [0x8000_0000, 1],
      [0x8000_0004, 3],
      [0x8000_0008, 3],
    ]);
  });
});
