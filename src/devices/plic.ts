// The PLIC (platform-level interrupt controller), RISC-V PLIC spec 1.0.0 with
// QEMU `virt`'s geometry: 96 sources (0 = "no interrupt", 1..95 usable; the
// UART is 10), 3 priority bits, two contexts per hart: 2*h = M-mode (drives
// MEIP), 2*h+1 = S-mode (drives SEIP).
//
//   +0x000000 + 4*s                 priority[s]         WARL, 0..7; 0 = never
//   +0x001000 + 4*w                 pending word w      read-only
//   +0x002000 + 0x80*c + 4*w        enable word w of context c
//   +0x200000 + 0x1000*c            threshold of c      WARL, 0..7
//   +0x200004 + 0x1000*c            claim (read) / complete (write)
//
// Only aligned 32-bit accesses; other widths fault (QEMU accepts only 4 too).
// Addresses in the window that name nothing read as zero and ignore writes.
//
// Semantics, from the PLIC spec where it speaks:
//  - Level-triggered gateways. A source's pending bit follows its device line
//    while the source is not claimed; a claim clears it and blocks the gateway
//    until the matching completion, after which a still-high line is pending
//    again. (A line that drops before anyone claims it withdraws the request,
//    as QEMU does; otherwise a UART whose condition cleared would deliver a
//    spurious interrupt.)
//  - A context's EIP is set while some source is pending, enabled for it, and
//    has priority > its threshold.
//  - Claim returns the highest-priority pending enabled source (ties: lowest
//    ID), ignoring the threshold ("the claim operation is not affected by the
//    setting of the priority threshold register"); priority-0 sources never
//    interrupt and are never claimed. QEMU differs here: it applies the
//    threshold to claims too.
//  - Complete with an ID that is not enabled for the context is ignored; the
//    PLIC does not check that the ID is the one this context claimed.
//
// State in `hv`; every change happens under a small device lock (two harts
// may claim at once and exactly one must get the source), and lines to the
// harts are recomputed before the lock is dropped. Lock order: a device's own
// lock (UART) may be held while calling setLevel(); the PLIC never calls out
// to a device, only to IrqLines (lock-free).
//
// For PV EOI (src/kvm, MSR_KVM_EOI_EN) the PLIC also remembers which sources
// each context has claimed and not completed (its "ISR"): inServiceSingle().

import type { MmioDevice } from './bus.ts';
import { lockDevice, unlockDevice } from './device-lock.ts';
import { MIP_MEIP, MIP_SEIP, type IrqLines } from './irq-lines.ts';

export const PLIC_NUM_SOURCES = 96;
export const PLIC_PRIORITY_MASK = 7;

export const PLIC_PRIORITY_BASE = 0x0;
export const PLIC_PENDING_BASE = 0x1000;
export const PLIC_ENABLE_BASE = 0x2000;
export const PLIC_ENABLE_STRIDE = 0x80;
export const PLIC_CONTEXT_BASE = 0x20_0000;
export const PLIC_CONTEXT_STRIDE = 0x1000;

/** Bitmap words per source set. */
const W = (PLIC_NUM_SOURCES + 31) >> 5;

/** What a device needs of an interrupt controller: drive its line. */
export interface IrqSink {
  setLevel(source: number, level: boolean): void;
}

export class Plic implements MmioDevice, IrqSink {
  static words(nvcpus: number): number {
    const nctx = 2 * nvcpus;
    return 1 + PLIC_NUM_SOURCES + 3 * W + nctx * (2 * W + 1);
  }

  readonly ncontexts: number;
  // Word offsets of each table in the region.
  private readonly LOCK = 0;
  private readonly PRIO = 1;
  private readonly PENDING = 1 + PLIC_NUM_SOURCES;
  private readonly CLAIMED = this.PENDING + W;
  private readonly LEVEL = this.CLAIMED + W;
  private readonly ENABLE = this.LEVEL + W;
  private readonly THRESH: number;
  private readonly INSERVICE: number;

  constructor(
    private readonly v: Int32Array,
    readonly nvcpus: number,
    private readonly lines: IrqLines,
  ) {
    this.ncontexts = 2 * nvcpus;
    this.THRESH = this.ENABLE + this.ncontexts * W;
    this.INSERVICE = this.THRESH + this.ncontexts;
  }

