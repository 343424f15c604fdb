// Disassembler: one 32-bit word to objdump-style text, from the shared
// encoding table, and a listing of an ELF's code for `webkvm disasm`.
//
// Output follows `riscv64-unknown-elf-objdump -d` in spirit: ABI register
// names, CSR names, `rd,imm(rs1)` for memory operands, branch targets as
// `80000010 <loop>`, and the aliases objdump prints by default for common
// cases (nop li mv not neg seqz snez sltz sgtz, j jal jr jalr ret, beqz bnez
// blez bgez bltz bgtz, csrr csrw csrs csrc, rdcycle & co, unimp, fence with
// no operands, fence.tso). Every line reassembles with our assembler to the
// same word. Deliberate differences from objdump (binutils 2.40):
//  - addi/xori/ori/andi/slli/srli/srai keep their names (objdump now prints
//    `add a0,a0,1`, `sll a0,a0,0x3`), and andi rd,rs,255 is not `zext.b`;
//  - csrrwi/csrrsi/csrrci keep their names, and with rd = zero print as
//    csrwi/csrsi/csrci (objdump: `csrrw a0,satp,31`, `csrw mie,5`);
//  - shift amounts and lui/auipc immediates are hex as in objdump; others decimal;
//  - no `# 80000010 <sym>` comments after auipc-relative instructions.

import {
  CSR_NAMES, Fmt, INSNS, REG_NAMES, csrOf, decodeIndex, immB, immI, immJ, immS, rdOf, rs1Of, rs2Of,
} from '../cpu/isa.ts';
import { PF_X, SHF_EXECINSTR, type ElfImage } from './elf.ts';

const reg = (r: number): string => REG_NAMES[r];
const hex = (x: number): string => '0x' + (x >>> 0).toString(16);
const csrName = (n: number): string => CSR_NAMES[n] ?? hex(n);

/** Fields of the word, decoded once for the per-format printers. */
interface Decoded {
  readonly w: number;
  readonly name: string;
  readonly rd: number;
  readonly rs1: number;
  readonly rs2: number;
  readonly pc: number;
  readonly symbols: Map<number, string> | undefined;
}

export function disassemble(word: number, pc: number, symbols?: Map<number, string>): string {
  const w = word >>> 0;
  const idx = decodeIndex(w);
  if (idx < 0) return `.word ${hex8(w)}`;
  const def = INSNS[idx];
  const d: Decoded = { w, name: def.name, rd: rdOf(w), rs1: rs1Of(w), rs2: rs2Of(w), pc: pc >>> 0, symbols };
  return PRINTERS[def.fmt](d);
}

function hex8(w: number): string {
  return '0x' + (w >>> 0).toString(16).padStart(8, '0');
}

const op = (name: string, ...operands: string[]): string => (operands.length === 0 ? name : `${name} ${operands.join(',')}`);

// --- per-format printers ---------------------------------------------------------

function printR(d: Decoded): string {
  const { name, rd, rs1, rs2 } = d;
  if (name === 'sub' && rs1 === 0) return op('neg', reg(rd), reg(rs2));
  if (name === 'sltu' && rs1 === 0) return op('snez', reg(rd), reg(rs2));
  if (name === 'slt' && rs2 === 0) return op('sltz', reg(rd), reg(rs1));
  if (name === 'slt' && rs1 === 0) return op('sgtz', reg(rd), reg(rs2));
  return op(name, reg(rd), reg(rs1), reg(rs2));
}

function printI(d: Decoded): string {
  const { name, rd, rs1 } = d;
  const imm = immI(d.w);
  if (name === 'jalr') return printJalr(rd, rs1, imm);
  if (name === 'addi' && rd === 0 && rs1 === 0 && imm === 0) return 'nop';
  if (name === 'addi' && rs1 === 0) return op('li', reg(rd), String(imm));
  if (name === 'addi' && imm === 0) return op('mv', reg(rd), reg(rs1));
  if (name === 'xori' && imm === -1) return op('not', reg(rd), reg(rs1));
  if (name === 'sltiu' && imm === 1) return op('seqz', reg(rd), reg(rs1));
  return op(name, reg(rd), reg(rs1), String(imm));
}

function printJalr(rd: number, rs1: number, imm: number): string {
  if (rd === 0 && rs1 === 1 && imm === 0) return 'ret';
  if (rd === 0) return imm === 0 ? op('jr', reg(rs1)) : op('jr', `${imm}(${reg(rs1)})`);
  if (rd === 1) return imm === 0 ? op('jalr', reg(rs1)) : op('jalr', `${imm}(${reg(rs1)})`);
  return op('jalr', reg(rd), `${imm}(${reg(rs1)})`);
}

