// The CSR file: which CSRs exist, who may touch them, and what a write keeps
// (WARL legalisation). Zicsr instruction semantics are in execCsr().
//
// Implementation choices (all allowed by the privileged spec):
// - PMP: zero entries. pmpcfg0-15 and pmpaddr0-63 exist, read 0 and ignore
//   writes, which is the spec's encoding of "no PMP"; with no entry implemented
//   S/U accesses are not PMP-checked at all.
// - Hardware performance monitors: mhpmcounter3-31 (and h halves),
//   mhpmevent3-31 and mcountinhibit read 0 and ignore writes.
// - menvcfg(h)/senvcfg/mstatush: no implemented fields, read 0.
// - satp keeps MODE, ASID and PPN as written (RV32: every value is legal).
// - mtvec/stvec: MODE 0 (direct) or 1 (vectored); MODE bit 1 reads 0.
// - mcause/scause, mtval/stval, the scratch registers hold any value.

import type { Hart } from './hart.ts';
import { PRV_M, PRV_S } from './memory.ts';
import * as C from './csr-defs.ts';
import { OP } from './ops.ts';
import { REG_SINK } from './decode.ts';
import { checkInterrupts, raiseIllegal } from './trap.ts';

/** 1 for every CSR number this hart implements. */
const EXISTS: Uint8Array = buildExists();

function buildExists(): Uint8Array {
  const e = new Uint8Array(4096);
  const on = (...ns: number[]): void => ns.forEach((n) => (e[n] = 1));
  const range = (a: number, b: number): void => {
    e.fill(1, a, b + 1);
  };
  on(C.CSR_SSTATUS, C.CSR_SIE, C.CSR_STVEC, C.CSR_SCOUNTEREN, C.CSR_SENVCFG, C.CSR_SATP);
  range(C.CSR_SSCRATCH, C.CSR_SIP);
  range(C.CSR_MSTATUS, C.CSR_MCOUNTEREN);
  on(C.CSR_MENVCFG, C.CSR_MSTATUSH, C.CSR_MENVCFGH, C.CSR_MCOUNTINHIBIT);
  range(0x323, 0x33f); // mhpmevent3-31
  range(C.CSR_MSCRATCH, C.CSR_MIP);
  range(C.CSR_PMPCFG0, 0x3ef); // pmpcfg0-15, pmpaddr0-63
  on(C.CSR_MCYCLE, C.CSR_MINSTRET, C.CSR_MCYCLEH, C.CSR_MINSTRETH);
  range(0xb03, 0xb1f); // mhpmcounter3-31
  range(0xb83, 0xb9f); // mhpmcounter3h-31h
  range(0xc00, 0xc1f); // cycle, time, instret, hpmcounter3-31
  range(0xc80, 0xc9f); // and their high halves
  range(C.CSR_MVENDORID, C.CSR_MCONFIGPTR);
  // tselect, tdata1-3: a trigger module with no triggers. tselect reads 0 and
  // tdata1 reads type 0 ("no trigger here"), which is how the debug spec lets
  // software find out, rather than trapping on the probe.
  range(0x7a0, 0x7a3);
  return e;
}

export function csrExists(csr: number): boolean {
  return EXISTS[csr & 0xfff] === 1;
}

const TWO32 = 4294967296;

/** Instructions retired in the current run() before the one executing now. */
function retiredInRun(h: Hart): number {
  return h.runBudget === 0 ? 0 : h.runBudget - h.runLeft - 1 - h.runTraps;
}

function cyclesInRun(h: Hart): number {
  return h.runBudget === 0 ? 0 : h.runBudget - h.runLeft - 1;
}

/** The hart's true count (cycles or retired instructions) so far, as a JS number (< 2^53). */
function trueCount(h: Hart, which: number): number {
  return which === 0 ? h.cycle + cyclesInRun(h) : h.instret + retiredInRun(h);
}

/**
 * Half of a 64-bit counter as the guest sees it. mcycle/minstret are the
 * hart's true counts plus a 64-bit bias that guest writes set, so they wrap
 * at 2^64 exactly as the spec says while h.cycle/h.instret keep counting what
 * really ran (for statistics and instruction limits).
 */
