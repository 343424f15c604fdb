// ELF32 RISC-V executables: writing what the assembler produced, and reading
// executables (ours or GNU ld's) for the loader and the disassembler.

export { writeElf } from './elf-write.ts';
export { readElf, type ElfImage, type ElfSection, type ElfSegment } from './elf-read.ts';
export { PF_R, PF_W, PF_X, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE } from './elf-format.ts';
