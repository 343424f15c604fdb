// LR/SC and the AMOs, atomic across vCPUs running in different workers on the
// same SharedArrayBuffer: every one is an Atomics operation on the Int32Array
// view of RAM.
//
// SC is value-based: LR records the host address and the value it read; SC
// succeeds iff that reservation is still valid for the same address and an
// Atomics.compareExchange(old value -> new value) succeeds. A store by another
// hart that writes the same value back (A -> B -> A) is therefore not seen
// (the ABA case): the SC still succeeds. The spec lets an SC fail for many
// reasons but requires failure if another hart's store to the reservation set
// was observed between LR and SC; a value compare cannot observe a store that
// left the value unchanged. Linux and the usual lock/atomic idioms only use
// LR/SC as compare-and-swap, for which this is exact. Any trap, and every SC,
// clears the reservation.
//
// Alignment: a misaligned LR raises load-address-misaligned (4), a misaligned
// SC or AMO store/AMO-address-misaligned (6), with tval = the address.
// AMOs and LR/SC to device memory raise an access fault (5 for LR, else 7).

import type { Hart } from './hart.ts';
import { ACC_READ, ACC_WRITE, XLATE_EMULATE, XLATE_FAULT, XLATE_MMIO } from './memory.ts';
import { OP } from './ops.ts';
import { REG_SINK } from './decode.ts';
import {
  CAUSE_LOAD_ACCESS, CAUSE_MISALIGNED_LOAD, CAUSE_MISALIGNED_STORE, CAUSE_STORE_ACCESS,
} from './causes.ts';
import { raiseException } from './trap.ts';
import { dropCode, xlate } from './mem-access.ts';

/** min/max family: retry compareExchange until no other hart raced us. */
function amoMinMax(ram: Int32Array, i: number, v: number, op: number): number {
  let old = Atomics.load(ram, i);
  for (;;) {
    let nv: number;
    if (op === OP.AMOMIN) nv = old < v ? old : v;
    else if (op === OP.AMOMAX) nv = old > v ? old : v;
    else if (op === OP.AMOMINU) nv = (old >>> 0) < (v >>> 0) ? old : v;
    else nv = (old >>> 0) > (v >>> 0) ? old : v;
    const seen = Atomics.compareExchange(ram, i, old, nv);
    if (seen === old) return old;
    old = seen;
  }
}

/** Apply AMO `op` at word index i; returns the old value. */
function amoApply(ram: Int32Array, i: number, v: number, op: number): number {
  switch (op) {
    case OP.AMOSWAP: return Atomics.exchange(ram, i, v);
    case OP.AMOADD: return Atomics.add(ram, i, v);
    case OP.AMOXOR: return Atomics.xor(ram, i, v);
    case OP.AMOAND: return Atomics.and(ram, i, v);
    case OP.AMOOR: return Atomics.or(ram, i, v);
    default: return amoMinMax(ram, i, v, op);
  }
}

/** Set by amoTarget: the word is RAM that must not be cached (XLATE_EMULATE). */
let targetEmulated = false;

/** Host offset of the aligned word at `a`, or -1 after raising the right trap. */
function amoTarget(h: Hart, a: number, isLoad: boolean): number {
  if ((a & 3) !== 0) {
    raiseException(h, isLoad ? CAUSE_MISALIGNED_LOAD : CAUSE_MISALIGNED_STORE, a);
    return -1;
  }
  const r = xlate(h, a, isLoad ? ACC_READ : ACC_WRITE);
  targetEmulated = r === XLATE_EMULATE;
  if (r >= 0) return r;
  if (r === XLATE_EMULATE) return h.mem.hostAddr;
  if (r === XLATE_FAULT) raiseException(h, h.mem.faultCause, a);
  else if (r === XLATE_MMIO) raiseException(h, isLoad ? CAUSE_LOAD_ACCESS : CAUSE_STORE_ACCESS, a);
  return -1;
}

/**
 * Execute LR.W, SC.W or an AMO at h.pc. On success writes rd and advances
 * h.pc; on a trap sets h.trapped.
 */
export function execAmo(h: Hart, op: number, rd: number, rs1: number, rs2: number): void {
  const x = h.regFile;
  const a = x[rs1];
  const src = x[rs2];
  const isLoad = op === OP.LR_W;
  const off = amoTarget(h, a, isLoad);
  if (off < 0) return;
  const emulated = targetEmulated;
  const ram = h.ram32;
  const i = off >> 2;
  let result: number;
  let wrote = false;
  if (op === OP.LR_W) {
    result = Atomics.load(ram, i);
    h.resValid = true;
    h.resAddr = off;
    h.resValue = result;
  } else if (op === OP.SC_W) {
    const ok = h.resValid && h.resAddr === off &&
      Atomics.compareExchange(ram, i, h.resValue, src) === h.resValue;
    h.resValid = false;
    result = ok ? 0 : 1;
    wrote = ok;
  } else {
    result = amoApply(ram, i, src, op);
    wrote = true;
  }
  if (wrote && emulated) {
    dropCode(h, off);
    h.mem.afterEmulatedWrite();
  }
  if (rd !== REG_SINK) x[rd] = result;
  h.pc = (h.pc + 4) | 0;
}
