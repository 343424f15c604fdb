// Test harness: assemble a program with the project's assembler, load it into
// a FlatMemory, and run a Hart on it until the program writes `tohost`.
//
// Every program gets PRELUDE prepended: EXIT/PASS/FAIL macros (a word store to
// FLAT_TOHOST stops the hart), and a default M-mode trap handler that records
// mcause/mepc/mtval in s9/s10/s11 and exits with code 99 — tests install their
// own handlers where the trap is the point.

import { assemble, type AsmResult } from '../../src/asm/assembler.ts';
import { Hart } from '../../src/cpu/hart.ts';
import type { HartEnv } from '../../src/cpu/env.ts';
import { FlatMemory, FLAT_TOHOST } from '../../src/cpu/flat-memory.ts';
import { RUN_BUDGET } from '../../src/cpu/exits.ts';
import { REG_NAMES } from '../../src/cpu/isa.ts';

export const PRELUDE = `
.equ TOHOST, ${FLAT_TOHOST}
.macro EXIT code
  li t6, TOHOST
  li t5, \\code
  sw t5, 0(t6)
1: j 1b
.endm
.macro PASS
  EXIT 1
.endm
.macro FAIL
  EXIT 3
.endm
# Leave M-mode for S or U at \\target (mret with MPP set; paging as configured).
.macro ENTER_S target
  li t6, 3 << 11
  csrc mstatus, t6
  li t6, 1 << 11
  csrs mstatus, t6
  la t6, \\target
  csrw mepc, t6
  mret
.endm
.macro ENTER_U target
  li t6, 3 << 11
  csrc mstatus, t6
  la t6, \\target
  csrw mepc, t6
  mret
.endm
`;

export interface Loaded {
  hart: Hart;
  mem: FlatMemory;
  asm: AsmResult;
  /** Address of a symbol. */
  sym(name: string): number;
  /** Run until tohost is written (or another exit); returns the exit code of run(). */
  run(maxInsns?: number): number;
  /** Register by ABI name (or xN) as int32. */
  reg(name: string): number;
  /** Register as unsigned. */
  ureg(name: string): number;
}

export interface LoadOptions {
  env?: Partial<HartEnv>;
  memSize?: number;
  decodePages?: number;
  /** Install the default trap handler (mtvec = default_trap). Default true. */
  defaultTrap?: boolean;
}

const DEFAULT_TRAP = `
.section .text.trap, "ax"
.align 2
default_trap:
  csrr s9, mcause
  csrr s10, mepc
  csrr s11, mtval
  EXIT 99
`;

export function regIndex(name: string): number {
  if (/^x\d+$/.test(name)) return Number(name.slice(1));
  if (name === 'fp') return 8;
  const i = REG_NAMES.indexOf(name);
  if (i < 0) throw new Error(`unknown register ${name}`);
  return i;
}

export function load(src: string, opts: LoadOptions = {}): Loaded {
  const withTrap = opts.defaultTrap ?? true;
  const asm = assemble(PRELUDE + src + (withTrap ? DEFAULT_TRAP : ''), 'test.S');
  const mem = new FlatMemory({ size: opts.memSize ?? 1 << 20 });
  for (const s of asm.sections) mem.writeBytes(s.addr, s.bytes);
  const env: HartEnv = {
    ecall: opts.env?.ecall ?? (() => false),
    readTime: opts.env?.readTime ?? (() => 0),
  };
  const hart = new Hart(0, mem, env, { decodePages: opts.decodePages });
  hart.reset(asm.entry);
  mem.onTohost = () => {
    hart.stopRequested = true;
  };
  const sym = (name: string): number => {
    const s = asm.symbols.get(name);
    if (!s) throw new Error(`no symbol ${name}`);
    return s.value;
  };
  if (withTrap) hart.mtvec = sym('default_trap');
  const run = (maxInsns = 1_000_000): number => {
    let left = maxInsns;
    for (;;) {
      const chunk = Math.min(left, 10_000);
      const exit = hart.run(chunk);
      left -= chunk;
      if (exit !== RUN_BUDGET || left <= 0) return exit;
    }
  };
  const reg = (name: string): number => hart.x[regIndex(name)];
  return { hart, mem, asm, sym, run, reg, ureg: (n) => reg(n) >>> 0 };
}

/** Assemble, run to completion, and return the loaded state. Throws if it never stops. */
export function runAsm(src: string, opts: LoadOptions & { maxInsns?: number } = {}): Loaded {
  const l = load(src, opts);
  const exit = l.run(opts.maxInsns);
  if (!l.hart.stopRequested) {
    throw new Error(`program did not reach EXIT (exit ${exit}, pc 0x${(l.hart.pc >>> 0).toString(16)}, mcause ${l.hart.mcause})`);
  }
  return l;
}
