// The A extension: every AMO's result and memory effect, LR/SC success and
// failure (SC writes 0 / 1), what clears a reservation, alignment and
// permission faults, and real atomicity between harts in different workers.

import { describe, expect, test } from 'vitest';
import { Worker } from 'node:worker_threads';
import { load, runAsm } from './harness.ts';
import { Hart } from '../../src/cpu/hart.ts';
import { NULL_ENV } from '../../src/cpu/env.ts';
import { PageTables, PTE_A, PTE_R, PTE_X } from './page-tables.ts';
import { FLAT_RAM_BASE } from '../../src/cpu/flat-memory.ts';
import { RUN_BUDGET } from '../../src/cpu/exits.ts';

const AMOS: Record<string, (old: number, v: number) => number> = {
  'amoswap.w': (_o, v) => v,
  'amoadd.w': (o, v) => (o + v) | 0,
  'amoxor.w': (o, v) => o ^ v,
  'amoand.w': (o, v) => o & v,
  'amoor.w': (o, v) => o | v,
  'amomin.w': (o, v) => Math.min(o | 0, v | 0),
  'amomax.w': (o, v) => Math.max(o | 0, v | 0),
  'amominu.w': (o, v) => ((o >>> 0) < (v >>> 0) ? o : v) | 0,
  'amomaxu.w': (o, v) => ((o >>> 0) > (v >>> 0) ? o : v) | 0,
};
const PAIRS: [number, number][] = [[5, 3], [-1, 1], [0x7fffffff, -0x80000000], [-0x80000000, 0x7fffffff], [0x0f0f0f0f, -0x00ff0100]];

describe('AMOs', () => {
  test('each AMO returns the old value and stores op(old, rs2)', () => {
    const cases: { op: string; a: number; b: number }[] = [];
    for (const op of Object.keys(AMOS)) for (const [a, b] of PAIRS) cases.push({ op, a, b });
    const body = cases.map((c, i) => `
  li t0, ${c.a}
  sw t0, ${i * 8}(s0)
  li t1, ${c.b}
  addi t2, s0, ${i * 8}
  ${c.op} t3, t1, (t2)
  sw t3, ${i * 8 + 4}(s0)`).join('');
    const l = runAsm(`_start:\n la s0, cells\n${body}\n PASS\n.bss\n.align 3\ncells: .space ${cases.length * 8}`);
    const base = l.sym('cells');
    const wrong: string[] = [];
    cases.forEach((c, i) => {
      const mem = l.mem.readWord(base + i * 8);
      const ret = l.mem.readWord(base + i * 8 + 4);
      if (ret !== (c.a | 0) || mem !== AMOS[c.op](c.a, c.b)) wrong.push(`${c.op} ${c.a},${c.b}: mem ${mem} ret ${ret}`);
    });
    expect(wrong).toEqual([]);
  });

  test('rd = x0 still performs the AMO; rd = rs2 gets the old value', () => {
    const l = runAsm(`
_start:
  la s0, cell
  li t1, 10
  amoadd.w x0, t1, (s0)
  amoadd.w t1, t1, (s0)
  lw a0, 0(s0)
  PASS
.data
cell: .word 1
`);
    expect(l.reg('t1')).toBe(11);
    expect(l.reg('a0')).toBe(21);
  });

  test('misaligned AMO -> store/AMO misaligned (6); misaligned LR -> load misaligned (4); tval = address', () => {
    const l = runAsm(`
_start:
  la t0, h1
  csrw mtvec, t0
  la s0, cell
  addi s0, s0, 2
  amoswap.w a0, a0, (s0)
h1:
  csrr a1, mcause
  csrr a2, mtval
  la t0, h2
  csrw mtvec, t0
  lr.w a0, (s0)
h2:
  csrr a3, mcause
  la t0, h3
  csrw mtvec, t0
  sc.w a0, a0, (s0)
h3:
  csrr a4, mcause
  PASS
.data
cell: .word 1, 2
`);
    expect(l.reg('a1')).toBe(6);
    expect(l.ureg('a2')).toBe(l.sym('cell') + 2);
    expect(l.reg('a3')).toBe(4);
    expect(l.reg('a4')).toBe(6);
  });

  test('AMO and LR to a device raise access faults (7, 5)', () => {
    const l = runAsm(`
_start:
  la t0, h1
  csrw mtvec, t0
  li s0, 0x10001000
  amoor.w a0, a0, (s0)
h1:
  csrr a1, mcause
  la t0, h2
  csrw mtvec, t0
  lr.w a0, (s0)
h2:
  csrr a2, mcause
  PASS
`);
    expect([l.reg('a1'), l.reg('a2')]).toEqual([7, 5]);
  });

  test('AMO on a read-only page is a store page fault; LR there works', () => {
    const l = load(`
_start:
  la t0, h1
  csrw mtvec, t0
  csrw satp, s1
  li t1, (1 << 17) | (1 << 11)   # MPRV, MPP=S
  csrs mstatus, t1
  la s0, cell
  lr.w a0, (s0)
  amoadd.w a1, a0, (s0)
  FAIL
h1:
  csrw mstatus, zero
  csrr a2, mcause
  csrr a3, mtval
  PASS
.data
cell: .word 42
`);
    const pt = new PageTables(l.mem, FLAT_RAM_BASE + 0x80000);
    pt.identity(FLAT_RAM_BASE, 0x10000, PTE_R | PTE_X | PTE_A);
    l.hart.x[9] = pt.satp | 0;
    l.run();
    expect(l.reg('a0')).toBe(42);
    expect(l.reg('a2')).toBe(15);
    expect(l.ureg('a3')).toBe(l.sym('cell'));
  });
});

