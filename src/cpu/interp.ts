// The interpreter loop: fetch from the decode cache, dispatch, execute.
//
// Hot-path rules (ARCHITECTURE.md §6): typed arrays and small integers only,
// no allocation, no closures, no exceptions. Everything the loop touches is
// held in locals; anything rare (TLB miss, device, CSR, trap, atomics) is a
// call into another module, after which the loop reloads pc and closes its
// fetch window (the call may have flushed TLBs or dropped decoded code).
//
// Case labels are literal numbers because V8 only builds a jump table for a
// switch whose labels are literals; each is commented with its OP name from
// ops.ts, and test/cpu/ops.test.ts checks the two agree.
//
// Counting: every loop iteration uses one unit of budget and one cycle;
// exceptions retire nothing (h.runTraps), so
//   cycle += used, instret += used - runTraps   at the end of run().

import type { Hart } from './hart.ts';
import { RUN_BUDGET } from './exits.ts';
import { decodeInto } from './decode.ts';
import { fetchSlow } from './fetch.ts';
import { loadSlow, storeSlow } from './mem-access.ts';
import { mulh, mulhsu, mulhu } from './mul-high.ts';
import { execSlowOp } from './system.ts';
import { checkInterrupts, raiseException } from './trap.ts';
import { CAUSE_MISALIGNED_FETCH } from './causes.ts';

/** Target of FENCE's barrier RMW; shared when possible so V8 emits a real atomic. */
const fenceWord = new Int32Array(
  typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(4) : new ArrayBuffer(4),
);

