// Shared helpers for the assembler tests.
import { assemble, type AsmOptions, type AsmResult } from '../../src/asm/assembler.ts';
import { AsmError } from '../../src/asm/errors.ts';

/** The 32-bit little-endian words of a section (default: the first one). */
export function words(r: AsmResult, name?: string): number[] {
  const s = name === undefined ? r.sections[0] : r.sections.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no section ${name}`);
  const v = new DataView(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= s.size; i += 4) out.push(v.getUint32(i, true));
  return out;
}

/** Assemble at base 0 and return the words of .text. */
export function asmWords(src: string, opts: AsmOptions = { base: 0 }): number[] {
  return words(assemble(src, 'test.S', opts), '.text');
}

/** The AsmError message assembling `src` produces (fails the test if none). */
export function asmError(src: string, file = 'prog.S'): string {
  try {
    assemble(src, file);
  } catch (e) {
    if (e instanceof AsmError) return e.message;
    throw e;
  }
  throw new Error('expected an AsmError, but the source assembled');
}

export const hex = (xs: number[]): string[] => xs.map((x) => '0x' + (x >>> 0).toString(16).padStart(8, '0'));