describe('LR/SC', () => {
  test('SC after LR succeeds (0) and stores; SC without reservation fails (1) and does not store', () => {
    const l = runAsm(`
_start:
  la s0, cell
  lr.w a0, (s0)
  addi a0, a0, 1
  sc.w a1, a0, (s0)      # success
  li t0, 99
  sc.w a2, t0, (s0)      # reservation consumed by the previous SC
  lw a3, 0(s0)
  PASS
.data
cell: .word 7
`);
    expect(l.reg('a1')).toBe(0);
    expect(l.reg('a2')).toBe(1);
    expect(l.reg('a3')).toBe(8);
  });

  test('SC to a different address than the LR fails', () => {
    const l = runAsm(`
_start:
  la s0, cell
  addi s1, s0, 4
  lr.w a0, (s0)
  li t0, 5
  sc.w a1, t0, (s1)
  lw a2, 4(s0)
  PASS
.data
cell: .word 1, 1          # same value at both: only the address can make SC fail
`);
    expect(l.reg('a1')).toBe(1);
    expect(l.reg('a2')).toBe(1);
  });

  test('a trap between LR and SC clears the reservation', () => {
    const l = runAsm(`
_start:
  la t0, handler
  csrw mtvec, t0
  la s0, cell
  lr.w a0, (s0)
  ecall                   # trap and return
  sc.w a1, a0, (s0)
  PASS
handler:
  csrr t1, mepc
  addi t1, t1, 4
  csrw mepc, t1
  mret
.data
cell: .word 3
`);
    expect(l.reg('a1')).toBe(1);
  });

  test('a second hart storing a new value between LR and SC makes SC fail; storing the same value does not (value-based SC)', () => {
    const l = load(`
_start:
  la s0, cell
  lr.w a0, (s0)
  addi a0, a0, 1
  sc.w a1, a0, (s0)     # the other hart stored 20 in between: fails
  lr.w a0, (s0)
  addi a0, a0, 1
  sc.w a2, a0, (s0)     # the other hart rewrote the same value: succeeds
  lw a3, 0(s0)
  PASS
other1:
  la s0, cell
  li t0, 20
  sw t0, 0(s0)
1: j 1b
other2:
  la s0, cell
  lw t0, 0(s0)
  sw t0, 0(s0)
1: j 1b
.data
cell: .word 10
`);
    const other = new Hart(1, l.mem, NULL_ENV);
    l.hart.run(3); // la (2) + lr.w
    other.reset(l.sym('other1'));
    other.run(10);
    l.hart.run(3); // addi, sc.w, lr.w
    expect(l.reg('a1')).toBe(1);
    other.reset(l.sym('other2'));
    other.run(10);
    expect(l.run()).not.toBe(RUN_BUDGET);
    expect(l.reg('a2')).toBe(0);
    expect(l.reg('a3')).toBe(21);
  });
});

describe('atomicity across workers', () => {
  test('amoadd and LR/SC increments from 3 harts in 3 workers lose no update', async () => {
    const N = 20000;
    const l = load(`
_start:
  la s0, counters
  addi s2, s0, 4
  li s1, ${N}
1:
  li t0, 1
  amoadd.w x0, t0, (s0)
2:
  lr.w t1, (s2)
  addi t1, t1, 1
  sc.w t2, t1, (s2)
  bnez t2, 2b
  addi s1, s1, -1
  bnez s1, 1b
  ecall
.data
.align 3
counters: .word 0, 0
`);
    const boot = new URL('../../workers/node-boot.mjs', import.meta.url);
    const entry = new URL('./amo-worker.ts', import.meta.url).href;
    const start = (hartId: number): Promise<{ x: number[] }> =>
      new Promise((resolve, reject) => {
        const w = new Worker(boot, { workerData: { entry, ram: l.mem.ram, pc: l.asm.entry, hartId } });
        w.once('message', (m) => {
          void w.terminate();
          resolve(m as { x: number[] });
        });
        w.once('error', reject);
      });
    await Promise.all([start(0), start(1), start(2)]);
    const c = l.sym('counters');
    expect(l.mem.readWord(c)).toBe(3 * N);
    expect(l.mem.readWord(c + 4)).toBe(3 * N);
  });
});