export function runLoop(h: Hart, budget: number): number {
  h.runBudget = budget;
  h.runLeft = budget;
  h.runTraps = 0;
  h.exitReq = RUN_BUDGET;
  h.trapped = false;
  if (budget <= 0) return RUN_BUDGET;
  checkInterrupts(h);
  h.trapped = false;

  const x = h.regFile;
  const dc = h.dcache;
  const code = dc.code;
  const pageSlot = dc.pageSlot;
  const referenced = dc.referenced;
  const ram32 = h.ram32;
  const ramI16 = h.ramI16;
  const ramU16 = h.ramU16;
  const ramI8 = h.ramI8;
  const ramU8 = h.ramU8;
  const rTag = h.tlb.tag[0];
  const rOff = h.tlb.off[0];
  const wTag = h.tlb.tag[1];
  const wOff = h.tlb.off[1];
  const xTag = h.tlb.tag[2];
  const xOff = h.tlb.off[2];

  let pc = h.pc | 0;
  let n = budget;
  let exit = RUN_BUDGET;
  // The fetch window: virtual page being executed, its decode slot, its host page.
  let fetchVA = -1;
  let fetchBase = 0;
  let fetchHost = 0;

  loop: while (n > 0) {
    n--;
    if ((pc & -4096) !== fetchVA) {
      // New page: the common case is an execute-TLB hit on a page already decoded.
      const ti = (pc >>> 12) & 255;
      let slot = -1;
      if (xTag[ti] === (pc & -4093)) {
        const host = ((pc & -4096) + xOff[ti]) | 0;
        slot = pageSlot[host >>> 12];
        if (slot >= 0) {
          fetchVA = pc & -4096;
          fetchBase = slot << 11;
          fetchHost = host;
          h.fetchHost = host;
          referenced[slot] = 1;
        }
      }
      if (slot < 0) {
        h.pc = pc;
        if (!fetchSlow(h, pc)) {
          h.trapped = false;
          pc = h.pc;
          fetchVA = -1;
          if (h.exitReq !== 0) {
            exit = h.exitReq;
            break;
          }
          continue;
        }
        fetchVA = h.fetchVA;
        fetchBase = h.fetchBase;
        fetchHost = h.fetchHost;
      }
    }
    const off = pc & 4095;
    const k = fetchBase + (off >> 1);
    let w = code[k];
    if (w === 0) w = decodeInto(code, k, ram32[(fetchHost + off) >> 2]);
    const imm = code[k + 1];
    const rd = (w >>> 8) & 63;
    const rs1 = (w >>> 14) & 31;
    const rs2 = (w >>> 19) & 31;

    switch (w & 255) {
      case 2: // LUI
        x[rd] = imm;
        pc = (pc + 4) | 0;
        break;
      case 3: // AUIPC
        x[rd] = (pc + imm) | 0;
        pc = (pc + 4) | 0;
        break;
      case 4: // JAL
        x[rd] = (pc + 4) | 0;
        pc = (pc + imm) | 0;
        break;
      case 5: { // JALR
        const t = (x[rs1] + imm) & -2;
        if ((t & 2) !== 0) {
          h.pc = pc;
          raiseException(h, CAUSE_MISALIGNED_FETCH, t);
          h.trapped = false;
          pc = h.pc;
          fetchVA = -1;
          continue;
        }
        x[rd] = (pc + 4) | 0;
        pc = t;
        break;
      }
      case 6: // BEQ
        pc = (x[rs1] === x[rs2] ? pc + imm : pc + 4) | 0;
        break;
      case 7: // BNE
        pc = (x[rs1] !== x[rs2] ? pc + imm : pc + 4) | 0;
        break;
      case 8: // BLT
        pc = (x[rs1] < x[rs2] ? pc + imm : pc + 4) | 0;
        break;
      case 9: // BGE
        pc = (x[rs1] >= x[rs2] ? pc + imm : pc + 4) | 0;
        break;
      case 10: // BLTU
        pc = (x[rs1] >>> 0 < x[rs2] >>> 0 ? pc + imm : pc + 4) | 0;
        break;
      case 11: // BGEU
        pc = (x[rs1] >>> 0 >= x[rs2] >>> 0 ? pc + imm : pc + 4) | 0;
        break;

      // Loads: a TLB hit is one AND + compare (which also rejects misalignment).
      case 12: { // LB
        const a = (x[rs1] + imm) | 0;
        const ti = (a >>> 12) & 255;
        if (rTag[ti] === (a & -4096)) {
          x[rd] = ramI8[(a + rOff[ti]) | 0];
        } else {
          h.pc = pc;
          const v = loadSlow(h, a, 1, true);
          fetchVA = -1;
          if (h.trapped) { h.trapped = false; pc = h.pc; continue; }
          x[rd] = v;
          if (h.exitReq !== 0) { pc = (pc + 4) | 0; exit = h.exitReq; break loop; }
        }
        pc = (pc + 4) | 0;
        break;
      }
      case 13: { // LH
        const a = (x[rs1] + imm) | 0;
        const ti = (a >>> 12) & 255;
        if (rTag[ti] === (a & -4095)) {
          x[rd] = ramI16[((a + rOff[ti]) | 0) >> 1];
        } else {
          h.pc = pc;
          const v = loadSlow(h, a, 2, true);
          fetchVA = -1;
          if (h.trapped) { h.trapped = false; pc = h.pc; continue; }
          x[rd] = v;
          if (h.exitReq !== 0) { pc = (pc + 4) | 0; exit = h.exitReq; break loop; }
        }
        pc = (pc + 4) | 0;
        break;
      }
      case 14: { // LW
        const a = (x[rs1] + imm) | 0;
        const ti = (a >>> 12) & 255;
        if (rTag[ti] === (a & -4093)) {
          x[rd] = ram32[((a + rOff[ti]) | 0) >> 2];
        } else {
          h.pc = pc;
          const v = loadSlow(h, a, 4, true);
          fetchVA = -1;
          if (h.trapped) { h.trapped = false; pc = h.pc; continue; }
          x[rd] = v;
          if (h.exitReq !== 0) { pc = (pc + 4) | 0; exit = h.exitReq; break loop; }
        }
        pc = (pc + 4) | 0;
        break;
      }
      case 15: { // LBU
        const a = (x[rs1] + imm) | 0;
        const ti = (a >>> 12) & 255;
        if (rTag[ti] === (a & -4096)) {
          x[rd] = ramU8[(a + rOff[ti]) | 0];
        } else {
          h.pc = pc;
          const v = loadSlow(h, a, 1, false);
          fetchVA = -1;
          if (h.trapped) { h.trapped = false; pc = h.pc; continue; }
          x[rd] = v;
          if (h.exitReq !== 0) { pc = (pc + 4) | 0; exit = h.exitReq; break loop; }
        }
        pc = (pc + 4) | 0;
        break;
      }
      case 16: { // LHU
        const a = (x[rs1] + imm) | 0;
        const ti = (a >>> 12) & 255;
        if (rTag[ti] === (a & -4095)) {
          x[rd] = ramU16[((a + rOff[ti]) | 0) >> 1];
        } else {
          h.pc = pc;
          const v = loadSlow(h, a, 2, false);
          fetchVA = -1;
          if (h.trapped) { h.trapped = false; pc = h.pc; continue; }
          x[rd] = v;
          if (h.exitReq !== 0) { pc = (pc + 4) | 0; exit = h.exitReq; break loop; }
        }
        pc = (pc + 4) | 0;
        break;
      }

      // Stores: pages in the write TLB never hold decoded code (decode-cache.ts).
      case 17: { // SB
        const a = (x[rs1] + imm) | 0;
        const ti = (a >>> 12) & 255;
        if (wTag[ti] === (a & -4096)) {
          ramU8[(a + wOff[ti]) | 0] = x[rs2];
        } else {
          h.pc = pc;
          storeSlow(h, a, 1, x[rs2]);
          fetchVA = -1;
          if (h.trapped) { h.trapped = false; pc = h.pc; continue; }
          if (h.exitReq !== 0) { pc = (pc + 4) | 0; exit = h.exitReq; break loop; }
        }
        pc = (pc + 4) | 0;
        break;
      }
      case 18: { // SH
        const a = (x[rs1] + imm) | 0;
        const ti = (a >>> 12) & 255;
        if (wTag[ti] === (a & -4095)) {
          ramU16[((a + wOff[ti]) | 0) >> 1] = x[rs2];
        } else {
          h.pc = pc;
          storeSlow(h, a, 2, x[rs2]);
          fetchVA = -1;
          if (h.trapped) { h.trapped = false; pc = h.pc; continue; }
          if (h.exitReq !== 0) { pc = (pc + 4) | 0; exit = h.exitReq; break loop; }
        }
        pc = (pc + 4) | 0;
        break;
      }
      case 19: { // SW
        const a = (x[rs1] + imm) | 0;
        const ti = (a >>> 12) & 255;
        if (wTag[ti] === (a & -4093)) {
          ram32[((a + wOff[ti]) | 0) >> 2] = x[rs2];
        } else {
          h.pc = pc;
          storeSlow(h, a, 4, x[rs2]);
          fetchVA = -1;
          if (h.trapped) { h.trapped = false; pc = h.pc; continue; }
          if (h.exitReq !== 0) { pc = (pc + 4) | 0; exit = h.exitReq; break loop; }
        }
        pc = (pc + 4) | 0;
        break;
      }

      case 20: // ADDI
        x[rd] = (x[rs1] + imm) | 0;
        pc = (pc + 4) | 0;
        break;
      case 21: // SLTI
        x[rd] = x[rs1] < imm ? 1 : 0;
        pc = (pc + 4) | 0;
        break;
      case 22: // SLTIU
        x[rd] = x[rs1] >>> 0 < imm >>> 0 ? 1 : 0;
        pc = (pc + 4) | 0;
        break;
      case 23: // XORI
        x[rd] = x[rs1] ^ imm;
        pc = (pc + 4) | 0;
        break;
      case 24: // ORI
        x[rd] = x[rs1] | imm;
        pc = (pc + 4) | 0;
        break;
      case 25: // ANDI
        x[rd] = x[rs1] & imm;
        pc = (pc + 4) | 0;
        break;
      case 26: // SLLI
        x[rd] = x[rs1] << imm;
        pc = (pc + 4) | 0;
        break;
      case 27: // SRLI
        x[rd] = x[rs1] >>> imm;
        pc = (pc + 4) | 0;
        break;
      case 28: // SRAI
        x[rd] = x[rs1] >> imm;
        pc = (pc + 4) | 0;
        break;

      case 29: // ADD
        x[rd] = (x[rs1] + x[rs2]) | 0;
        pc = (pc + 4) | 0;
        break;
      case 30: // SUB
        x[rd] = (x[rs1] - x[rs2]) | 0;
        pc = (pc + 4) | 0;
        break;
      case 31: // SLL (JS masks the count to 5 bits, as RV32 does)
        x[rd] = x[rs1] << x[rs2];
        pc = (pc + 4) | 0;
        break;
      case 32: // SLT
        x[rd] = x[rs1] < x[rs2] ? 1 : 0;
        pc = (pc + 4) | 0;
        break;
      case 33: // SLTU
        x[rd] = x[rs1] >>> 0 < x[rs2] >>> 0 ? 1 : 0;
        pc = (pc + 4) | 0;
        break;
      case 34: // XOR
        x[rd] = x[rs1] ^ x[rs2];
        pc = (pc + 4) | 0;
        break;
      case 35: // SRL
        x[rd] = x[rs1] >>> x[rs2];
        pc = (pc + 4) | 0;
        break;
      case 36: // SRA
        x[rd] = x[rs1] >> x[rs2];
        pc = (pc + 4) | 0;
        break;
      case 37: // OR
        x[rd] = x[rs1] | x[rs2];
        pc = (pc + 4) | 0;
        break;
      case 38: // AND
        x[rd] = x[rs1] & x[rs2];
        pc = (pc + 4) | 0;
        break;

      case 39: // MUL
        x[rd] = Math.imul(x[rs1], x[rs2]);
        pc = (pc + 4) | 0;
        break;
      case 40: // MULH
        x[rd] = mulh(x[rs1], x[rs2]);
        pc = (pc + 4) | 0;
        break;
      case 41: // MULHSU
        x[rd] = mulhsu(x[rs1], x[rs2]);
        pc = (pc + 4) | 0;
        break;
      case 42: // MULHU
        x[rd] = mulhu(x[rs1], x[rs2]);
        pc = (pc + 4) | 0;
        break;
      case 43: { // DIV: /0 gives -1; -2^31 / -1 gives -2^31 (the |0 wraps 2^31)
        const b = x[rs2];
        x[rd] = b === 0 ? -1 : (x[rs1] / b) | 0;
        pc = (pc + 4) | 0;
        break;
      }
      case 44: { // DIVU: /0 gives 2^32-1
        const b = x[rs2];
        x[rd] = b === 0 ? -1 : ((x[rs1] >>> 0) / (b >>> 0)) >>> 0;
        pc = (pc + 4) | 0;
        break;
      }
      case 45: { // REM: %0 gives the dividend; -2^31 % -1 gives 0
        const b = x[rs2];
        x[rd] = b === 0 ? x[rs1] : (x[rs1] % b) | 0;
        pc = (pc + 4) | 0;
        break;
      }
      case 46: { // REMU
        const b = x[rs2];
        x[rd] = b === 0 ? x[rs1] : ((x[rs1] >>> 0) % (b >>> 0)) | 0;
        pc = (pc + 4) | 0;
        break;
      }
      case 47: // FENCE
        // Plain typed-array accesses are not ordered across workers on a weakly
        // ordered host (ARM); an atomic read-modify-write is a barrier there
        // (and a full one on x86), so FENCE performs one on a private word.
        Atomics.add(fenceWord, 0, 0);
        pc = (pc + 4) | 0;
        break;

      default: // ILLEGAL, system, CSR, atomics, misaligned jumps: system.ts
        h.pc = pc;
        h.runLeft = n;
        execSlowOp(h, w & 255, rd, rs1, rs2, imm);
        h.trapped = false;
        pc = h.pc;
        fetchVA = -1;
        if (h.exitReq !== 0) {
          exit = h.exitReq;
          break loop;
        }
        break;
    }
  }

  h.pc = pc;
  const used = budget - n;
  h.cycle += used;
  h.instret += used - h.runTraps;
  h.runBudget = 0;
  h.runLeft = 0;
  h.runTraps = 0;
  h.exitReq = RUN_BUDGET;
  h.fetchVA = -1;
  return exit;
}
