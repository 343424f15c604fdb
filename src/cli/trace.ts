// `--trace N`: the first N instructions vCPU 0 executed, disassembled.
import { disassemble } from '../asm/disasm.ts';

export interface TraceEntry {
  pc: number;
  insn: number;
  priv: number;
}

const PRIV = ['U', 'S', '?', 'M'];

export function formatTrace(entries: TraceEntry[], symbols: Map<string, number>): string {
  const byAddr = new Map<number, string>();
  for (const [name, value] of symbols) if (!byAddr.has(value >>> 0)) byAddr.set(value >>> 0, name);
  let out = '';
  for (const e of entries) {
    const label = byAddr.get(e.pc >>> 0);
    if (label) out += `<${label}>:\n`;
    const pc = (e.pc >>> 0).toString(16).padStart(8, '0');
    const word = (e.insn >>> 0).toString(16).padStart(8, '0');
    out += `  ${PRIV[e.priv] ?? '?'} ${pc}: ${word}  ${disassemble(e.insn, e.pc >>> 0, byAddr)}\n`;
  }
  return out;
}
