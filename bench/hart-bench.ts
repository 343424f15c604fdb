// Hart interpreter speed on a flat memory: `npx tsx bench/hart-bench.ts`.
// Prints MIPS for a few small loops. Figures belong in this output, not in a
// test (ARCHITECTURE.md §6). Programs are encoded straight from isa.ts so the
// benchmark does not depend on the assembler.

import { Hart } from '../src/cpu/hart.ts';
import { NULL_ENV } from '../src/cpu/env.ts';
import { FlatMemory, FLAT_RAM_BASE } from '../src/cpu/flat-memory.ts';
import { INSNS, insnIndex } from '../src/cpu/isa.ts';

function m(name: string): number {
  const i = insnIndex(name);
  if (i < 0) throw new Error(`no instruction ${name}`);
  return INSNS[i].match;
}
const R = (n: string, rd: number, rs1: number, rs2: number): number =>
  (m(n) | (rd << 7) | (rs1 << 15) | (rs2 << 20)) >>> 0;
const I = (n: string, rd: number, rs1: number, imm: number): number =>
  (m(n) | (rd << 7) | (rs1 << 15) | ((imm & 0xfff) << 20)) >>> 0;
const S = (n: string, rs2: number, rs1: number, imm: number): number =>
  (m(n) | ((imm & 0x1f) << 7) | (rs1 << 15) | (rs2 << 20) | (((imm >> 5) & 0x7f) << 25)) >>> 0;
const B = (n: string, rs1: number, rs2: number, off: number): number =>
  (m(n) | (((off >> 11) & 1) << 7) | (((off >> 1) & 0xf) << 8) | (rs1 << 15) | (rs2 << 20) |
    (((off >> 5) & 0x3f) << 25) | (((off >> 12) & 1) << 31)) >>> 0;
const LUI = (rd: number, imm20: number): number => (m('lui') | (rd << 7) | (imm20 << 12)) >>> 0;

/** li rd, big via lui+addi. */
function li(rd: number, v: number): number[] {
  const lo = (v << 20) >> 20;
  const hi = ((v - lo) >>> 12) & 0xfffff;
  return [LUI(rd, hi), I('addi', rd, rd, lo)];
}

const PROGRAMS: Record<string, number[]> = {
  // Integer ALU loop: 5 instructions per iteration.
  'alu loop': [
    ...li(11, 0x7fffffff),
    I('addi', 10, 10, 3),
    R('xor', 12, 10, 11),
    R('add', 13, 12, 10),
    I('addi', 11, 11, -1),
    B('bne', 11, 0, -16),
  ],
  // Load/add/store over a 2 KiB buffer: 8 instructions per iteration.
  'load/store loop': [
    ...li(5, FLAT_RAM_BASE + 0x10000), // t0 = buffer
    ...li(11, 0x7fffffff), // a1 = counter
    I('andi', 7, 11, 0x7fc), // t2 = offset within 2 KiB
    R('add', 28, 5, 7), // t3 = buffer + offset
    I('lw', 6, 28, 0),
    R('add', 6, 6, 11),
    S('sw', 6, 28, 0),
    I('lbu', 29, 28, 1),
    I('addi', 11, 11, -1),
    B('bne', 11, 0, -28),
  ],
  // Multiply/divide mix.
  'mul/div loop': [
    ...li(11, 0x7fffffff),
    I('addi', 12, 0, 7),
    R('mul', 10, 11, 12),
    R('divu', 13, 11, 12),
    R('remu', 14, 10, 12),
    I('addi', 11, 11, -1),
    B('bne', 11, 0, -16),
  ],
};

/** A hart on a fresh flat memory holding `words` at the start of RAM. */
function makeHart(words: number[]): Hart {
  const mem = new FlatMemory({ size: 1 << 20 });
  words.forEach((w, i) => mem.writeWord(FLAT_RAM_BASE + 4 * i, w));
  const hart = new Hart(0, mem, NULL_ENV);
  hart.reset(FLAT_RAM_BASE);
  return hart;
}

/**
 * MIPS of `hart.run(slice)` repeated for about `insns` instructions. Reports
 * the best of several rounds, by wall clock and by this process's CPU time
 * (on a shared machine the CPU-time figure is the steadier one).
 */
function measure(hart: Hart, slice: number, insns: number): { wall: number; cpu: number } {
  const calls = Math.max(1, Math.round(insns / slice));
  let wall = 0;
  let cpu = 0;
  for (let round = 0; round < 5; round++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) hart.run(slice);
    const ms = performance.now() - t0;
    const used = process.cpuUsage(c0);
    const cpuMs = (used.user + used.system) / 1000;
    wall = Math.max(wall, (calls * slice) / ms / 1000);
    cpu = Math.max(cpu, (calls * slice) / cpuMs / 1000);
  }
  return { wall, cpu };
}

export interface HartRow {
  name: string;
  value: number;
  unit: string;
}

/**
 * The hart alone on a flat memory (no shadow MMU, no workers): the ceiling
 * the whole VM can reach. `scale` shortens the runs (webkvm bench --quick).
 * Rows report CPU-time MIPS, the steadier figure on a shared machine.
 */
export function benchHart(scale = 1): HartRow[] {
  const rows: HartRow[] = [];
  const insns = Math.max(1_000_000, Math.round(60_000_000 * scale));
  for (const [name, words] of Object.entries(PROGRAMS)) {
    const hart = makeHart(words);
    measure(hart, 1_000_000, insns / 3); // warm-up: let V8 optimize the loop first
    rows.push({ name: `hart.${name.replace(/[ /]+/g, '_')}`, value: measure(hart, 1_000_000, insns).cpu, unit: 'MIPS' });
  }
  // Short slices, as the vCPU loop runs between polls of its request word.
  for (const slice of [1000, 256]) {
    const hart = makeHart(PROGRAMS['alu loop']);
    measure(hart, slice, insns / 6);
    rows.push({ name: `hart.alu_loop.run${slice}`, value: measure(hart, slice, insns / 2).cpu, unit: 'MIPS' });
  }
  return rows;
}
