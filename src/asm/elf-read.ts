// Reading an ELF executable for the VM: the entry point, the PT_LOAD
// segments and the symbol table. Files come from users, so every offset and
// size is checked against the file before it is used, and each rejection is a
// KvmError('ENOEXEC') saying what is wrong (as execve's ENOEXEC does).
// Whether the segments fit in guest RAM is the loader's business, not ours.

import { KvmError } from '../kvm/errors.ts';
import {
  EF_RISCV_RVC, EHDR_SIZE, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, ELFMAG, EM_RISCV, ET_CORE, ET_DYN,
  ET_EXEC, ET_REL, EV_CURRENT, MACHINE_NAMES, PHDR_SIZE, PN_XNUM, PT_LOAD, SHDR_SIZE, SHN_UNDEF, SHN_XINDEX, SHF_ALLOC,
  SHT_NOBITS, SHT_SYMTAB, STB_GLOBAL, STB_WEAK, STT_FILE, STT_SECTION, SYM_SIZE,
} from './elf-format.ts';

export interface ElfSegment {
  readonly paddr: number;
  readonly vaddr: number;
  /** The p_filesz bytes from the file; the rest up to memsz is zero. */
  readonly data: Uint8Array;
  readonly memsz: number;
  /** PF_R | PF_W | PF_X */
  readonly flags: number;
}

/** An allocated section, for tools (the disassembler lists SHF_EXECINSTR ones as objdump does). */
export interface ElfSection {
  readonly name: string;
  readonly addr: number;
  readonly size: number;
  /** SHF_WRITE | SHF_ALLOC | SHF_EXECINSTR ... */
  readonly flags: number;
  /** Contents; empty for SHT_NOBITS (.bss). */
  readonly data: Uint8Array;
}

export interface ElfImage {
  readonly entry: number;
  /** PT_LOAD segments, in program header order. */
  readonly segments: ElfSegment[];
  /** Defined symbols from .symtab, name -> value (a global wins over a local of the same name; no mapping symbols). */
  readonly symbols: Map<string, number>;
  /** Allocated sections (SHF_ALLOC), if the file has section headers; loaders use `segments`. */
  readonly sections?: ElfSection[];
}

interface Shdr {
  readonly name: number;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly entsize: number;
}

const hex = (x: number): string => '0x' + (x >>> 0).toString(16);

class Reader {
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly name: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(msg: string): never {
    throw new KvmError('ENOEXEC', `${this.name}: ${msg}`);
  }

  u8 = (at: number): number => this.view.getUint8(at);
  u16 = (at: number): number => this.view.getUint16(at, true);
  u32 = (at: number): number => this.view.getUint32(at, true);

  /** Check that [off, off+size) lies inside the file. */
  within(off: number, size: number, what: string): void {
    if (off + size > this.bytes.length) {
      this.fail(`${what} (bytes ${hex(off)}..${hex(off + size)}) extends past the end of the file (${this.bytes.length} bytes)`);
    }
  }
}

export function readElf(bytes: Uint8Array, name = 'program.elf'): ElfImage {
  const r = new Reader(bytes, name);
  checkIdent(r);
  checkHeader(r);
  const sections = readSectionHeaders(r);
  const segments = readSegments(r, sections);
  return { entry: r.u32(24), segments, symbols: readSymbols(r, sections), sections: allocSections(r, sections) };
}

