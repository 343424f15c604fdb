// The decoder's op table must cover the shared encoding table, and the
// interpreter's literal case labels must agree with ops.ts.

import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { OP, OP_OF_INSN, UNMAPPED_INSNS } from '../../src/cpu/ops.ts';
import { INSNS } from '../../src/cpu/isa.ts';
import { decodeInto } from '../../src/cpu/decode.ts';

describe('op table', () => {
  test('every INSNS entry maps to an op', () => {
    expect(UNMAPPED_INSNS).toEqual([]);
    INSNS.forEach((d, i) => expect(OP_OF_INSN[i], d.name).not.toBe(OP.ILLEGAL));
  });

  test('interp.ts case labels match OP numbers', () => {
    const src = readFileSync(new URL('../../src/cpu/interp.ts', import.meta.url), 'utf8');
    const cases = [...src.matchAll(/case (\d+):(?: \{)? \/\/ ([A-Z_]+)/g)];
    expect(cases.length).toBeGreaterThan(40);
    for (const [, num, name] of cases) {
      expect(OP[name as keyof typeof OP], name).toBe(Number(num));
    }
  });

  test('decoding each INSNS match word yields its op', () => {
    const code = new Int32Array(2);
    INSNS.forEach((d, i) => {
      const w = decodeInto(code, 0, d.match | 0);
      const op = w & 255;
      // Branches/jal with offset 0 are aligned, so they keep their own op.
      expect(op, d.name).toBe(OP_OF_INSN[i]);
    });
  });

  test('undecodable words become ILLEGAL carrying their bits', () => {
    const code = new Int32Array(2);
    for (const w of [0, -1, 0x0000_0001, 0x0000_4033 | (1 << 25) | (1 << 30)]) {
      expect(decodeInto(code, 0, w) & 255).toBe(OP.ILLEGAL);
      expect(code[1]).toBe(w | 0);
    }
  });
});