  /** Run once by whoever creates the VM: everything zero, no line high. */
  init(): void {
    for (let i = 0; i < Plic.words(this.nvcpus); i++) Atomics.store(this.v, i, 0);
    for (let h = 0; h < this.nvcpus; h++) this.lines.lower(h, MIP_MEIP | MIP_SEIP);
  }

  // ---- device side -------------------------------------------------------

  /** A device drives its interrupt line (level-triggered). */
  setLevel(source: number, level: boolean): void {
    if (source <= 0 || source >= PLIC_NUM_SOURCES) return;
    const w = source >> 5;
    const bit = 1 << (source & 31);
    // The level only changes under the device's own lock, so an unchanged
    // level needs no work and no PLIC lock.
    if (((Atomics.load(this.v, this.LEVEL + w) & bit) !== 0) === level) return;
    lockDevice(this.v, this.LOCK);
    const v = this.v;
    if (level) v[this.LEVEL + w]! |= bit;
    else v[this.LEVEL + w]! &= ~bit;
    if ((v[this.CLAIMED + w]! & bit) === 0) this.setPending(w, bit, level);
    this.updateLines();
    unlockDevice(this.v, this.LOCK);
  }

  // ---- hart side (MMIO) --------------------------------------------------

  mmioLoad(offset: number, size: number): number {
    if (size !== 4 || (offset & 3) !== 0) return -1;
    if (offset < PLIC_PENDING_BASE) {
      const s = offset >> 2;
      return s < PLIC_NUM_SOURCES ? Atomics.load(this.v, this.PRIO + s) : 0;
    }
    if (offset < PLIC_ENABLE_BASE) {
      const w = (offset - PLIC_PENDING_BASE) >> 2;
      return w < W ? Atomics.load(this.v, this.PENDING + w) >>> 0 : 0;
    }
    if (offset < PLIC_CONTEXT_BASE) {
      const c = (offset - PLIC_ENABLE_BASE) >> 7;
      const w = ((offset - PLIC_ENABLE_BASE) & (PLIC_ENABLE_STRIDE - 1)) >> 2;
      return c < this.ncontexts && w < W ? Atomics.load(this.v, this.ENABLE + c * W + w) >>> 0 : 0;
    }
    const c = (offset - PLIC_CONTEXT_BASE) >> 12;
    if (c >= this.ncontexts) return 0;
    const reg = offset & (PLIC_CONTEXT_STRIDE - 1);
    if (reg === 0) return Atomics.load(this.v, this.THRESH + c);
    if (reg === 4) return this.claim(c);
    return 0;
  }

  mmioStore(offset: number, size: number, value: number): boolean {
    if (size !== 4 || (offset & 3) !== 0) return false;
    if (offset < PLIC_PENDING_BASE) {
      const s = offset >> 2;
      if (s > 0 && s < PLIC_NUM_SOURCES) this.locked(() => { this.v[this.PRIO + s] = value & PLIC_PRIORITY_MASK; });
      return true;
    }
    if (offset < PLIC_ENABLE_BASE) return true; // pending bits are read-only
    if (offset < PLIC_CONTEXT_BASE) {
      const c = (offset - PLIC_ENABLE_BASE) >> 7;
      const w = ((offset - PLIC_ENABLE_BASE) & (PLIC_ENABLE_STRIDE - 1)) >> 2;
      // Source 0 does not exist: its enable bit is hardwired to 0.
      if (c < this.ncontexts && w < W) this.locked(() => { this.v[this.ENABLE + c * W + w] = w === 0 ? value & ~1 : value; });
      return true;
    }
    const c = (offset - PLIC_CONTEXT_BASE) >> 12;
    if (c >= this.ncontexts) return true;
    const reg = offset & (PLIC_CONTEXT_STRIDE - 1);
    if (reg === 0) this.locked(() => { this.v[this.THRESH + c] = value & PLIC_PRIORITY_MASK; });
    else if (reg === 4) this.complete(c, value >>> 0);
    return true;
  }