function readCounterHalf(h: Hart, which: number, high: boolean): number {
  if (which === 1) {
    const t = h.env.readTime();
    return high ? Math.floor(t / TWO32) | 0 : t | 0;
  }
  if (which !== 0 && which !== 2) return 0; // hpmcounter3-31
  const v = trueCount(h, which);
  const b = h.counterBias;
  const k = which === 0 ? 0 : 2;
  const lo = (b[k] >>> 0) + (v % TWO32);
  if (!high) return lo | 0;
  return (b[k + 1] + Math.floor(v / TWO32) + (lo >= TWO32 ? 1 : 0)) | 0;
}

/**
 * Write half of mcycle/minstret. The new value is what the next instruction
 * reads: the writing instruction's own increment is absorbed.
 */
function writeCounter(h: Hart, which: number, high: boolean, v: number): void {
  const lo = high ? readCounterHalf(h, which, false) >>> 0 : v >>> 0;
  const hi = high ? v >>> 0 : readCounterHalf(h, which, true) >>> 0;
  const inRun = h.runBudget !== 0;
  const next = trueCount(h, which) + (inRun ? 1 : 0); // what the next instruction counts
  const nlo = next % TWO32;
  const nhi = Math.floor(next / TWO32);
  // bias = wanted - next, modulo 2^64, in two 32-bit halves.
  const borrow = lo < nlo ? 1 : 0;
  const k = which === 0 ? 0 : 2;
  h.counterBias[k] = (lo - nlo) | 0;
  h.counterBias[k + 1] = (hi - nhi - borrow) | 0;
}

/** Read a CSR that exists, without access checks (also used for snapshots). */
export function csrReadRaw(h: Hart, csr: number): number {
  switch (csr) {
    case C.CSR_SSTATUS: return h.mstatus & C.SSTATUS_MASK;
    case C.CSR_SIE: return h.mie & h.mideleg;
    case C.CSR_STVEC: return h.stvec;
    case C.CSR_SCOUNTEREN: return h.scounteren;
    case C.CSR_SSCRATCH: return h.sscratch;
    case C.CSR_SEPC: return h.sepc;
    case C.CSR_SCAUSE: return h.scause;
    case C.CSR_STVAL: return h.stval;
    case C.CSR_SIP: return (h.mipSw | h.irqLines) & h.mideleg;
    case C.CSR_SATP: return h.satp;
    case C.CSR_MSTATUS: return h.mstatus;
    case C.CSR_MISA: return C.MISA_VALUE;
    case C.CSR_MEDELEG: return h.medeleg;
    case C.CSR_MIDELEG: return h.mideleg;
    case C.CSR_MIE: return h.mie;
    case C.CSR_MTVEC: return h.mtvec;
    case C.CSR_MCOUNTEREN: return h.mcounteren;
    case C.CSR_MSCRATCH: return h.mscratch;
    case C.CSR_MEPC: return h.mepc;
    case C.CSR_MCAUSE: return h.mcause;
    case C.CSR_MTVAL: return h.mtval;
    case C.CSR_MIP: return h.mipSw | h.irqLines;
    case C.CSR_MHARTID: return h.hartId;
    default: break;
  }
  const group = csr & ~0x9f; // 0xb00/0xb80/0xc00/0xc80 -> counter blocks
  if (group === 0xb00 || group === 0xc00) {
    return readCounterHalf(h, csr & 0x1f, (csr & 0x80) !== 0);
  }
  return 0; // the read-only-zero registers listed at the top
}

