// A flat memory for tests and benchmarks ONLY; the real VM uses the KVM shadow
// MMU in src/kvm. It implements HartMemory with:
//   - RAM at FLAT_RAM_BASE in one (Shared)ArrayBuffer, identity mapped when
//     paging is off (satp MODE=0, or M-mode);
//   - Sv32 translation done directly in software (sv32-walk.ts), like a
//     hardware page walker with A/D updates, when satp MODE=1 below M-mode;
//   - a tiny MMIO window: a console byte and a riscv-tests-style "tohost" word;
//   - optional "emulated" physical pages whose writes return XLATE_EMULATE, so
//     the hart's emulated-write path can be tested.
// Everything else is an access fault.

import {
  ACC_WRITE, PRV_M, XLATE_EMULATE, XLATE_FAULT, XLATE_MMIO, type HartMemory,
} from './memory.ts';
import { CAUSE_FETCH_ACCESS, CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS } from './causes.ts';
import { Sv32Walker } from './sv32-walk.ts';

export const FLAT_RAM_BASE = 0x80000000;
export const FLAT_MMIO_BASE = 0x10000000;
export const FLAT_MMIO_SIZE = 0x2000;
/** Byte store: append a character to FlatMemory.console. Loads read 0. */
export const FLAT_CONSOLE = 0x10000000;
/** Word store: set FlatMemory.tohost and call onTohost (tests stop the hart there). */
export const FLAT_TOHOST = 0x10001000;

const ACCESS_FAULT = [CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS, CAUSE_FETCH_ACCESS];

export interface FlatMemoryOptions {
  /** RAM size in bytes (multiple of 4096; default 1 MiB). */
  size?: number;
  /** Use a plain ArrayBuffer instead of a SharedArrayBuffer. */
  unshared?: boolean;
  /** Use this buffer as RAM (e.g. one shared with other workers' harts); overrides size. */
  ram?: SharedArrayBuffer | ArrayBuffer;
}

export class FlatMemory implements HartMemory {
  readonly ram: SharedArrayBuffer | ArrayBuffer;
  readonly size: number;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly walker: Sv32Walker;

  faultCause = 0;
  mmioAddr = 0;
  hostAddr = 0;
  busError = false;

  /** Characters written to FLAT_CONSOLE. */
  console = '';
  /** Last word written to FLAT_TOHOST. */
  tohost = 0;
  onTohost: ((value: number) => void) | null = null;
  /** Physical page numbers (paddr >>> 12) whose writes are emulated. */
  readonly emulatedPages = new Set<number>();
  emulatedWrites = 0;
  /** translate() calls (TLB misses of the hart). */
  translations = 0;

  constructor(opts: FlatMemoryOptions = {}) {
    this.size = opts.ram?.byteLength ?? opts.size ?? 1 << 20;
    this.ram = opts.ram ?? (opts.unshared ? new ArrayBuffer(this.size) : new SharedArrayBuffer(this.size));
    this.u8 = new Uint8Array(this.ram);
    this.i32 = new Int32Array(this.ram);
    this.walker = new Sv32Walker(this.i32, FLAT_RAM_BASE);
  }

  translate(vaddr: number, access: number, priv: number, satp: number, mstatus: number): number {
    this.translations++;
    let pa = vaddr >>> 0;
    if (satp >>> 31 === 1 && priv !== PRV_M) {
      pa = this.walker.walk(pa, access, priv, satp, mstatus);
      if (pa < 0) {
        this.faultCause = this.walker.faultCause;
        return XLATE_FAULT;
      }
    }
    return this.physical(pa, access);
  }

  private physical(pa: number, access: number): number {
    const off = pa - FLAT_RAM_BASE;
    if (off >= 0 && off < this.size) {
      if (access === ACC_WRITE && this.emulatedPages.has(Math.floor(pa / 4096))) {
        this.hostAddr = off;
        return XLATE_EMULATE;
      }
      return off - (off % 4096);
    }
    if (pa >= FLAT_MMIO_BASE && pa < FLAT_MMIO_BASE + FLAT_MMIO_SIZE) {
      this.mmioAddr = pa;
      return XLATE_MMIO;
    }
    this.faultCause = ACCESS_FAULT[access];
    return XLATE_FAULT;
  }

  mmioLoad(paddr: number, size: number): number {
    if (paddr === FLAT_CONSOLE) return 0;
    if (paddr === FLAT_TOHOST && size === 4) return this.tohost;
    this.busError = true;
    return 0;
  }

  mmioStore(paddr: number, size: number, value: number): void {
    if (paddr === FLAT_CONSOLE) {
      this.console += String.fromCharCode(value & 0xff);
    } else if (paddr === FLAT_TOHOST && size === 4) {
      this.tohost = value >>> 0;
      this.onTohost?.(this.tohost);
    } else {
      this.busError = true;
    }
  }

  afterEmulatedWrite(): void {
    this.emulatedWrites++;
  }

  // --- Helpers for loading programs and checking results (physical addresses).

  private index(paddr: number, len: number): number {
    const off = paddr - FLAT_RAM_BASE;
    if (off < 0 || off + len > this.size) throw new RangeError(`flat memory: 0x${(paddr >>> 0).toString(16)} is outside RAM`);
    return off;
  }

  writeBytes(paddr: number, bytes: Uint8Array): void {
    this.u8.set(bytes, this.index(paddr >>> 0, bytes.length));
  }

  writeWord(paddr: number, value: number): void {
    const off = this.index(paddr >>> 0, 4);
    new DataView(this.ram).setInt32(off, value | 0, true);
  }

  readWord(paddr: number): number {
    return new DataView(this.ram).getInt32(this.index(paddr >>> 0, 4), true);
  }

  readByte(paddr: number): number {
    return this.u8[this.index(paddr >>> 0, 1)];
  }
}
