// Pass 2: with every address known, evaluate the operands, check their
// ranges and write the bytes of each section.

import { INSNS } from '../cpu/isa.ts';
import { AsmError, type SrcPos } from './errors.ts';
import { checkImmediate, encode, type MachineInsn } from './encode.ts';
import { evaluate, toInt32, type EvalEnv, type Expr } from './expr.ts';
import type { PcrelHiTable } from './relocs.ts';
import type { Item, Section } from './sections.ts';
import type { SymbolTable } from './symbols.ts';

class FinalEnv implements EvalEnv {
  readonly final = true;
  pc = 0;
  readonly pcrelHi: PcrelHiTable = new Map();

  constructor(private readonly symbols: SymbolTable) {}

  symbol(name: string, display: string, pos: SrcPos) {
    return this.symbols.lookup(name, display, pos, this);
  }

  /** Evaluate to a number (all values are absolute now; unknown names throw). */
  value(e: Expr): bigint {
    const v = evaluate(e, this);
    if (v === null) throw new AsmError(e.pos, 'expected an expression with a value, found one that cannot be computed');
    return v.v;
  }

  int32(e: Expr): number {
    return toInt32(this.value(e), e.pos);
  }
}

/** Writes each placed section's bytes; returns instruction address -> source line. */
export function pass2(sections: readonly Section[], symbols: SymbolTable): { bytes: Map<Section, Uint8Array>; lines: Map<number, number> } {
  const env = new FinalEnv(symbols);
  recordPcrelHi(sections, env);
  const bytes = new Map<Section, Uint8Array>();
  const lines = new Map<number, number>();
  for (const sec of sections) {
    const out = new Uint8Array(sec.offset); // a nobits section stays all zeros
    const view = new DataView(out.buffer);
    for (const item of sec.items) writeItem(item, sec, view, env, lines);
    bytes.set(sec, out);
  }
  return { bytes, lines };
}

/** Every `auipc rd, %pcrel_hi(sym)`: remember sym - pc under the auipc's address, for %pcrel_lo. */
function recordPcrelHi(sections: readonly Section[], env: FinalEnv): void {
  for (const sec of sections) {
    for (const item of sec.items) {
      if (item.k !== 'insn' || INSNS[item.insn.idx].name !== 'auipc') continue;
      const imm = item.insn.imm;
      if (imm === null || imm.k !== 'fn' || imm.fn !== 'pcrel_hi') continue;
      const pc = (sec.addr + item.off) >>> 0;
      env.pcrelHi.set(pc, (env.int32(imm.a) - pc) | 0);
    }
  }
}

function writeItem(item: Item, sec: Section, view: DataView, env: FinalEnv, lines: Map<number, number>): void {
  switch (item.k) {
    case 'bytes':
      new Uint8Array(view.buffer).set(item.data, item.off);
      return;
    case 'data':
      writeData(view, item.off, item.width, env.value(item.expr), item.pos);
      return;
    case 'insn': {
      const pc = (sec.addr + item.off) >>> 0;
      lines.set(pc, item.line);
      view.setUint32(item.off, encodeAt(item.insn, pc, env, item.pos), true);
    }
  }
}

function encodeAt(m: MachineInsn, pc: number, env: FinalEnv, pos: SrcPos): number {
  env.pc = pc;
  const def = INSNS[m.idx];
  const immPos = m.imm !== null && m.imm.pos.line > 0 ? m.imm.pos : pos;
  const imm = m.imm === null ? 0 : checkImmediate(def, env.int32(m.imm), pc, immPos);
  let csr = 0;
  if (m.csr !== null) {
    csr = env.int32(m.csr);
    if (csr < 0 || csr > 0xfff) throw new AsmError(m.csr.pos, `expected a CSR name or a number in 0..4095, found ${csr}`);
  }
  return encode(m, imm, csr);
}

function writeData(view: DataView, off: number, width: 1 | 2 | 4 | 8, v: bigint, pos: SrcPos): void {
  if (width === 8) {
    if (v < -(2n ** 63n) || v >= 2n ** 64n) throw new AsmError(pos, `expected a 64-bit value, found ${v}`);
    view.setBigUint64(off, BigInt.asUintN(64, v), true);
    return;
  }
  const x = toInt32(v, pos);
  const bits = width * 8;
  if (width < 4 && (x < -(2 ** (bits - 1)) || x >= 2 ** bits)) {
    throw new AsmError(pos, `expected a value in ${-(2 ** (bits - 1))}..${2 ** bits - 1} for a ${width}-byte datum, found ${x}`);
  }
  if (width === 1) view.setUint8(off, x & 0xff);
  else if (width === 2) view.setUint16(off, x & 0xffff, true);
  else view.setUint32(off, x >>> 0, true);
}