function printShift(d: Decoded): string {
  return op(d.name, reg(d.rd), reg(d.rs1), hex(d.rs2)); // shamt sits in the rs2 field
}

function printU(d: Decoded): string {
  return op(d.name, reg(d.rd), hex(d.w >>> 12));
}

function printB(d: Decoded): string {
  const { name, rs1, rs2 } = d;
  const t = target(d, (d.pc + immB(d.w)) >>> 0);
  if ((name === 'beq' || name === 'bne') && rs2 === 0) return op(name + 'z', reg(rs1), t);
  if (name === 'bge' && rs1 === 0) return op('blez', reg(rs2), t);
  if (name === 'bge' && rs2 === 0) return op('bgez', reg(rs1), t);
  if (name === 'blt' && rs2 === 0) return op('bltz', reg(rs1), t);
  if (name === 'blt' && rs1 === 0) return op('bgtz', reg(rs2), t);
  return op(name, reg(rs1), reg(rs2), t);
}

function printJ(d: Decoded): string {
  const t = target(d, (d.pc + immJ(d.w)) >>> 0);
  if (d.rd === 0) return op('j', t);
  if (d.rd === 1) return op('jal', t);
  return op('jal', reg(d.rd), t);
}

function printLoad(d: Decoded): string {
  return op(d.name, reg(d.rd), `${immI(d.w)}(${reg(d.rs1)})`);
}

function printStore(d: Decoded): string {
  return op(d.name, reg(d.rs2), `${immS(d.w)}(${reg(d.rs1)})`);
}

const COUNTER_READS: Readonly<Record<number, string>> = {
  0xc00: 'rdcycle', 0xc01: 'rdtime', 0xc02: 'rdinstret', 0xc80: 'rdcycleh', 0xc81: 'rdtimeh', 0xc82: 'rdinstreth',
};

function printCsr(d: Decoded): string {
  const { name, rd, rs1 } = d;
  const csr = csrOf(d.w);
  if (name === 'csrrs' && rs1 === 0 && COUNTER_READS[csr] !== undefined) return op(COUNTER_READS[csr], reg(rd));
  if (name === 'csrrs' && rs1 === 0) return op('csrr', reg(rd), csrName(csr));
  if (name === 'csrrw' && rd === 0 && rs1 === 0 && csr === 0xc00) return 'unimp';
  if (rd === 0) return op('csr' + name.slice(4), csrName(csr), reg(rs1)); // csrrw -> csrw ...
  return op(name, reg(rd), csrName(csr), reg(rs1));
}

function printCsrI(d: Decoded): string {
  const csr = csrName(csrOf(d.w));
  if (d.rd === 0) return op('csr' + d.name.slice(4), csr, String(d.rs1)); // csrrwi -> csrwi ...
  return op(d.name, reg(d.rd), csr, String(d.rs1));
}

function ordering(w: number): string {
  return ['', '.rl', '.aq', '.aqrl'][(w >>> 25) & 3];
}

function printAmo(d: Decoded): string {
  return op(d.name + ordering(d.w), reg(d.rd), reg(d.rs2), `(${reg(d.rs1)})`);
}

function printLr(d: Decoded): string {
  return op(d.name + ordering(d.w), reg(d.rd), `(${reg(d.rs1)})`);
}

function fenceSet(bits: number): string {
  const s = ['i', 'o', 'r', 'w'].filter((_, k) => (bits & (8 >> k)) !== 0).join('');
  return s === '' ? '0' : s;
}

function printFence(d: Decoded): string {
  const fm = d.w >>> 28;
  const pred = (d.w >>> 24) & 15;
  const succ = (d.w >>> 20) & 15;
  if (fm === 8 && pred === 3 && succ === 3) return 'fence.tso';
  if (pred === 15 && succ === 15) return 'fence';
  return op('fence', fenceSet(pred), fenceSet(succ));
}

function printSfence(d: Decoded): string {
  if (d.rs1 === 0 && d.rs2 === 0) return 'sfence.vma';
  if (d.rs2 === 0) return op('sfence.vma', reg(d.rs1));
  return op('sfence.vma', reg(d.rs1), reg(d.rs2));
}

