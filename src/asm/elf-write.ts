// Writing an assembled program as an ELF32 little-endian RISC-V executable:
//
//   ELF header | program headers | section contents | .symtab .strtab .shstrtab | section headers
//
// One PT_LOAD per placed section (p_paddr = p_vaddr = the section's address,
// .bss as p_memsz > p_filesz = 0), so a loader sees exactly the assembler's
// layout. e_flags is 0: soft-float ABI, no compressed instructions. The symbol
// table holds every named label and assignment (local ones too, so the VM can
// find tohost/fromhost and show labels), but not numeric labels like `1:`.

import type { AsmResult, AsmSection } from './assembler.ts';
import {
  EHDR_SIZE, ELFCLASS32, ELFDATA2LSB, EM_RISCV, ET_EXEC, EV_CURRENT, PF_R, PF_W, PF_X, PHDR_SIZE, PT_LOAD,
  SHDR_SIZE, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHN_ABS, SHT_NOBITS, SHT_PROGBITS, SHT_STRTAB, SHT_SYMTAB,
  STB_GLOBAL, STB_LOCAL, STT_NOTYPE, SYM_SIZE, StringTable,
} from './elf-format.ts';

interface SectionHeader {
  name: number;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

interface Placed {
  sec: AsmSection;
  /** File offset of the contents (for .bss: where they would be; filesz is 0). */
  offset: number;
  align: number;
}

const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;

/** Smallest offset >= `at` congruent to `addr` modulo `align`, as p_offset must be. */
function congruentOffset(at: number, addr: number, align: number): number {
  const want = addr % align;
  const off = at - (at % align) + want;
  return off >= at ? off : off + align;
}

export function writeElf(result: AsmResult): Uint8Array {
  const loadable = result.sections.filter((s) => s.size > 0);
  let cursor = EHDR_SIZE + PHDR_SIZE * loadable.length;
  const placed: Placed[] = result.sections.map((sec) => {
    const align = Math.max(4, sec.align);
    const offset = congruentOffset(cursor, sec.addr, align);
    if (!sec.flags.nobits) cursor = offset + sec.size;
    return { sec, offset, align };
  });

  const shstr = new StringTable();
  const sectionIndex = new Map(result.sections.map((s, k) => [s.name, k + 1]));
  const { symtab, strtab, firstGlobal } = buildSymbols(result, sectionIndex);

  const symtabOff = alignUp(cursor, 4);
  const strtabOff = symtabOff + symtab.length;
  const shstrtabOff = strtabOff + strtab.length;
  const headers: SectionHeader[] = [
    { name: 0, type: 0, flags: 0, addr: 0, offset: 0, size: 0, link: 0, info: 0, addralign: 0, entsize: 0 },
    ...placed.map((p) => sectionHeader(p, shstr)),
  ];
  const symIdx = headers.length;
  headers.push(
    { name: shstr.add('.symtab'), type: SHT_SYMTAB, flags: 0, addr: 0, offset: symtabOff, size: symtab.length, link: symIdx + 1, info: firstGlobal, addralign: 4, entsize: SYM_SIZE },
    { name: shstr.add('.strtab'), type: SHT_STRTAB, flags: 0, addr: 0, offset: strtabOff, size: strtab.length, link: 0, info: 0, addralign: 1, entsize: 0 },
  );
  const shstrName = shstr.add('.shstrtab');
  const shstrtab = shstr.bytes();
  headers.push({ name: shstrName, type: SHT_STRTAB, flags: 0, addr: 0, offset: shstrtabOff, size: shstrtab.length, link: 0, info: 0, addralign: 1, entsize: 0 });

  const shoff = alignUp(shstrtabOff + shstrtab.length, 4);
  const out = new Uint8Array(shoff + SHDR_SIZE * headers.length);
  const view = new DataView(out.buffer);
  writeHeader(view, result.entry, loadable.length, shoff, headers.length);
  placed
    .filter((p) => p.sec.size > 0)
    .forEach((p, k) => writeProgramHeader(view, EHDR_SIZE + k * PHDR_SIZE, p));
  for (const p of placed) if (!p.sec.flags.nobits) out.set(p.sec.bytes.subarray(0, p.sec.size), p.offset);
  out.set(symtab, symtabOff);
  out.set(strtab, strtabOff);
  out.set(shstrtab, shstrtabOff);
  headers.forEach((h, k) => writeSectionHeader(view, shoff + k * SHDR_SIZE, h));
  return out;
}

function writeHeader(v: DataView, entry: number, phnum: number, shoff: number, shnum: number): void {
  [0x7f, 0x45, 0x4c, 0x46, ELFCLASS32, ELFDATA2LSB, EV_CURRENT].forEach((b, k) => v.setUint8(k, b));
  // e_ident[EI_OSABI..] stay 0 (System V, ABI version 0, padding)
  v.setUint16(16, ET_EXEC, true);
  v.setUint16(18, EM_RISCV, true);
  v.setUint32(20, EV_CURRENT, true);
  v.setUint32(24, entry >>> 0, true);
  v.setUint32(28, phnum > 0 ? EHDR_SIZE : 0, true); // e_phoff
  v.setUint32(32, shoff, true);
  v.setUint32(36, 0, true); // e_flags: no RVC, soft-float ABI
  v.setUint16(40, EHDR_SIZE, true);
  v.setUint16(42, PHDR_SIZE, true);
  v.setUint16(44, phnum, true);
  v.setUint16(46, SHDR_SIZE, true);
  v.setUint16(48, shnum, true);
  v.setUint16(50, shnum - 1, true); // e_shstrndx: .shstrtab is last
}

function writeProgramHeader(v: DataView, at: number, p: Placed): void {
  const f = p.sec.flags;
  const words = [
    PT_LOAD,
    p.offset,
    p.sec.addr, // p_vaddr
    p.sec.addr, // p_paddr
    f.nobits ? 0 : p.sec.size, // p_filesz
    p.sec.size, // p_memsz
    PF_R | (f.write ? PF_W : 0) | (f.exec ? PF_X : 0),
    p.align,
  ];
  words.forEach((w, k) => v.setUint32(at + 4 * k, w >>> 0, true));
}

function sectionHeader(p: Placed, shstr: StringTable): SectionHeader {
  const f = p.sec.flags;
  return {
    name: shstr.add(p.sec.name),
    type: f.nobits ? SHT_NOBITS : SHT_PROGBITS,
    flags: SHF_ALLOC | (f.write ? SHF_WRITE : 0) | (f.exec ? SHF_EXECINSTR : 0),
    addr: p.sec.addr,
    offset: p.offset,
    size: p.sec.size,
    link: 0,
    info: 0,
    addralign: p.sec.align,
    entsize: 0,
  };
}

function writeSectionHeader(v: DataView, at: number, h: SectionHeader): void {
  const words = [h.name, h.type, h.flags, h.addr, h.offset, h.size, h.link, h.info, h.addralign, h.entsize];
  words.forEach((w, k) => v.setUint32(at + 4 * k, w >>> 0, true));
}

/** .symtab and .strtab: the null symbol, then locals, then globals (as the gABI requires), each by address. */
function buildSymbols(result: AsmResult, sectionIndex: Map<string, number>): { symtab: Uint8Array; strtab: Uint8Array; firstGlobal: number } {
  const entries = [...result.symbols].sort(([an, a], [bn, b]) => Number(a.global) - Number(b.global) || a.value - b.value || (an < bn ? -1 : 1));
  const strs = new StringTable();
  const symtab = new Uint8Array(SYM_SIZE * (entries.length + 1));
  const v = new DataView(symtab.buffer);
  entries.forEach(([name, sym], k) => {
    const at = SYM_SIZE * (k + 1);
    v.setUint32(at, strs.add(name), true);
    v.setUint32(at + 4, sym.value >>> 0, true);
    v.setUint32(at + 8, 0, true); // st_size: .size is not tracked
    v.setUint8(at + 12, ((sym.global ? STB_GLOBAL : STB_LOCAL) << 4) | STT_NOTYPE);
    v.setUint8(at + 13, 0); // st_other: default visibility
    v.setUint16(at + 14, sym.section === null ? SHN_ABS : (sectionIndex.get(sym.section) ?? SHN_ABS), true);
  });
  const firstGlobal = 1 + entries.findIndex(([, s]) => s.global);
  return { symtab, strtab: strs.bytes(), firstGlobal: firstGlobal === 0 ? entries.length + 1 : firstGlobal };
}