/** Write a CSR that exists and is writable, applying its WARL rules. */
export function csrWriteRaw(h: Hart, csr: number, v: number): void {
  switch (csr) {
    case C.CSR_SSTATUS:
      return writeMstatus(h, (h.mstatus & ~C.SSTATUS_MASK) | (v & C.SSTATUS_MASK));
    case C.CSR_SIE:
      h.mie = (h.mie & ~h.mideleg) | (v & h.mideleg);
      return;
    case C.CSR_STVEC: h.stvec = v & ~2; return;
    case C.CSR_SCOUNTEREN: h.scounteren = v; return;
    case C.CSR_SSCRATCH: h.sscratch = v; return;
    case C.CSR_SEPC: h.sepc = v & ~3; return;
    case C.CSR_SCAUSE: h.scause = v; return;
    case C.CSR_STVAL: h.stval = v; return;
    case C.CSR_SIP: {
      // Only SSIP is writable through sip, and only when delegated.
      const m = C.MIP_SSIP & h.mideleg;
      h.mipSw = (h.mipSw & ~m) | (v & m);
      return;
    }
    case C.CSR_SATP:
      h.satp = v;
      h.xlateContextChanged();
      return;
    case C.CSR_MSTATUS: return writeMstatus(h, v);
    case C.CSR_MEDELEG: h.medeleg = v & C.MEDELEG_WRITABLE; return;
    case C.CSR_MIDELEG: h.mideleg = v & C.MIP_S_LEVEL; return;
    case C.CSR_MIE: h.mie = v & C.MIP_ALL; return;
    case C.CSR_MTVEC: h.mtvec = v & ~2; return;
    case C.CSR_MCOUNTEREN: h.mcounteren = v; return;
    case C.CSR_MSCRATCH: h.mscratch = v; return;
    case C.CSR_MEPC: h.mepc = v & ~3; return;
    case C.CSR_MCAUSE: h.mcause = v; return;
    case C.CSR_MTVAL: h.mtval = v; return;
    case C.CSR_MIP:
      h.mipSw = (h.mipSw & ~C.MIP_SW_WRITABLE) | (v & C.MIP_SW_WRITABLE);
      return;
    case C.CSR_MCYCLE: return writeCounter(h, 0, false, v);
    case C.CSR_MCYCLEH: return writeCounter(h, 0, true, v);
    case C.CSR_MINSTRET: return writeCounter(h, 2, false, v);
    case C.CSR_MINSTRETH: return writeCounter(h, 2, true, v);
    default: return; // read-only-zero WARL registers ignore writes
  }
}

/** mstatus WARL: only implemented fields change; MPP=2 (reserved) keeps the old MPP. */
function writeMstatus(h: Hart, v: number): void {
  let w = C.MSTATUS_WRITABLE;
  if (((v & C.MSTATUS_MPP) >>> C.MSTATUS_MPP_SHIFT) === 2) w &= ~C.MSTATUS_MPP;
  h.mstatus = (h.mstatus & ~w) | (v & w);
  h.xlateContextChanged();
}

/** May the current mode read counter `which` (0..31) through cycle/time/instret/hpmcounterN? */
function counterAllowed(h: Hart, which: number): boolean {
  if (h.priv === PRV_M) return true;
  if (((h.mcounteren >>> which) & 1) === 0) return false;
  return h.priv === PRV_S || ((h.scounteren >>> which) & 1) !== 0;
}

/** Is this access legal for the current privilege (exists, level, read-only, TVM, counteren)? */
function accessAllowed(h: Hart, csr: number, write: boolean): boolean {
  if (EXISTS[csr] === 0) return false;
  if (((csr >>> 8) & 3) > h.priv) return false;
  if (write && (csr >>> 10) === 3) return false;
  if (csr === C.CSR_SATP && h.priv === PRV_S && (h.mstatus & C.MSTATUS_TVM) !== 0) return false;
  if ((csr & ~0x9f) === 0xc00 && h.priv !== PRV_M) return counterAllowed(h, csr & 0x1f);
  return true;
}

/** The value a CSRRS/CSRRC modifies: for mip/sip only the software bits, not the lines. */
function rmwBase(h: Hart, csr: number, read: number): number {
  if (csr === C.CSR_MIP) return h.mipSw;
  if (csr === C.CSR_SIP) return h.mipSw & h.mideleg;
  return read;
}

/**
 * Execute a Zicsr instruction at h.pc. `rs1` is the register index or, for the
 * immediate forms, the 5-bit uimm; `rd` is REG_SINK for x0. On success h.pc
 * moves on and a newly enabled interrupt is taken at once.
 */
export function execCsr(h: Hart, op: number, rd: number, rs1: number, csr: number): void {
  const imm = op >= OP.CSRRWI;
  const kind = imm ? op - OP.CSRRWI : op - OP.CSRRW; // 0 write, 1 set, 2 clear
  const write = kind === 0 || rs1 !== 0;
  if (!accessAllowed(h, csr, write)) return raiseIllegal(h);
  const src = imm ? rs1 : h.regFile[rs1];
  const old = csrReadRaw(h, csr);
  if (write) {
    const base = rmwBase(h, csr, old);
    const nv = kind === 0 ? src : kind === 1 ? base | src : base & ~src;
    csrWriteRaw(h, csr, nv);
  }
  if (rd !== REG_SINK) h.regFile[rd] = old;
  h.pc = (h.pc + 4) | 0;
  if (write) checkInterrupts(h);
}