function checkIdent(r: Reader): void {
  const n = r.bytes.length;
  if (n < 16 || ELFMAG.some((b, k) => r.bytes[k] !== b)) {
    if (n >= 4 && ELFMAG.every((b, k) => r.bytes[k] === b)) r.fail(`truncated ELF header: the file is ${n} bytes, an ELF32 header needs ${EHDR_SIZE}`);
    r.fail(n < 4 ? `not an ELF file: only ${n} bytes long` : 'not an ELF file: bad magic number (expected 7f 45 4c 46, "\\x7fELF")');
  }
  const cls = r.u8(4);
  if (cls === ELFCLASS64) r.fail('64-bit ELF; webkvm runs RV32 only (build with -march=rv32ima -mabi=ilp32)');
  if (cls !== ELFCLASS32) r.fail(`invalid ELF class ${cls} (expected 1, ELFCLASS32)`);
  const data = r.u8(5);
  if (data === ELFDATA2MSB) r.fail('big-endian ELF; RISC-V is little-endian');
  if (data !== ELFDATA2LSB) r.fail(`invalid ELF data encoding ${data} (expected 1, little-endian)`);
  if (r.u8(6) !== EV_CURRENT) r.fail(`unknown ELF version ${r.u8(6)} (expected 1)`);
  if (n < EHDR_SIZE) r.fail(`truncated ELF header: the file is ${n} bytes, an ELF32 header needs ${EHDR_SIZE}`);
}

function checkHeader(r: Reader): void {
  const machine = r.u16(18);
  if (machine !== EM_RISCV) {
    r.fail(`e_machine is ${machine} (${MACHINE_NAMES[machine] ?? 'unknown'}), not RISC-V (${EM_RISCV})`);
  }
  const type = r.u16(16);
  if (type === ET_REL) r.fail('relocatable object file (ET_REL), not an executable; link it first (e.g. riscv64-unknown-elf-ld -m elf32lriscv)');
  if (type === ET_DYN) r.fail('position-independent or shared object (ET_DYN); webkvm loads static executables (ET_EXEC)');
  if (type === ET_CORE) r.fail('core dump (ET_CORE), not an executable');
  if (type !== ET_EXEC) r.fail(`unknown ELF file type ${type} (expected 2, ET_EXEC)`);
  // EF_RISCV_RVC only says the file *may* contain compressed instructions.
  // It is accepted: on this hart (misa.C = 0) a compressed instruction raises
  // illegal instruction, as on real hardware without C, and programs such as
  // riscv-tests' ma_fetch carry the flag while checking misa before using C.
  void EF_RISCV_RVC;
}

function readSectionHeaders(r: Reader): Shdr[] {
  const shoff = r.u32(32);
  let shnum = r.u16(48);
  if (shoff === 0) return [];
  if (r.u16(46) !== SHDR_SIZE) r.fail(`e_shentsize is ${r.u16(46)}, expected ${SHDR_SIZE}`);
  r.within(shoff, SHDR_SIZE, 'section header table');
  if (shnum === 0) shnum = r.u32(shoff + 20); // >= 0xff00 sections: the count is in sh[0].sh_size
  r.within(shoff, shnum * SHDR_SIZE, `section header table of ${shnum} entries`);
  const out: Shdr[] = [];
  for (let k = 0; k < shnum; k++) {
    const at = shoff + k * SHDR_SIZE;
    const h: Shdr = { name: r.u32(at), type: r.u32(at + 4), flags: r.u32(at + 8), addr: r.u32(at + 12), offset: r.u32(at + 16), size: r.u32(at + 20), link: r.u32(at + 24), info: r.u32(at + 28), entsize: r.u32(at + 36) };
    if (h.type !== SHT_NOBITS && k > 0) r.within(h.offset, h.size, `section ${k}`);
    out.push(h);
  }
  return out;
}

function readSegments(r: Reader, sections: Shdr[]): ElfSegment[] {
  const phoff = r.u32(28);
  let phnum = r.u16(44);
  if (phnum === PN_XNUM && sections.length > 0) phnum = sections[0].info;
  if (phnum === 0) r.fail('no program headers, so nothing to load');
  if (r.u16(42) !== PHDR_SIZE) r.fail(`e_phentsize is ${r.u16(42)}, expected ${PHDR_SIZE}`);
  r.within(phoff, phnum * PHDR_SIZE, `program header table of ${phnum} entries`);
  const segments: ElfSegment[] = [];
  for (let k = 0; k < phnum; k++) {
    const seg = readSegment(r, phoff + k * PHDR_SIZE, k);
    if (seg !== null) segments.push(seg);
  }
  if (segments.length === 0) r.fail('no PT_LOAD segments, so nothing to load');
  return segments;
}

