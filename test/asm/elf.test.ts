// ELF32 writing and reading: the round trip, the header fields, and every
// rejection readElf makes for files that are not RV32 executables.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.ts';
import { readElf, writeElf, PF_R, PF_W, PF_X, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE } from '../../src/asm/elf.ts';
import { KvmError } from '../../src/kvm/errors.ts';

const PROGRAM = `
  .section .text.init, "ax", @progbits
  .globl _start
_start:
  la t0, tohost
  li t1, 1
1: sw t1, 0(t0)
  j 1b
  .text
helper: ret
  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .align 6
  .globl fromhost
fromhost: .dword 0
  .data
value: .word 0x11223344
  .bss
buffer: .space 256
  .equ BUFSIZE, 256
`;

const elfOf = (src = PROGRAM): Uint8Array => writeElf(assemble(src, 'prog.S'));

const patched = (bytes: Uint8Array, edit: (v: DataView, b: Uint8Array) => void): Uint8Array => {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer), copy);
  return copy;
};

function rejection(bytes: Uint8Array): string {
  try {
    readElf(bytes, 'bad.elf');
  } catch (e) {
    expect(e).toBeInstanceOf(KvmError);
    expect((e as KvmError).code).toBe('ENOEXEC');
    return (e as KvmError).message;
  }
  throw new Error('readElf accepted the file');
}

