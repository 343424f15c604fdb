// Traps: exception and interrupt entry with medeleg/mideleg delegation, the
// interrupt priority rules, and the trap-return instructions mret/sret.
// Privileged spec: "Machine Trap Delegation Registers", "Machine Interrupt
// Registers", "Trap-Return Instructions".

import type { Hart } from './hart.ts';
import { PRV_M, PRV_S, PRV_U } from './memory.ts';
import {
  MSTATUS_MIE, MSTATUS_MPIE, MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_MPRV, MSTATUS_SIE,
  MSTATUS_SPIE, MSTATUS_SPP, MSTATUS_TSR,
} from './csr-defs.ts';
import {
  CAUSE_ILLEGAL_INSN, CAUSE_INTERRUPT, IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT,
  IRQ_S_SOFT, IRQ_S_TIMER,
} from './causes.ts';

/**
 * Take a trap at h.pc (the faulting instruction for an exception, the next
 * instruction for an interrupt). Sets h.trapped so the interpreter reloads pc.
 */
export function takeTrap(h: Hart, cause: number, interrupt: boolean, tval: number): void {
  const prev = h.priv;
  const deleg = interrupt ? h.mideleg : h.medeleg;
  // Traps never go to a less privileged mode: delegation only applies below M.
  const toS = prev !== PRV_M && ((deleg >>> cause) & 1) !== 0;
  const code = interrupt ? (cause | CAUSE_INTERRUPT) : cause;
  // Any trap ends an LR/SC sequence (a handler may run another one).
  h.resValid = false;
  if (!interrupt) h.runTraps++;
  // Keep the last two traps: when a handler faults on its first fetch, the
  // trap that sent the guest there is the one worth reporting.
  const log = h.trapLog;
  log[3] = log[0];
  log[4] = log[1];
  log[5] = log[2];
  log[0] = code;
  log[1] = h.pc & ~3;
  log[2] = tval | 0;
  let s = h.mstatus;
  let tvec: number;
  if (toS) {
    h.scause = code;
    h.sepc = h.pc & ~3;
    h.stval = tval | 0;
    s = (s & ~(MSTATUS_SPIE | MSTATUS_SIE | MSTATUS_SPP)) |
      ((s & MSTATUS_SIE) !== 0 ? MSTATUS_SPIE : 0) |
      (prev === PRV_S ? MSTATUS_SPP : 0);
    tvec = h.stvec;
  } else {
    h.mcause = code;
    h.mepc = h.pc & ~3;
    h.mtval = tval | 0;
    s = (s & ~(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP)) |
      ((s & MSTATUS_MIE) !== 0 ? MSTATUS_MPIE : 0) |
      (prev << MSTATUS_MPP_SHIFT);
    tvec = h.mtvec;
  }
  h.mstatus = s;
  // Vectored mode (MODE=1) sends interrupts to BASE + 4*cause; exceptions to BASE.
  h.pc = ((tvec & ~3) + ((tvec & 1) !== 0 && interrupt ? 4 * cause : 0)) | 0;
  h.setPriv(toS ? PRV_S : PRV_M); // also re-derives effPriv (MPP changed) and flushes the TLB if needed
  h.trapped = true;
}

/** Raise an exception for the instruction at h.pc. */
export function raiseException(h: Hart, cause: number, tval: number): void {
  takeTrap(h, cause, false, tval);
}

/** Illegal instruction; mtval gets the instruction bits (this hart's choice, allowed by the spec). */
export function raiseIllegal(h: Hart): void {
  takeTrap(h, CAUSE_ILLEGAL_INSN, false, currentInsnBits(h));
}

/** The raw bits of the instruction at h.pc, from the current fetch window's host page. */
export function currentInsnBits(h: Hart): number {
  return h.ram32[(h.fetchHost + (h.pc & 4095)) >> 2];
}

/** Interrupt priority among simultaneous ones at the same target level (spec order). */
const PRIORITY = [IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER];

function highest(bits: number): number {
  for (let i = 0; i < PRIORITY.length; i++) if (((bits >>> PRIORITY[i]) & 1) !== 0) return PRIORITY[i];
  return -1;
}

/**
 * The interrupt to take now, or -1. An interrupt destined for M (not in
 * mideleg) is enabled below M always, in M when MIE=1. One delegated to S is
 * enabled in U always, in S when SIE=1, never in M. Interrupts for M win over
 * those for S; within a level the order is MEI MSI MTI SEI SSI STI.
 */
export function pendingInterrupt(h: Hart): number {
  const pend = (h.mipSw | h.irqLines) & h.mie;
  if (pend === 0) return -1;
  const p = h.priv;
  const s = h.mstatus;
  const mEnabled = p !== PRV_M || (s & MSTATUS_MIE) !== 0;
  const toM = pend & ~h.mideleg;
  if (mEnabled && toM !== 0) return highest(toM);
  const sEnabled = p === PRV_U || (p === PRV_S && (s & MSTATUS_SIE) !== 0);
  const toS = pend & h.mideleg;
  if (sEnabled && toS !== 0) return highest(toS);
  return -1;
}

/** Take the highest-priority pending enabled interrupt, if any (epc = h.pc). */
export function checkInterrupts(h: Hart): boolean {
  const c = pendingInterrupt(h);
  if (c < 0) return false;
  takeTrap(h, c, true, 0);
  return true;
}

/** MRET (M-mode only): back to MPP with MIE=MPIE; MPIE=1, MPP=U; MPRV=0 unless returning to M. */
export function execMret(h: Hart): void {
  if (h.priv !== PRV_M) return raiseIllegal(h);
  const s = h.mstatus;
  const to = (s & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT;
  let ns = (s & ~(MSTATUS_MIE | MSTATUS_MPP)) | MSTATUS_MPIE |
    ((s & MSTATUS_MPIE) !== 0 ? MSTATUS_MIE : 0);
  if (to !== PRV_M) ns &= ~MSTATUS_MPRV;
  h.mstatus = ns;
  h.pc = h.mepc & ~3;
  h.setPriv(to);
  checkInterrupts(h);
}

/** SRET: illegal in U, and in S when TSR=1. Back to SPP with SIE=SPIE; SPIE=1, SPP=U; MPRV=0. */
export function execSret(h: Hart): void {
  if (h.priv === PRV_U || (h.priv === PRV_S && (h.mstatus & MSTATUS_TSR) !== 0)) return raiseIllegal(h);
  const s = h.mstatus;
  const to = (s & MSTATUS_SPP) !== 0 ? PRV_S : PRV_U;
  h.mstatus = (s & ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV)) | MSTATUS_SPIE |
    ((s & MSTATUS_SPIE) !== 0 ? MSTATUS_SIE : 0);
  h.pc = h.sepc & ~3;
  h.setPriv(to);
  checkInterrupts(h);
}
