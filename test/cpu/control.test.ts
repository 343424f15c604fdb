// Branches and jumps: every condition on signed/unsigned edges, link values,
// jalr clearing bit 0, and instruction-address-misaligned traps (IALIGN=32:
// reported on the jump, tval = target, rd not written).

import { describe, expect, test } from 'vitest';
import { runAsm } from './harness.ts';

const BRANCHES: Record<string, (a: number, b: number) => boolean> = {
  beq: (a, b) => a === b,
  bne: (a, b) => a !== b,
  blt: (a, b) => a < b,
  bge: (a, b) => a >= b,
  bltu: (a, b) => a >>> 0 < b >>> 0,
  bgeu: (a, b) => a >>> 0 >= b >>> 0,
};
const VALUES = [0, 1, -1, 0x7fffffff, -0x80000000];

describe('branches', () => {
  test('every condition over signed/unsigned edge pairs', () => {
    const cases: { text: string; taken: boolean; what: string }[] = [];
    for (const [op, f] of Object.entries(BRANCHES)) {
      for (const a of VALUES) for (const b of VALUES) {
        cases.push({ what: `${op} ${a}, ${b}`, taken: f(a, b), text: `li x1, ${a}\n li x2, ${b}\n li x3, 0\n ${op} x1, x2, 1f\n li x3, 1\n1:` });
      }
    }
    const body = cases.map((c) => `${c.text}\n sw x3, 0(s0)\n addi s0, s0, 4`).join('\n');
    const l = runAsm(`_start:\n la s0, out\n${body}\n PASS\n.bss\nout: .space ${cases.length * 4}`);
    const wrong = cases.filter((c, i) => (l.mem.readWord(l.sym('out') + 4 * i) === 0) !== c.taken).map((c) => c.what);
    expect(wrong).toEqual([]);
  });

  test('backward branch loop', () => {
    const l = runAsm(`
_start:
  li a0, 0
  li a1, 100
1:
  addi a0, a0, 3
  addi a1, a1, -1
  bnez a1, 1b
  PASS`);
    expect(l.reg('a0')).toBe(300);
  });
});

describe('jumps', () => {
  test('jal and jalr link pc+4; jalr clears bit 0 of the target; rd may equal rs1', () => {
    const l = runAsm(`
_start:
  jal ra, f
ret1:
  la t0, g
  addi t0, t0, 1       # odd target: bit 0 is dropped
  jalr a1, 0(t0)
ret2:
  la t1, h
  jalr t1, 0(t1)       # rd == rs1: the target uses the old value
ret3:
  PASS
f:
  mv a0, ra
  ret
g:
  jr a1
h:
  mv a2, t1
  jr t1
`);
    expect(l.ureg('a0')).toBe(l.sym('ret1'));
    expect(l.ureg('a1')).toBe(l.sym('ret2'));
    expect(l.ureg('a2')).toBe(l.sym('ret3'));
  });

  test('jalr to a target with bit 1 set traps on the jalr, tval = target, rd unchanged', () => {
    const l = runAsm(`
_start:
  li a1, 77
  la t0, target
  addi t0, t0, 2
jump:
  jalr a1, 0(t0)
  FAIL
target:
  FAIL
`);
    expect(l.mem.tohost).toBe(99);
    expect(l.reg('s9')).toBe(0); // instruction address misaligned
    expect(l.ureg('s10')).toBe(l.sym('jump'));
    expect(l.ureg('s11')).toBe(l.sym('target') + 2);
    expect(l.reg('a1')).toBe(77);
  });

  test('jal and taken branches to a misaligned target trap; not-taken ones do not', () => {
    // Offsets that are 2 mod 4 cannot be written with labels; encode them raw.
    // jal x0, +6 = 0x0060006f ; beq x0, x0, +6 = 0x00000363 ; bne x0, x0, +6 = 0x00001363
    const l = runAsm(`
_start:
  la t0, h1
  csrw mtvec, t0
  .word 0x00001363     # bne x0,x0,+6: not taken, falls through
  li a0, 1
b1:
  .word 0x00000363     # beq x0,x0,+6: taken -> trap
  FAIL
h1:
  csrr a1, mcause
  csrr a2, mepc
  csrr a3, mtval
  la t0, h2
  csrw mtvec, t0
j1:
  .word 0x0060006f     # jal x0,+6 -> trap
  FAIL
h2:
  csrr a4, mepc
  csrr a5, mtval
  PASS
`);
    expect(l.mem.tohost).toBe(1);
    expect(l.reg('a0')).toBe(1);
    expect(l.reg('a1')).toBe(0);
    expect(l.ureg('a2')).toBe(l.sym('b1'));
    expect(l.ureg('a3')).toBe(l.sym('b1') + 6);
    expect(l.ureg('a4')).toBe(l.sym('j1'));
    expect(l.ureg('a5')).toBe(l.sym('j1') + 6);
  });
});