describe('writeElf', () => {
  it('writes an ELF32 little-endian RISC-V executable header', () => {
    const b = elfOf();
    const v = new DataView(b.buffer);
    expect([...b.subarray(0, 7)]).toEqual([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
    expect(v.getUint16(16, true)).toBe(2); // ET_EXEC
    expect(v.getUint16(18, true)).toBe(243); // EM_RISCV
    expect(v.getUint32(20, true)).toBe(1); // EV_CURRENT
    expect(v.getUint32(24, true)).toBe(0x8000_0000); // e_entry = _start
    expect(v.getUint32(28, true)).toBe(52); // e_phoff
    expect(v.getUint32(36, true)).toBe(0); // e_flags: no RVC, soft float
    expect(v.getUint16(40, true)).toBe(52);
    expect(v.getUint16(42, true)).toBe(32);
    expect(v.getUint16(44, true)).toBe(5); // one PT_LOAD per section
    expect(v.getUint16(46, true)).toBe(40);
    expect(v.getUint16(48, true)).toBe(1 + 5 + 3); // null, 5 sections, .symtab .strtab .shstrtab
    expect(v.getUint16(50, true)).toBe(8); // .shstrtab is last
  });

  it('places every segment at an offset congruent to its address modulo p_align', () => {
    const b = elfOf();
    const v = new DataView(b.buffer);
    for (let k = 0; k < v.getUint16(44, true); k++) {
      const at = 52 + 32 * k;
      const [offset, vaddr, align] = [v.getUint32(at + 4, true), v.getUint32(at + 8, true), v.getUint32(at + 28, true)];
      expect(offset % align).toBe(vaddr % align);
    }
  });
});

describe('readElf(writeElf(assemble(...)))', () => {
  const r = assemble(PROGRAM, 'prog.S');
  const img = readElf(writeElf(r), 'prog.elf');

  it('keeps the entry point and one segment per section, paddr = vaddr = the section address', () => {
    expect(img.entry).toBe(r.entry);
    expect(img.segments.map((s) => [s.vaddr, s.paddr, s.memsz, s.flags])).toEqual([
      [0x8000_0000, 0x8000_0000, 20, PF_R | PF_X],
      [0x8000_1000, 0x8000_1000, 4, PF_R | PF_X],
      [0x8000_2000, 0x8000_2000, 72, PF_R | PF_W],
      [0x8000_3000, 0x8000_3000, 4, PF_R | PF_W],
      [0x8000_4000, 0x8000_4000, 256, PF_R | PF_W],
    ]);
    r.sections.forEach((s, k) => {
      if (s.flags.nobits) expect(img.segments[k].data.length).toBe(0); // .bss: memsz > filesz = 0
      else expect([...img.segments[k].data]).toEqual([...s.bytes]);
    });
  });

  it('keeps every named symbol, local and global, but not numeric labels', () => {
    expect(Object.fromEntries(img.symbols)).toEqual({
      _start: 0x8000_0000,
      helper: 0x8000_1000,
      tohost: 0x8000_2000,
      fromhost: 0x8000_2040,
      value: 0x8000_3000,
      buffer: 0x8000_4000,
      BUFSIZE: 256,
    });
  });

  it('lists the allocated sections with their flags', () => {
    expect(img.sections?.map((s) => [s.name, s.addr, s.size, s.flags])).toEqual([
      ['.text.init', 0x8000_0000, 20, SHF_ALLOC | SHF_EXECINSTR],
      ['.text', 0x8000_1000, 4, SHF_ALLOC | SHF_EXECINSTR],
      ['.tohost', 0x8000_2000, 72, SHF_ALLOC | SHF_WRITE],
      ['.data', 0x8000_3000, 4, SHF_ALLOC | SHF_WRITE],
      ['.bss', 0x8000_4000, 256, SHF_ALLOC | SHF_WRITE],
    ]);
  });

  it('reads from a Uint8Array that is a view into a larger buffer', () => {
    const b = elfOf();
    const big = new Uint8Array(b.length + 16);
    big.set(b, 16);
    expect(readElf(big.subarray(16)).entry).toBe(0x8000_0000);
  });

  it('round-trips a program without symbols or data', () => {
    const img2 = readElf(writeElf(assemble('1: j 1b', 'p.S')));
    expect(img2.symbols.size).toBe(0);
    expect(img2.segments).toHaveLength(1);
  });
});

describe('readElf rejects', () => {
  const good = elfOf();

  it('files too short for an ELF header', () => {
    expect(rejection(new Uint8Array([0x7f, 0x45]))).toBe('ENOEXEC: bad.elf: not an ELF file: only 2 bytes long');
    expect(rejection(good.subarray(0, 30))).toBe('ENOEXEC: bad.elf: truncated ELF header: the file is 30 bytes, an ELF32 header needs 52');
    expect(rejection(good.subarray(0, 10))).toBe('ENOEXEC: bad.elf: truncated ELF header: the file is 10 bytes, an ELF32 header needs 52');
  });

  it('a bad magic number', () => {
    expect(rejection(new TextEncoder().encode('#!/bin/sh\necho hello world, this is not an ELF at all\n'))).toBe(
      'ENOEXEC: bad.elf: not an ELF file: bad magic number (expected 7f 45 4c 46, "\\x7fELF")',
    );
  });

  it('64-bit ELF', () => {
    expect(rejection(patched(good, (v) => v.setUint8(4, 2)))).toBe('ENOEXEC: bad.elf: 64-bit ELF; webkvm runs RV32 only (build with -march=rv32ima -mabi=ilp32)');
  });

  it('big-endian ELF', () => {
    expect(rejection(patched(good, (v) => v.setUint8(5, 2)))).toBe('ENOEXEC: bad.elf: big-endian ELF; RISC-V is little-endian');
  });

  it('another machine', () => {
    expect(rejection(patched(good, (v) => v.setUint16(18, 62, true)))).toBe('ENOEXEC: bad.elf: e_machine is 62 (x86-64), not RISC-V (243)');
    expect(rejection(patched(good, (v) => v.setUint16(18, 9999, true)))).toBe('ENOEXEC: bad.elf: e_machine is 9999 (unknown), not RISC-V (243)');
  });

  it('objects that are not executables', () => {
    expect(rejection(patched(good, (v) => v.setUint16(16, 1, true)))).toMatch(/relocatable object file \(ET_REL\), not an executable; link it first/);
    expect(rejection(patched(good, (v) => v.setUint16(16, 3, true)))).toMatch(/\(ET_DYN\)/);
  });

  it('(not) compressed-instruction code: EF_RISCV_RVC is accepted, C is just absent', () => {
    expect(() => readElf(patched(good, (v) => v.setUint32(36, 1, true)))).not.toThrow();
  });

  it('program headers outside the file', () => {
    expect(rejection(patched(good, (v) => v.setUint32(28, good.length - 40, true)))).toMatch(
      /^ENOEXEC: bad\.elf: program header table of 5 entries \(bytes 0x[0-9a-f]+\.\.0x[0-9a-f]+\) extends past the end of the file \(\d+ bytes\)$/,
    );
    expect(rejection(patched(good, (v) => v.setUint16(44, 0xfff0, true)))).toMatch(/program header table of 65520 entries/);
  });

  it('a segment whose contents lie outside the file', () => {
    expect(rejection(patched(good, (v) => v.setUint32(52 + 4, 0x10_0000, true)))).toMatch(/^ENOEXEC: bad\.elf: segment 0 \(bytes 0x100000\.\.0x100014\) extends past the end of the file/);
    expect(rejection(patched(good, (v) => v.setUint32(52 + 16, 0x10_0000, true)))).toMatch(/segment 0 has p_filesz 0x100000 larger than p_memsz 0x14/);
  });

  it('a segment with p_filesz > p_memsz', () => {
    expect(rejection(patched(good, (v) => v.setUint32(52 + 20, 4, true)))).toBe('ENOEXEC: bad.elf: segment 0 has p_filesz 0x14 larger than p_memsz 0x4');
  });

  it('a segment wrapping past 4 GiB', () => {
    expect(rejection(patched(good, (v) => { v.setUint32(52 + 12, 0xffff_fff0, true); }))).toMatch(/segment 0 at 0xfffffff0 of 0x14 bytes wraps past the end/);
  });

  it('no loadable segments', () => {
    expect(rejection(patched(good, (v) => v.setUint16(44, 0, true)))).toBe('ENOEXEC: bad.elf: no program headers, so nothing to load');
    const noLoad = patched(good, (v) => {
      for (let k = 0; k < 5; k++) v.setUint32(52 + 32 * k, 4, true); // PT_NOTE
    });
    expect(rejection(noLoad)).toBe('ENOEXEC: bad.elf: no PT_LOAD segments, so nothing to load');
  });

  it('section headers outside the file', () => {
    const shoff = new DataView(good.buffer).getUint32(32, true);
    expect(rejection(patched(good, (v) => v.setUint32(32, good.length + 4, true)))).toMatch(/section header table \(bytes .*\) extends past the end of the file/);
    expect(rejection(good.subarray(0, shoff + 40))).toMatch(/section header table of 9 entries/);
    // .symtab's sh_offset (section 6) pointing beyond the end
    expect(rejection(patched(good, (v) => v.setUint32(shoff + 6 * 40 + 16, 0x7fff_0000, true)))).toMatch(/section 6 \(bytes 0x7fff0000\.\..*extends past the end/);
  });

  it('a symbol name outside its string table', () => {
    const v0 = new DataView(good.buffer);
    const shoff = v0.getUint32(32, true);
    const symtabOff = v0.getUint32(shoff + 6 * 40 + 16, true);
    expect(rejection(patched(good, (v) => v.setUint32(symtabOff + 16, 0xffff, true)))).toBe(
      'ENOEXEC: bad.elf: symbol name offset 65535 is outside the string table (52 bytes)',
    );
  });
});
