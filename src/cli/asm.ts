// `webkvm asm` and `webkvm disasm`.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { formatOptions, parseArgs, UsageError, type OptionSpecs } from './args.ts';
import { EXIT_OK } from './exit-codes.ts';
import { assemble } from '../asm/assembler.ts';
import { writeElf, readElf } from '../asm/elf.ts';
import { diskInclude } from './program.ts';
import { disassembleElf } from '../asm/disasm.ts';

const ASM_OPTIONS: OptionSpecs = {
  output: { type: 'string', arg: 'FILE', help: 'the ELF to write (-o; default: the source name with .elf)' },
  base: { type: 'string', arg: 'ADDR', help: 'load address of the first section (default 0x80000000)' },
};

export const ASM_HELP = `usage: webkvm asm <prog.S> [-o prog.elf] [options]\n\n` +
  `Assembles RV32IMA + Zicsr + Zifencei + privileged instructions to an ELF32 executable with a symbol table.\n` +
  `.include "F" looks next to the including file first, then in the built-in guest library (src/guests).\n\n` +
  `options:\n${formatOptions(ASM_OPTIONS)}`;

export const DISASM_HELP = 'usage: webkvm disasm <prog.elf>\n\nPrints the disassembly of every executable section, with symbol labels.';

export async function asmCommand(argv: string[]): Promise<number> {
  const { positional, options } = parseArgs(argv, ASM_OPTIONS, { o: 'output' });
  if (positional.length !== 1) throw new UsageError('asm takes one source file: webkvm asm prog.S -o prog.elf');
  const src = positional[0];
  const out = (options.output as string | undefined) ?? src.replace(/\.[sS]$/, '') + '.elf';
  const base = options.base === undefined ? undefined : parseAddress(options.base as string);
  const result = assemble(readFileSync(src, 'utf8'), basename(src), { base, include: diskInclude(src, basename(src)) });
  writeFileSync(out, writeElf(result));
  return EXIT_OK;
}

export async function disasmCommand(argv: string[]): Promise<number> {
  const { positional } = parseArgs(argv, {});
  if (positional.length !== 1) throw new UsageError('disasm takes one ELF file: webkvm disasm prog.elf');
  const file = positional[0];
  const image = readElf(new Uint8Array(readFileSync(file)), basename(file));
  process.stdout.write(disassembleElf(image));
  return EXIT_OK;
}

function parseAddress(text: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff || v % 4 !== 0) {
    throw new UsageError(`option '--base' expects a 4-byte-aligned 32-bit address, got '${text}'`);
  }
  return v;
}