const PRINTERS: Readonly<Record<Fmt, (d: Decoded) => string>> = {
  [Fmt.R]: printR,
  [Fmt.I]: printI,
  [Fmt.S]: printStore,
  [Fmt.B]: printB,
  [Fmt.U]: printU,
  [Fmt.J]: printJ,
  [Fmt.SHIFT]: printShift,
  [Fmt.CSR]: printCsr,
  [Fmt.CSRI]: printCsrI,
  [Fmt.AMO]: printAmo,
  [Fmt.LR]: printLr,
  [Fmt.LOAD]: printLoad,
  [Fmt.STORE]: printStore,
  [Fmt.FENCE]: printFence,
  [Fmt.NONE]: (d) => d.name,
  [Fmt.SFENCE]: printSfence,
};

// --- symbolic targets ------------------------------------------------------------------

/** Sorted addresses of a symbol map, computed once per map. */
const sortedCache = new WeakMap<Map<number, string>, number[]>();

function sortedAddresses(symbols: Map<number, string>): number[] {
  let sorted = sortedCache.get(symbols);
  if (sorted === undefined) {
    sorted = [...symbols.keys()].map((a) => a >>> 0).sort((a, b) => a - b);
    sortedCache.set(symbols, sorted);
  }
  return sorted;
}

/** `80000010 <loop>` or `80000018 <loop+0x8>` (nearest symbol at or below), or just the address. */
function target(d: Decoded, addr: number): string {
  const plain = addr.toString(16);
  if (d.symbols === undefined || d.symbols.size === 0) return plain;
  const exact = d.symbols.get(addr) ?? d.symbols.get(addr | 0);
  if (exact !== undefined) return `${plain} <${exact}>`;
  const sorted = sortedAddresses(d.symbols);
  let lo = 0;
  let hi = sorted.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= addr) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (best < 0) return plain;
  const base = sorted[best];
  const name = d.symbols.get(base) ?? d.symbols.get(base | 0);
  return `${plain} <${name}+${hex(addr - base)}>`;
}

// --- ELF listing --------------------------------------------------------------------------

/** Address -> label, preferring names a person wrote (not .L*), for the code in `image`. */
function labelsByAddress(image: ElfImage): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [name, value] of image.symbols) {
    const a = value >>> 0;
    const list = out.get(a) ?? [];
    list.push(name);
    out.set(a, list);
  }
  for (const list of out.values()) list.sort((a, b) => Number(a.startsWith('.L')) - Number(b.startsWith('.L')) || (a < b ? -1 : 1));
  return out;
}

/** What to list: code sections when the file has section headers (as objdump -d), else executable segments. */
function codeRegions(image: ElfImage): { title: string; addr: number; data: Uint8Array }[] {
  const code = (image.sections ?? []).filter((s) => (s.flags & SHF_EXECINSTR) !== 0 && s.data.length > 0);
  if (code.length > 0) return code.map((s) => ({ title: `section ${s.name}`, addr: s.addr, data: s.data }));
  return image.segments
    .filter((s) => (s.flags & PF_X) !== 0)
    .map((s) => ({ title: `segment at ${hex8(s.vaddr)}`, addr: s.vaddr, data: s.data }));
}

/**
 * The disassembly of the code: `<label>:` lines, then one line per word with
 * its address, the word in hex and the instruction.
 */
export function disassembleElf(image: ElfImage): string {
  const labels = labelsByAddress(image);
  const first = new Map([...labels].map(([a, names]) => [a, names[0]]));
  const lines: string[] = [`entry point ${hex8(image.entry)}`];
  for (const region of codeRegions(image)) {
    lines.push('', `${region.title} (${region.data.length} bytes):`);
    const seg = { vaddr: region.addr, data: region.data };
    const view = new DataView(seg.data.buffer, seg.data.byteOffset, seg.data.byteLength);
    for (let off = 0; off < seg.data.length; off += 4) {
      const pc = (seg.vaddr + off) >>> 0;
      for (const name of labels.get(pc) ?? []) lines.push('', `${pc.toString(16).padStart(8, '0')} <${name}>:`);
      if (off + 4 > seg.data.length) {
        const rest = [...seg.data.subarray(off)].map((b) => '0x' + b.toString(16).padStart(2, '0'));
        lines.push(`${pc.toString(16).padStart(8, '0')}:  ${' '.repeat(8)}  .byte ${rest.join(',')}`);
        break;
      }
      const w = view.getUint32(off, true);
      lines.push(`${pc.toString(16).padStart(8, '0')}:  ${w.toString(16).padStart(8, '0')}  ${disassemble(w, pc, first)}`);
    }
  }
  return lines.join('\n') + '\n';
}
