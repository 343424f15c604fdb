// The decode cache: decoded code must never be stale after a store to its page
// (same hart), after fence.i, after the host rewrites RAM and flushes, and it
// must stay correct when its capacity forces evictions.

import { describe, expect, test } from 'vitest';
import { load, runAsm } from './harness.ts';
import { FlatMemory, FLAT_RAM_BASE, FLAT_MMIO_BASE } from '../../src/cpu/flat-memory.ts';
import { PageTables, PTE_A, PTE_D, PTE_R, PTE_W, PTE_X } from './page-tables.ts';
import { ACC_EXEC, XLATE_EMULATE } from '../../src/cpu/memory.ts';
import { Hart } from '../../src/cpu/hart.ts';
import { assemble } from '../../src/asm/assembler.ts';
import { PRELUDE } from './harness.ts';

const LI_A0_2 = 0x00200513; // addi a0, x0, 2

const selfModifying = (fence: string): string => `
_start:
  li s1, 0
  li s2, 0
again:
patch:
  li a0, 1
  add s1, s1, a0
  bnez s2, done
  li s2, 1
  la t0, patch
  li t1, ${LI_A0_2}
  sw t1, 0(t0)
  ${fence}
  j again
done:
  PASS`;

describe('stores into code', () => {
  test('self-modifying code with fence.i runs the new instruction', () => {
    expect(runAsm(selfModifying('fence.i')).reg('s1')).toBe(3);
  });

  test('even without fence.i a store by the same hart invalidates the decoded page', () => {
    expect(runAsm(selfModifying('nop')).reg('s1')).toBe(3);
  });

  test('data stored in a code page in a loop stays correct (write TLB and decoded code exclusive)', () => {
    const l = runAsm(`
_start:
  la s0, counter
  li s1, 1000
1:
  lw t0, 0(s0)
  addi t0, t0, 3
  sw t0, 0(s0)
  addi s1, s1, -1
  bnez s1, 1b
  lw a0, 0(s0)
  PASS
counter: .word 0
`);
    expect(l.reg('a0')).toBe(3000);
  });

  test('decoding a page evicts it from the write TLB (a store that hit the TLB before is seen)', () => {
    const l = runAsm(`
_start:
  la s0, fn
  sw zero, 8(s0)         # data store: the page of fn enters the write TLB
  call fn
  mv s4, a0
  li t1, ${LI_A0_2}
  sw t1, 0(s0)           # rewrite fn, no fence.i: must not hit a stale write TLB entry
  call fn
  mv s5, a0
  PASS
.section .text.fn, "ax"
fn:
  li a0, 1
  ret
  .word 0
`);
    expect([l.reg('s4'), l.reg('s5')]).toEqual([1, 2]);
  });

  test('a store through a second virtual alias of the code page invalidates it', () => {
    const CODE_VA = 0x40000000;
    const ALIAS_VA = 0x50000000;
    const l = load(`
_start:
  csrw satp, s1
  ENTER_S sup
sup:
  li s3, ${CODE_VA}
  jalr s3                # returns 1
  mv s4, a0
  li t0, ${ALIAS_VA}
  li t1, ${LI_A0_2}
  sw t1, 0(t0)           # rewrite "li a0, 1" through the alias, no fence.i
  jalr s3
  mv s5, a0
  PASS
.section .text.fn, "ax"
fn:
  li a0, 1
  ret
`);
    const fn = l.sym('fn');
    const pt = new PageTables(l.mem, FLAT_RAM_BASE + 0x80000);
    pt.identity(FLAT_RAM_BASE, 0x10000, PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
    pt.identity(FLAT_MMIO_BASE, 0x2000, PTE_R | PTE_W | PTE_A | PTE_D);
    pt.map(CODE_VA, fn, PTE_R | PTE_X | PTE_A);
    pt.map(ALIAS_VA, fn, PTE_R | PTE_W | PTE_A | PTE_D);
    l.hart.x[9] = pt.satp | 0;
    l.run();
    expect(l.mem.tohost).toBe(1);
    expect([l.reg('s4'), l.reg('s5')]).toEqual([1, 2]);
  });
});

describe('host writes', () => {
  const prog = `
_start:
  li s1, 0
loop:
patch:
  li a0, 1
  add s1, s1, a0
  wfi
  j loop`;

  test('a host write is seen after flushDecodeCache(), not before', () => {
    for (const flush of [false, true]) {
      const l = load(prog);
      expect(l.hart.run(100)).toBe(1); // RUN_WFI after one pass
      l.mem.writeWord(l.sym('patch'), LI_A0_2);
      if (flush) l.hart.flushDecodeCache();
      expect(l.hart.run(100)).toBe(1);
      expect(l.reg('s1')).toBe(flush ? 3 : 2);
    }
  });

  test('tlbFlush() (remote flush request) also drops decoded code', () => {
    const l = load(prog);
    l.hart.run(100);
    l.mem.writeWord(l.sym('patch'), LI_A0_2);
    l.hart.tlbFlush();
    l.hart.run(100);
    expect(l.reg('s1')).toBe(3);
  });
});

describe('capacity', () => {
  test('code spread over more pages than the cache holds still runs correctly', () => {
    const pages = [1, 2, 3, 4, 5].map((i) => `
.section .text.p${i}, "ax"
f${i}:
  addi a0, a0, ${i}
  ret`).join('\n');
    const l = runAsm(`
_start:
  li a0, 0
  li s1, 200
1:
  call f1
  call f2
  call f3
  call f4
  call f5
  addi s1, s1, -1
  bnez s1, 1b
  PASS
${pages}`, { decodePages: 2 });
    expect(l.reg('a0')).toBe(200 * 15);
    expect(l.hart.dcache.pagesFilled).toBeGreaterThan(100);
  });
});

describe('uncacheable instruction pages', () => {
  test('a fetch answered with XLATE_EMULATE executes from the exact address, uncached', () => {
    class EmulatedCode extends FlatMemory {
      override translate(vaddr: number, access: number, priv: number, satp: number, mstatus: number): number {
        const r = super.translate(vaddr, access, priv, satp, mstatus);
        if (access !== ACC_EXEC || r < 0) return r;
        this.hostAddr = r + (vaddr & 4095);
        return XLATE_EMULATE;
      }
    }
    const asm = assemble(PRELUDE + `
_start:
  li a0, 0
  li s1, 10
1:
  addi a0, a0, 2
  addi s1, s1, -1
  bnez s1, 1b
  PASS`, 't.S');
    const mem = new EmulatedCode();
    for (const s of asm.sections) mem.writeBytes(s.addr, s.bytes);
    const hart = new Hart(0, mem, { ecall: () => false, readTime: () => 0 });
    hart.reset(asm.entry);
    mem.onTohost = () => (hart.stopRequested = true);
    hart.run(1000);
    expect(mem.tohost).toBe(1);
    expect(hart.x[10]).toBe(20);
    expect(hart.dcache.pagesFilled).toBe(0);
  });
});
