// The instructions that leave the interpreter's fast path: environment calls,
// breakpoints, trap returns, WFI, fences, CSR access, atomics, illegal words
// and jumps to misaligned targets. Each runs with h.pc = its own address and
// leaves h.pc at the next instruction to execute (after a trap: the handler).

import type { Hart } from './hart.ts';
import { PRV_S, PRV_U } from './memory.ts';
import { OP } from './ops.ts';
import { MSTATUS_TVM, MSTATUS_TW } from './csr-defs.ts';
import {
  CAUSE_BREAKPOINT, CAUSE_ILLEGAL_INSN, CAUSE_MISALIGNED_FETCH, CAUSE_USER_ECALL,
} from './causes.ts';
import { RUN_STOP, RUN_WFI } from './exits.ts';
import { checkInterrupts, execMret, execSret, raiseException, raiseIllegal } from './trap.ts';
import { execCsr } from './csr-file.ts';
import { execAmo } from './amo.ts';

const next = (h: Hart): void => {
  h.pc = (h.pc + 4) | 0;
};

/**
 * ECALL: offered to the hypervisor first (SBI). If it handles the call, the
 * hart continues after the ECALL; otherwise an environment-call exception with
 * cause 8/9/11 by privilege (U=0 -> 8, S=1 -> 9, M=3 -> 11) and tval 0.
 */
function execEcall(h: Hart): void {
  if (!h.env.ecall(h)) return raiseException(h, CAUSE_USER_ECALL + h.priv, 0);
  // A handled call is a trip to the hypervisor, a trap in all but name: like
  // any trap it ends an LR/SC sequence.
  h.resValid = false;
  next(h);
  if (h.stopRequested) h.exitReq = RUN_STOP;
  else checkInterrupts(h); // an SBI call may have raised or cleared pending bits
}

/**
 * WFI: illegal in U-mode, and in S-mode when TW=1 (our time limit is zero).
 * Otherwise completes; if no interrupt is pending and enabled in mie, the
 * caller gets RUN_WFI to sleep on (pc is already past the WFI).
 */
function execWfi(h: Hart): void {
  if (h.priv === PRV_U || (h.priv === PRV_S && (h.mstatus & MSTATUS_TW) !== 0)) return raiseIllegal(h);
  next(h);
  if (((h.mipSw | h.irqLines) & h.mie) === 0) h.exitReq = RUN_WFI;
}

/** SFENCE.VMA: illegal in U-mode and in S-mode when TVM=1. rs1=x0 flushes all; else one page. */
function execSfence(h: Hart, rs1: number): void {
  if (h.priv === PRV_U || (h.priv === PRV_S && (h.mstatus & MSTATUS_TVM) !== 0)) return raiseIllegal(h);
  if (rs1 === 0) h.tlb.flushAll();
  else h.tlb.flushPage(h.regFile[rs1]);
  h.fetchVA = -1;
  next(h);
}

/** A branch decoded as BR_MISALIGNED: the condition op is in `cond`. Traps only if taken. */
function execMisalignedBranch(h: Hart, cond: number, rs1: number, rs2: number, imm: number): void {
  const a = h.regFile[rs1];
  const b = h.regFile[rs2];
  let taken: boolean;
  switch (cond) {
    case OP.BEQ: taken = a === b; break;
    case OP.BNE: taken = a !== b; break;
    case OP.BLT: taken = a < b; break;
    case OP.BGE: taken = a >= b; break;
    case OP.BLTU: taken = a >>> 0 < b >>> 0; break;
    default: taken = a >>> 0 >= b >>> 0; break;
  }
  if (taken) raiseException(h, CAUSE_MISALIGNED_FETCH, (h.pc + imm) | 0);
  else next(h);
}

/** Execute one non-fast-path op (see interp.ts: the switch's default). */
export function execSlowOp(h: Hart, op: number, rd: number, rs1: number, rs2: number, imm: number): void {
  switch (op) {
    case OP.ECALL: return execEcall(h);
    // ebreak: tval = the address of the EBREAK (the spec allows 0 or the pc; gdb and spike use the pc).
    case OP.EBREAK: return raiseException(h, CAUSE_BREAKPOINT, h.pc);
    case OP.MRET: return execMret(h);
    case OP.SRET: return execSret(h);
    case OP.WFI: return execWfi(h);
    case OP.SFENCE_VMA: return execSfence(h, rs1);
    case OP.FENCE_I:
      h.dcache.flushAll();
      h.fetchVA = -1;
      return next(h);
    case OP.FENCE: return next(h); // normally handled inline by the interpreter
    case OP.CSRRW: case OP.CSRRS: case OP.CSRRC:
    case OP.CSRRWI: case OP.CSRRSI: case OP.CSRRCI:
      return execCsr(h, op, rd, rs1, imm);
    case OP.LR_W: case OP.SC_W: case OP.AMOSWAP: case OP.AMOADD: case OP.AMOXOR:
    case OP.AMOAND: case OP.AMOOR: case OP.AMOMIN: case OP.AMOMAX: case OP.AMOMINU:
    case OP.AMOMAXU:
      return execAmo(h, op, rd, rs1, rs2);
    case OP.BR_MISALIGNED: return execMisalignedBranch(h, rd, rs1, rs2, imm);
    case OP.JAL_MISALIGNED: return raiseException(h, CAUSE_MISALIGNED_FETCH, (h.pc + imm) | 0);
    // ILLEGAL keeps the instruction bits in imm: they become mtval.
    default: return raiseException(h, CAUSE_ILLEGAL_INSN, imm);
  }
}
