// GNU binutils as a test oracle (Debian's binutils-riscv64-unknown-elf).
// Skipped when the tools are not installed: every fact checked here is also
// pinned by the self-contained tests; these re-check them against the
// reference implementation when it is available.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.ts';
import { disassemble } from '../../src/asm/disasm.ts';
import { readElf, writeElf } from '../../src/asm/elf.ts';
import { words } from './helpers.ts';
import { ENCODINGS, PSEUDO_ENCODINGS } from './tables.ts';

const PREFIX = 'riscv64-unknown-elf-';
const haveBinutils = spawnSync(`${PREFIX}objdump`, ['--version']).status === 0 && spawnSync(`${PREFIX}as`, ['--version']).status === 0;
const dir = haveBinutils ? mkdtempSync(join(tmpdir(), 'webkvm-asm-')) : '';
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function tool(name: string, args: string[]): { stdout: string; stderr: string } {
  const r = spawnSync(PREFIX + name, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${name} ${args.join(' ')} failed: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** Assemble with GNU as at address 0 and return the .text words. */
function gasWords(src: string): number[] {
  const s = join(dir, 'g.S');
  writeFileSync(s, src + '\n');
  execFileSync(`${PREFIX}as`, ['-march=rv32ima_zicsr_zifencei', '-mabi=ilp32', '-mno-relax', '-mno-arch-attr', s, '-o', join(dir, 'g.o')]);
  execFileSync(`${PREFIX}objcopy`, ['-O', 'binary', '-j', '.text', join(dir, 'g.o'), join(dir, 'g.bin')]);
  const b = new Uint8Array(readFileSync(join(dir, 'g.bin')));
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.length / 4 }, (_, k) => v.getUint32(4 * k, true));
}

const PROGRAM = `
  .section .text.init, "ax", @progbits
  .globl _start
_start:
  la t0, tohost
  li t1, 0x12345678
  call work
1: sw t1, 0(t0)
  j 1b
  .text
work:
  lr.w.aq a0, (t0)
  amoadd.w.aqrl a1, a0, (t0)
  csrrw zero, mtvec, a0
  sfence.vma a0, a1
  beqz a0, work
  ret
  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .data
msg: .asciz "hello"
  .bss
stack: .space 4096
`;

describe.skipIf(!haveBinutils)('GNU binutils oracle', () => {
  it('GNU as agrees with every word of the encoding tables', () => {
    for (const [src, expected] of [...ENCODINGS, ...PSEUDO_ENCODINGS]) {
      expect(gasWords(src), src).toEqual(expected);
    }
  });

  it('readelf -a accepts our ELF without complaint and sees our layout', () => {
    const elf = join(dir, 'ours.elf');
    writeFileSync(elf, writeElf(assemble(PROGRAM, 'prog.S')));
    const { stdout, stderr } = tool('readelf', ['-a', '-W', elf]);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/Class:\s+ELF32/);
    expect(stdout).toMatch(/Machine:\s+RISC-V/);
    expect(stdout).toMatch(/Type:\s+EXEC/);
    expect(stdout).toMatch(/Entry point address:\s+0x80000000/);
    expect(stdout).toMatch(/LOAD\s+0x[0-9a-f]+ 0x80004000 0x80004000 0x00000 0x01000 RW/); // .bss
    expect(stdout).toMatch(/GLOBAL\s+DEFAULT\s+\d+ tohost/);
    expect(stdout).toMatch(/LOCAL\s+DEFAULT\s+\d+ work/);
  });

  it('objdump -d decodes our ELF to the same words, and our text matches its modulo documented aliases', () => {
    const elf = join(dir, 'ours2.elf');
    const r = assemble(PROGRAM, 'prog.S');
    writeFileSync(elf, writeElf(r));
    const { stdout } = tool('objdump', ['-d', elf]);
    let seen = 0;
    for (const line of stdout.split('\n')) {
      const m = /^\s*([0-9a-f]+):\s+([0-9a-f]{8})\s+(.*)$/.exec(line);
      if (m === null) continue;
      seen++;
      const pc = parseInt(m[1], 16);
      const w = parseInt(m[2], 16);
      const sec = r.sections.find((s) => pc >= s.addr && pc < s.addr + s.size);
      expect(sec, m[1]).toBeDefined();
      const view = new DataView(sec!.bytes.buffer);
      expect(view.getUint32(pc - sec!.addr, true)).toBe(w);
      const theirs = m[3].replace(/\s+#.*$/, '').replace(/\t/, ' ').replace(/ <[^>]*>$/, '');
      const ours = disassemble(w, pc).replace(/^addi /, 'add ');
      expect(ours, line).toBe(theirs);
    }
    expect(seen).toBe(r.sections.filter((s) => s.flags.exec).reduce((n, s) => n + s.size / 4, 0));
  });

  it('readElf reads what GNU as + ld produce, matching readelf and our own assembly', () => {
    const src = join(dir, 'p.S');
    const script = join(dir, 'link.ld');
    writeFileSync(src, PROGRAM);
    // A linker script with our assembler's layout (code, rodata, data, bss, one page each).
    writeFileSync(script, [
      'ENTRY(_start)', 'SECTIONS {', '  . = 0x80000000;', '  .text.init : { *(.text.init) }', '  . = ALIGN(0x1000);',
      '  .text : { *(.text) }', '  . = ALIGN(0x1000);', '  .tohost : { *(.tohost) }', '  . = ALIGN(0x1000);',
      '  .data : { *(.data) }', '  . = ALIGN(0x1000);', '  .bss : { *(.bss) }', '}',
    ].join('\n'));
    execFileSync(`${PREFIX}as`, ['-march=rv32ima_zicsr_zifencei', '-mabi=ilp32', '-mno-relax', src, '-o', join(dir, 'p.o')]);
    execFileSync(`${PREFIX}ld`, ['-m', 'elf32lriscv', '--no-relax', '-T', script, join(dir, 'p.o'), '-o', join(dir, 'p.elf')]);
    const img = readElf(new Uint8Array(readFileSync(join(dir, 'p.elf'))), 'p.elf');
    const ours = assemble(PROGRAM, 'prog.S');
    expect(img.entry).toBe(0x8000_0000);
    expect(img.symbols.get('_start')).toBe(0x8000_0000);
    expect(img.symbols.get('tohost')).toBe(ours.symbols.get('tohost')?.value);
    expect(img.symbols.get('work')).toBe(ours.symbols.get('work')?.value);
    expect([...img.symbols.keys()].some((n) => n.startsWith('$'))).toBe(false); // mapping symbols dropped
    const headers = tool('readelf', ['-l', '-W', join(dir, 'p.elf')]).stdout;
    const loads = [...headers.matchAll(/LOAD\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+) 0x([0-9a-f]+)/g)];
    expect(img.segments.map((s) => [s.vaddr, s.paddr, s.data.length, s.memsz])).toEqual(
      loads.map((m) => [parseInt(m[2], 16), parseInt(m[3], 16), parseInt(m[4], 16), parseInt(m[5], 16)]),
    );
    // The code GNU ld placed is the code we assemble.
    for (const name of ['.text.init', '.text']) {
      const sec = img.sections?.find((s) => s.name === name);
      expect([...(sec?.data ?? [])], name).toEqual([...new Uint8Array(new Uint32Array(words(ours, name)).buffer)]);
    }
  });
});
