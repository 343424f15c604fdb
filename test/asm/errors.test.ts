// Every assembler error is an AsmError (a KvmError with code EINVAL) whose
// message is `file:line:column: expected ..., found ...`, pointing at the
// offending token.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.ts';
import { AsmError } from '../../src/asm/errors.ts';
import { KvmError } from '../../src/kvm/errors.ts';
import { asmError } from './helpers.ts';

describe('AsmError', () => {
  it('is a KvmError with code EINVAL, a position and the detail', () => {
    let err: unknown;
    try {
      assemble('nop\n  addi x32, a0, 1', 'prog.S');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AsmError);
    expect(err).toBeInstanceOf(KvmError);
    const e = err as AsmError;
    expect(e.code).toBe('EINVAL');
    expect(e.errno).toBe(22);
    expect(e.pos).toEqual({ file: 'prog.S', line: 2, col: 8 });
    expect(e.message).toBe("prog.S:2:8: expected a register, found 'x32'");
    expect(e.detail).toBe("expected a register, found 'x32'");
  });

  it('reports the first error only', () => {
    expect(asmError('foo\nbar')).toMatch(/^prog\.S:1:1: /);
  });
});

describe('error classes', () => {
  const cases: [string, string, string][] = [
    ['unknown register', 'addi x32, a0, 1', "prog.S:1:6: expected a register, found 'x32'"],
    ['register name typo', 'add a0, a1, a8', "prog.S:1:13: expected a register, found 'a8'"],
    ['unknown mnemonic', 'nop\n  foo a0, a1', "prog.S:2:3: expected an RV32IMA, Zicsr, Zifencei or privileged instruction, found unknown mnemonic 'foo'"],
    ['ordering suffix on a non-atomic', 'addi.aq a0, a0, 1', "prog.S:1:1: expected an RV32IMA, Zicsr, Zifencei or privileged instruction, found unknown mnemonic 'addi.aq'"],
    ['I-type immediate out of range', 'addi a0, a0, 2048', 'prog.S:1:14: immediate out of range: expected a signed 12-bit value in -2048..2047, found 2048'],
    ['negative immediate out of range', 'lw a0, -2049(sp)', 'prog.S:1:8: immediate out of range: expected a signed 12-bit value in -2048..2047, found -2049'],
    ['shift amount out of range', 'slli a0, a0, 32', 'prog.S:1:14: immediate out of range: expected a shift amount in 0..31, found 32'],
    ['upper immediate out of range', 'lui a0, 0x100000', 'prog.S:1:9: immediate out of range: expected an unsigned 20-bit value in 0..0xfffff, found 1048576'],
    ['CSR immediate out of range', 'csrrwi a0, mstatus, 32', 'prog.S:1:21: immediate out of range: expected an unsigned 5-bit value in 0..31, found 32'],
    ['CSR number out of range', 'csrr a0, 4096', 'prog.S:1:10: expected a CSR name or a number in 0..4095, found 4096'],
    ['register where an immediate belongs', 'addi a0, a0, a1', "prog.S:1:14: expected an immediate or symbol, found 'a1'"],
    ['value wider than 32 bits', 'li a0, 0x100000000', 'prog.S:1:8: expected a 32-bit value, found 0x100000000'],
    ['undefined symbol', 'j nowhere', "prog.S:1:3: expected a defined symbol, found undefined symbol 'nowhere'"],
    ['undefined forward local label', 'j 1f', "prog.S:1:3: expected a defined symbol, found undefined local label '1f'"],
    ['backward local label never defined', 'j 1b', "prog.S:1:3: expected a definition of local label '1:' before '1b', found none"],
    ['branch target out of range', 'beq a0, a1, far\n.space 4096\nfar: nop', 'prog.S:1:13: branch target out of range: expected an offset in -4096..4094, found 4100 (from 0x80000000 to 0x80001004)'],
    ['jump target out of range', 'jal far\n.space 0x100000\nfar: nop', 'prog.S:1:5: jump target out of range: expected an offset in -1048576..1048574, found 1048580 (from 0x80000000 to 0x80100004)'],
    ['misaligned branch target', 'beq a0, a1, .+2', 'prog.S:1:14: misaligned branch target: expected a 4-byte aligned address (webkvm has no compressed instructions), found 0x80000002'],
    ['misaligned jump target', 'j x\n.byte 0\nx: .byte 0', 'prog.S:1:3: misaligned jump target: expected a 4-byte aligned address (webkvm has no compressed instructions), found 0x80000005'],
    ['missing operand', 'add a0, a1', "prog.S:1:11: expected ',', found end of line"],
    ['extra operand', 'add a0, a1, a2, a3', "prog.S:1:15: expected end of line, found ','"],
    ['operand on a no-operand instruction', 'mret a0', "prog.S:1:6: expected end of line, found 'a0'"],
    ['unclosed memory operand', 'lw a0, 4(x5', "prog.S:1:12: expected ')', found end of line"],
    ['offset on an atomic', 'amoadd.w a0, a1, 4(a2)', "prog.S:1:18: expected '(register)' with no offset for an atomic, found '4'"],
    ['bad fence set', 'fence rx, w', "prog.S:1:7: expected a fence set made of the letters i, o, r, w (e.g. 'rw'), found 'rx'"],
    ['store to a symbol without a scratch register', 'sw a0, sym\nsym: nop', "prog.S:1:11: expected '(register)' or ', temp register' (sw to a symbol needs a scratch register), found end of line"],
    ['unknown relocation function', 'lui a0, %foo(1)', "prog.S:1:10: expected %hi, %lo, %pcrel_hi or %pcrel_lo, found '%foo'"],
    ['%pcrel_lo without its auipc', 'addi a0, a0, %pcrel_lo(x)\nx: nop', "prog.S:1:14: expected %pcrel_lo's operand to be the label of an 'auipc rd, %pcrel_hi(symbol)', found address 0x80000004 with no such auipc"],
    ['duplicate label', 'x: nop\nx: nop', "prog.S:2:1: expected a new symbol name, found 'x' already defined at line 1"],
    ['unknown directive', '  .bogus 1', "prog.S:1:3: expected a known directive, found unknown directive '.bogus'"],
    ['data value out of range', '.data\n.byte 256', 'prog.S:2:7: expected a value in -128..255 for a 1-byte datum, found 256'],
    ['division by zero', 'li a0, 1/0', 'prog.S:1:9: division by zero in expression'],
    ['unterminated string', '.ascii "abc', `prog.S:1:8: expected '"' to close this string, found end of line`],
    ['unknown escape', '.ascii "\\q"', "prog.S:1:9: unknown escape sequence '\\q'"],
    ['unterminated block comment', 'nop /* no end', "prog.S:1:5: expected '*/' to close this comment, found end of file"],
    ['unexpected character', 'nop ?', "prog.S:1:5: unexpected character '?'"],
    ['.org backwards', '.data\n.byte 1\n.org 0', 'prog.S:3:6: expected .org to move forward from offset 1 in .data, found offset 0'],
    ['data in .bss', '.bss\n.word 1', 'prog.S:2:7: expected only zeros in .bss (a nobits section), found initialized data'],
    ['misaligned instruction', '.byte 1\nnop', "prog.S:2:1: expected an instruction at a 4-byte aligned offset, found offset 1 in .text (add '.align 2' before it)"],
    ['bad alignment', '.align 99', 'prog.S:1:1: expected .align to be given a power of two exponent in 0..24, found 99'],
    ['.space with a later symbol', '.space n\nn = 4', 'prog.S:1:8: expected a constant known at this point for .space, found an expression using a later or relocatable symbol'],
    ['unterminated .macro', '.macro M\nnop', "prog.S:1:1: expected '.endm' to close this '.macro', found end of file"],
    ['unterminated .if', '.if 1\nnop', "prog.S:1:1: expected '.endif' for this conditional, found end of file"],
    ['stray .endm', '.endm', "prog.S:1:1: expected a '.macro' before '.endm', found none"],
    ['too many macro arguments', '.macro M a\nnop\n.endm\nM 1, 2', "prog.S:4:1: expected at most 1 argument for macro 'M', found 2"],
    ['error inside a macro', '.macro M\n  addi a0, a0, 5000\n.endm\nM', "prog.S:2:16: immediate out of range: expected a signed 12-bit value in -2048..2047, found 5000 (in macro 'M' used at line 4)"],
    ['recursive macro', '.macro R\nR\n.endm\nR', "prog.S:2:1: expected macro expansions nested at most 100 deep, found deeper (a recursive macro?) (in macro 'R' used at line 2)"],
    ['circular assignment', 'a = b\nb = a\n.word a', "prog.S:2:5: expected a value for 'a', found it defined in terms of itself"],
  ];

  it.each(cases)('%s', (_what, src, message) => {
    expect(asmError(src)).toBe(message);
  });

  it('uses the file name it was given', () => {
    expect(asmError('bad', 'guest/boot.S')).toMatch(/^guest\/boot\.S:1:1: /);
  });
});
