// Integer and M-extension instructions against a BigInt reference model, over
// operand pairs chosen for their edges (0, ±1, INT_MIN, INT_MAX, shift counts
// beyond 31...). Each case stores its result to memory; the test compares all.

import { describe, expect, test } from 'vitest';
import { runAsm } from './harness.ts';

const s = (v: number): bigint => BigInt(v | 0);
const u = (v: number): bigint => BigInt(v >>> 0);
const N = (v: bigint): number => Number(BigInt.asIntN(32, v));
const INT_MIN = -0x80000000;

const REF_RR: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => N(s(a) + s(b)),
  sub: (a, b) => N(s(a) - s(b)),
  sll: (a, b) => N(s(a) << (u(b) & 31n)),
  srl: (a, b) => N(u(a) >> (u(b) & 31n)),
  sra: (a, b) => N(s(a) >> (u(b) & 31n)),
  slt: (a, b) => (s(a) < s(b) ? 1 : 0),
  sltu: (a, b) => (u(a) < u(b) ? 1 : 0),
  xor: (a, b) => (a ^ b) | 0,
  or: (a, b) => (a | b) | 0,
  and: (a, b) => (a & b) | 0,
  mul: (a, b) => N(s(a) * s(b)),
  mulh: (a, b) => N((s(a) * s(b)) >> 32n),
  mulhsu: (a, b) => N((s(a) * u(b)) >> 32n),
  mulhu: (a, b) => N((u(a) * u(b)) >> 32n),
  div: (a, b) => ((b | 0) === 0 ? -1 : (a | 0) === INT_MIN && (b | 0) === -1 ? INT_MIN : N(s(a) / s(b))),
  divu: (a, b) => ((b | 0) === 0 ? -1 : N(u(a) / u(b))),
  rem: (a, b) => ((b | 0) === 0 ? a | 0 : (a | 0) === INT_MIN && (b | 0) === -1 ? 0 : N(s(a) % s(b))),
  remu: (a, b) => ((b | 0) === 0 ? a | 0 : N(u(a) % u(b))),
};

const REF_RI: Record<string, (a: number, imm: number) => number> = {
  addi: (a, i) => N(s(a) + s(i)),
  slti: (a, i) => (s(a) < s(i) ? 1 : 0),
  sltiu: (a, i) => (u(a) < u(i) ? 1 : 0), // the immediate is sign-extended, then compared unsigned
  xori: (a, i) => (a ^ i) | 0,
  ori: (a, i) => (a | i) | 0,
  andi: (a, i) => (a & i) | 0,
};

const REF_SHIFT: Record<string, (a: number, sh: number) => number> = {
  slli: (a, sh) => REF_RR.sll(a, sh),
  srli: (a, sh) => REF_RR.srl(a, sh),
  srai: (a, sh) => REF_RR.sra(a, sh),
};

const VALUES = [0, 1, -1, 2, -7, 31, 32, 33, 0x7fffffff, INT_MIN, 0x12345678, -0x2, 0x55555555];
const IMMS = [0, 1, -1, 2047, -2048, 0x555, -7];
const SHAMTS = [0, 1, 5, 31];

interface Case { text: string; expect: number; what: string }

function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16);
}

function buildCases(): Case[] {
  const cases: Case[] = [];
  for (const [op, f] of Object.entries(REF_RR)) {
    for (const a of VALUES) for (const b of VALUES) {
      cases.push({ text: `li x1, ${hex(a)}\n li x2, ${hex(b)}\n ${op} x3, x1, x2`, expect: f(a, b), what: `${op} ${hex(a)}, ${hex(b)}` });
    }
  }
  for (const [op, f] of Object.entries(REF_RI)) {
    for (const a of VALUES) for (const i of IMMS) {
      cases.push({ text: `li x1, ${hex(a)}\n ${op} x3, x1, ${i}`, expect: f(a, i), what: `${op} ${hex(a)}, ${i}` });
    }
  }
  for (const [op, f] of Object.entries(REF_SHIFT)) {
    for (const a of VALUES) for (const sh of SHAMTS) {
      cases.push({ text: `li x1, ${hex(a)}\n ${op} x3, x1, ${sh}`, expect: f(a, sh), what: `${op} ${hex(a)}, ${sh}` });
    }
  }
  // rd == rs1 == rs2 aliasing
  cases.push({ text: `li x3, 7\n mul x3, x3, x3`, expect: 49, what: 'mul x3,x3,x3' });
  cases.push({ text: `li x3, -9\n div x3, x3, x3`, expect: 1, what: 'div x3,x3,x3' });
  return cases;
}

describe('RV32I / M arithmetic', () => {
  const cases = buildCases();
  test(`${cases.length} register and immediate cases match the reference model`, () => {
    const body = cases.map((c) => `${c.text}\n sw x3, 0(s0)\n addi s0, s0, 4`).join('\n');
    const l = runAsm(`
_start:
  la s0, results
${body}
  PASS
.bss
.align 4
results: .space ${cases.length * 4}
`, { memSize: 4 << 20, maxInsns: 10_000_000 });
    expect(l.mem.tohost).toBe(1);
    const base = l.sym('results');
    const wrong = cases.filter((c, i) => l.mem.readWord(base + 4 * i) !== c.expect)
      .map((c) => `${c.what}: got ${hex(l.mem.readWord(base + 4 * cases.indexOf(c)))}, want ${hex(c.expect)}`);
    expect(wrong).toEqual([]);
  });

  test('lui and auipc', () => {
    const l = runAsm(`
_start:
  lui a0, 0xfffff
  lui a1, 0x12345
here:
  auipc a2, 0
  auipc a3, 0x80000
  la a4, here
  PASS`);
    expect(l.ureg('a0')).toBe(0xfffff000);
    expect(l.ureg('a1')).toBe(0x12345000);
    expect(l.ureg('a2')).toBe(l.sym('here'));
    expect(l.ureg('a3')).toBe((l.sym('here') + 4 + 0x80000000) >>> 0);
  });

  test('x0 reads 0 and ignores writes', () => {
    const l = runAsm(`
_start:
  li a0, 5
  add x0, a0, a0
  addi x0, x0, 1
  lui x0, 0x12345
  la a1, word
  lw x0, 0(a1)
  jal x0, 1f
1:
  add a2, x0, x0
  csrrw x0, mscratch, a0
  csrrs a3, mscratch, x0
  PASS
.data
word: .word 0x1234
`);
    expect(l.hart.x[0]).toBe(0);
    expect(l.reg('a2')).toBe(0);
    expect(l.reg('a3')).toBe(5);
  });
});
