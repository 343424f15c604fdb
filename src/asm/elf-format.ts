// ELF32 numbers used by the reader and the writer (System V gABI, "ELF
// Header", "Sections", "Symbol Table", "Program Header"; the RISC-V psABI for
// EM_RISCV and e_flags). Only what a static RV32 executable needs.

export const EHDR_SIZE = 52;
export const PHDR_SIZE = 32;
export const SHDR_SIZE = 40;
export const SYM_SIZE = 16;

export const ELFMAG = [0x7f, 0x45, 0x4c, 0x46]; // "\x7fELF"
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const EV_CURRENT = 1;

export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

export const EM_RISCV = 243;
/** e_flags: the object contains compressed (C extension) instructions. */
export const EF_RISCV_RVC = 0x1;

export const PT_LOAD = 1;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
/** e_phnum value meaning "the real count is in section header 0's sh_info". */
export const PN_XNUM = 0xffff;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOBITS = 8;
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
/** e_shstrndx value meaning "the real index is in section header 0's sh_link". */
export const SHN_XINDEX = 0xffff;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STT_NOTYPE = 0;
export const STT_SECTION = 3;
export const STT_FILE = 4;

/** Names of a few e_machine values, for "this is not a RISC-V file" messages. */
export const MACHINE_NAMES: Readonly<Record<number, string>> = {
  3: 'x86 (EM_386)',
  8: 'MIPS',
  20: 'PowerPC',
  21: 'PowerPC64',
  40: 'ARM',
  62: 'x86-64',
  183: 'AArch64',
  243: 'RISC-V',
  258: 'LoongArch',
};

/** Appends NUL-terminated names and hands out their offsets (offset 0 is the empty name). */
export class StringTable {
  private readonly parts: number[] = [0];
  private readonly seen = new Map<string, number>();

  add(name: string): number {
    if (name === '') return 0;
    const known = this.seen.get(name);
    if (known !== undefined) return known;
    const off = this.parts.length;
    for (const b of new TextEncoder().encode(name)) this.parts.push(b);
    this.parts.push(0);
    this.seen.set(name, off);
    return off;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