  /**
   * The claim/complete register read by context `ctx`: take the best pending
   * source and return its ID (0 if none). Public for the hypervisor's own use.
   */
  claim(ctx: number): number {
    lockDevice(this.v, this.LOCK);
    const v = this.v;
    let best = 0;
    let bestPrio = 0;
    for (let w = 0; w < W; w++) {
      let bits = v[this.PENDING + w]! & v[this.ENABLE + ctx * W + w]!;
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const s = (w << 5) | b;
        const p = v[this.PRIO + s]!;
        if (p > bestPrio) { // strict: on a tie the lower ID (seen first) wins
          best = s;
          bestPrio = p;
        }
      }
    }
    if (best !== 0) {
      const w = best >> 5;
      const bit = 1 << (best & 31);
      v[this.PENDING + w]! &= ~bit;
      v[this.CLAIMED + w]! |= bit;
      v[this.INSERVICE + ctx * W + w]! |= bit;
      this.updateLines();
    }
    unlockDevice(this.v, this.LOCK);
    return best;
  }

  /**
   * The claim/complete register written by context `ctx` (an EOI). Ignored
   * unless `source` is enabled for ctx. Public so the hypervisor can complete
   * on the guest's behalf (PV EOI).
   */
  complete(ctx: number, source: number): void {
    if (source <= 0 || source >= PLIC_NUM_SOURCES) return;
    const w = source >> 5;
    const bit = 1 << (source & 31);
    lockDevice(this.v, this.LOCK);
    const v = this.v;
    if ((v[this.ENABLE + ctx * W + w]! & bit) !== 0 && (v[this.CLAIMED + w]! & bit) !== 0) {
      v[this.CLAIMED + w]! &= ~bit;
      // The PLIC does not track who claimed; retire the source from every ISR.
      for (let c = 0; c < this.ncontexts; c++) v[this.INSERVICE + c * W + w]! &= ~bit;
      this.setPending(w, bit, (v[this.LEVEL + w]! & bit) !== 0);
      this.updateLines();
    }
    unlockDevice(this.v, this.LOCK);
  }

  // ---- views for the hypervisor and the UI ---------------------------------

  /** Whether context ctx has an interrupt to take (its EIP line). */
  eip(ctx: number): boolean {
    const hart = ctx >> 1;
    return (this.lines.read(hart) & (ctx & 1 ? MIP_SEIP : MIP_MEIP)) !== 0;
  }

  /**
   * The single source context ctx has claimed and not completed: its ID, 0 if
   * none, -1 if more than one (PV EOI may only be armed with exactly one).
   */
  inServiceSingle(ctx: number): number {
    let found = 0;
    for (let w = 0; w < W; w++) {
      const bits = Atomics.load(this.v, this.INSERVICE + ctx * W + w);
      if (bits === 0) continue;
      if ((bits & (bits - 1)) !== 0 || found !== 0) return -1;
      found = (w << 5) | (31 - Math.clz32(bits));
    }
    return found;
  }

  /** Pending bit of a source (UI). */
  isPending(source: number): boolean {
    return (Atomics.load(this.v, this.PENDING + (source >> 5)) & (1 << (source & 31))) !== 0;
  }

  /** Whether a source is claimed and not yet completed (UI). */
  isClaimed(source: number): boolean {
    return (Atomics.load(this.v, this.CLAIMED + (source >> 5)) & (1 << (source & 31))) !== 0;
  }

  // ---- internals (callers hold the lock) ----------------------------------------

  private setPending(w: number, bit: number, on: boolean): void {
    if (on) this.v[this.PENDING + w]! |= bit;
    else this.v[this.PENDING + w]! &= ~bit;
  }

  /** Recompute every context's EIP and drive MEIP/SEIP of its hart. */
  private updateLines(): void {
    const v = this.v;
    for (let c = 0; c < this.ncontexts; c++) {
      const threshold = v[this.THRESH + c]!;
      let eip = false;
      for (let w = 0; w < W && !eip; w++) {
        let bits = v[this.PENDING + w]! & v[this.ENABLE + c * W + w]!;
        while (bits !== 0) {
          const b = 31 - Math.clz32(bits & -bits);
          bits &= bits - 1;
          if (v[this.PRIO + ((w << 5) | b)]! > threshold) {
            eip = true;
            break;
          }
        }
      }
      this.lines.set(c >> 1, c & 1 ? MIP_SEIP : MIP_MEIP, eip);
    }
  }

  /** Run a register write under the lock and recompute the lines. */
  private locked(write: () => void): void {
    lockDevice(this.v, this.LOCK);
    write();
    this.updateLines();
    unlockDevice(this.v, this.LOCK);
  }
}