function readSegment(r: Reader, at: number, k: number): ElfSegment | null {
  if (r.u32(at) !== PT_LOAD) return null;
  const [offset, vaddr, paddr, filesz, memsz, flags] = [4, 8, 12, 16, 20, 24].map((d) => r.u32(at + d));
  if (filesz > memsz) r.fail(`segment ${k} has p_filesz ${hex(filesz)} larger than p_memsz ${hex(memsz)}`);
  r.within(offset, filesz, `segment ${k}`);
  if (paddr + memsz > 0x1_0000_0000) r.fail(`segment ${k} at ${hex(paddr)} of ${hex(memsz)} bytes wraps past the end of the 32-bit address space`);
  if (vaddr + memsz > 0x1_0000_0000) r.fail(`segment ${k} at virtual ${hex(vaddr)} of ${hex(memsz)} bytes wraps past the end of the 32-bit address space`);
  return { paddr, vaddr, data: r.bytes.slice(offset, offset + filesz), memsz, flags };
}

function allocSections(r: Reader, sections: Shdr[]): ElfSection[] {
  let shstrndx = r.u16(50);
  if (shstrndx === SHN_XINDEX && sections.length > 0) shstrndx = sections[0].link;
  const names = sections[shstrndx];
  return sections
    .filter((h) => (h.flags & SHF_ALLOC) !== 0)
    .map((h) => ({
      name: names === undefined || h.name >= names.size ? '' : cString(r, names, h.name, 'section name'),
      addr: h.addr,
      size: h.size,
      flags: h.flags,
      data: h.type === SHT_NOBITS ? new Uint8Array(0) : r.bytes.slice(h.offset, h.offset + h.size),
    }));
}

/** Symbols of the (first) SHT_SYMTAB; a file without one (stripped) simply has none. */
function readSymbols(r: Reader, sections: Shdr[]): Map<string, number> {
  const symbols = new Map<string, number>();
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  if (symtab === undefined) return symbols;
  if (symtab.entsize !== SYM_SIZE) r.fail(`.symtab entry size is ${symtab.entsize}, expected ${SYM_SIZE}`);
  const strtab = sections[symtab.link];
  if (strtab === undefined) r.fail(`.symtab links to string table section ${symtab.link}, which does not exist`);
  const globals = new Set<string>();
  for (let at = symtab.offset + SYM_SIZE; at + SYM_SIZE <= symtab.offset + symtab.size; at += SYM_SIZE) {
    const info = r.u8(at + 12);
    const shndx = r.u16(at + 14);
    const type = info & 0xf;
    if (shndx === SHN_UNDEF || type === STT_SECTION || type === STT_FILE) continue;
    const name = symbolName(r, strtab, r.u32(at));
    const bind = info >> 4;
    const global = bind === STB_GLOBAL || bind === STB_WEAK;
    if (name === '' || isMappingSymbol(name) || (symbols.has(name) && (globals.has(name) || !global))) continue;
    symbols.set(name, r.u32(at + 4));
    if (global) globals.add(name);
  }
  return symbols;
}

/** psABI mapping symbols ($x, $x<isa>, $d) mark code/data runs for tools; they are not labels. */
function isMappingSymbol(name: string): boolean {
  return name === '$d' || name.startsWith('$x') || name.startsWith('$d.');
}

function symbolName(r: Reader, strtab: Shdr, off: number): string {
  if (off >= strtab.size) r.fail(`symbol name offset ${off} is outside the string table (${strtab.size} bytes)`);
  return cString(r, strtab, off, 'symbol name');
}

/** NUL-terminated string at `off` in a string table section, which must end inside it. */
function cString(r: Reader, table: Shdr, off: number, what: string): string {
  const start = table.offset + off;
  const end = r.bytes.indexOf(0, start);
  if (end < 0 || end >= table.offset + table.size) r.fail(`${what} at string table offset ${off} is not NUL-terminated`);
  return new TextDecoder().decode(r.bytes.subarray(start, end));
}
