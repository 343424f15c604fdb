// The CLINT (core-local interruptor), SiFive layout as on QEMU `virt`:
//
//   +0x0000 + 4*h   msip[h]      bit 0 = machine software interrupt of hart h
//   +0x4000 + 8*h   mtimecmp[h]  64-bit, two 32-bit halves (lo at +0, hi at +4)
//   +0xBFF8         mtime        64-bit, the shared Clock (writable)
//
// Only aligned 32-bit accesses are accepted (the RV32 way to touch 64-bit
// registers); other widths fault. Offsets inside the 64 KiB window that name
// no register (msip/mtimecmp of harts that do not exist, gaps) read as zero
// and ignore writes, as QEMU's ACLINT does.
//
// State in `hv`: msip and mtimecmp per hart. mtime is not stored: it is the
// Clock. MSIP is a stored line (IrqLines); MTIP is computed on demand by
// comparing mtime with mtimecmp, because time passing sets it with no store
// anyone could hook.

import type { MmioDevice } from './bus.ts';
import type { Clock } from './clock.ts';
import { MIP_MSIP, type IrqLines } from './irq-lines.ts';
import { deadlineOf, hi32, lo32 } from './timecmp.ts';

export const CLINT_MSIP = 0x0000;
export const CLINT_MTIMECMP = 0x4000;
export const CLINT_MTIME = 0xbff8;
const CLINT_END = 0x1_0000;

export class Clint implements MmioDevice {
  static words(nvcpus: number): number {
    return 3 * nvcpus; // msip[n], mtimecmp_lo[n], mtimecmp_hi[n]
  }

  private readonly cmpLo: number;
  private readonly cmpHi: number;

  constructor(
    private readonly view: Int32Array,
    readonly nvcpus: number,
    private readonly lines: IrqLines,
    private readonly clock: Clock,
    /** Wakes a vCPU whose timer deadline moved earlier (it sleeps until the old one). */
    private readonly kick: (vcpuId: number) => void,
  ) {
    this.cmpLo = nvcpus;
    this.cmpHi = 2 * nvcpus;
  }

  /**
   * Run once by whoever creates the VM. msip = 0; mtimecmp = all ones (the
   * privileged spec leaves the reset value open; all ones means a guest that
   * enables MTIE before programming its timer takes no spurious interrupt).
   */
  init(): void {
    for (let h = 0; h < this.nvcpus; h++) {
      Atomics.store(this.view, h, 0);
      Atomics.store(this.view, this.cmpLo + h, -1);
      Atomics.store(this.view, this.cmpHi + h, -1);
      this.lines.lower(h, MIP_MSIP);
    }
  }

  /** MTIP of hart `vcpuId`: mtime >= mtimecmp. `now` defaults to the clock. */
  timerPending(vcpuId: number, now: number = this.clock.mtime()): boolean {
    return now >= this.nextTimerDeadline(vcpuId);
  }

  /** mtimecmp of hart `vcpuId` in ticks, Infinity if it can never fire. */
  nextTimerDeadline(vcpuId: number): number {
    return deadlineOf(Atomics.load(this.view, this.cmpLo + vcpuId), Atomics.load(this.view, this.cmpHi + vcpuId));
  }

  mmioLoad(offset: number, size: number): number {
    if (size !== 4 || (offset & 3) !== 0 || offset >= CLINT_END) return -1;
    if (offset < CLINT_MTIMECMP) {
      const h = offset >> 2;
      return h < this.nvcpus ? Atomics.load(this.view, h) : 0;
    }
    if (offset >= CLINT_MTIME) {
      if (offset >= CLINT_MTIME + 8) return 0;
      const t = this.clock.mtime();
      return offset === CLINT_MTIME ? lo32(t) : hi32(t);
    }
    const h = (offset - CLINT_MTIMECMP) >> 3;
    if (h >= this.nvcpus) return 0;
    const half = offset & 4 ? this.cmpHi : this.cmpLo;
    return Atomics.load(this.view, half + h) >>> 0;
  }

  mmioStore(offset: number, size: number, value: number): boolean {
    if (size !== 4 || (offset & 3) !== 0 || offset >= CLINT_END) return false;
    if (offset < CLINT_MTIMECMP) {
      const h = offset >> 2;
      if (h < this.nvcpus) this.setMsip(h, (value & 1) !== 0);
      return true;
    }
    if (offset >= CLINT_MTIME) {
      if (offset < CLINT_MTIME + 8) this.writeMtimeHalf(offset === CLINT_MTIME + 4, value);
      return true;
    }
    const h = (offset - CLINT_MTIMECMP) >> 3;
    if (h < this.nvcpus) this.writeMtimecmpHalf(h, (offset & 4) !== 0, value);
    return true;
  }

  /** msip[h] = bit; drives MSIP (raising it kicks hart h). */
  setMsip(h: number, bit: boolean): void {
    Atomics.store(this.view, h, bit ? 1 : 0);
    this.lines.set(h, MIP_MSIP, bit);
  }

  private writeMtimecmpHalf(h: number, high: boolean, value: number): void {
    const before = this.nextTimerDeadline(h);
    Atomics.store(this.view, (high ? this.cmpHi : this.cmpLo) + h, value | 0);
    // Hart h may be asleep in WFI until `before`; if the deadline moved
    // earlier it must wake and recompute (a later deadline only costs it an
    // early look, so no kick then).
    if (this.nextTimerDeadline(h) < before) this.kick(h);
  }

  private writeMtimeHalf(high: boolean, value: number): void {
    const t = this.clock.mtime();
    const lo = high ? lo32(t) : value >>> 0;
    const hi = high ? value >>> 0 : hi32(t);
    const next = deadlineOf(lo, hi);
    // A value beyond 2^53 cannot be represented exactly; clamp to the largest
    // exact one rather than invent precision.
    this.clock.setMtime(next === Infinity ? Number.MAX_SAFE_INTEGER : next);
    // Every hart's sleep was computed from the old time.
    for (let h = 0; h < this.nvcpus; h++) this.kick(h);
  }
}
