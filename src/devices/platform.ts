// The board: every device of the QEMU-`virt`-like platform, laid out in one
// region of `hv` and attached identically in every worker.
//
// The VM creator sizes the region with platformWords(config), places it in
// `hv` at an 8-byte aligned offset, builds a Platform over it and calls init()
// once. Each vCPU worker (and the VMM, and anyone who wants to read device
// state) builds its own Platform over the same region with its own kick
// callback, and one Bus per vCPU with createBus(vcpuId). The layout inside
// the region is a pure function of the config, so all of them agree.
//
// The sub-regions, in order (each 8-byte aligned):
//   clock        Clock.WORDS
//   irq-lines    nvcpus
//   clint        3 * nvcpus
//   plic         Plic.words(nvcpus)
//   uart         Uart.WORDS
//   htif         Htif.WORDS
//   console-out  ConsoleRing.words(consoleOutBytes)
//   console-in   ConsoleRing.words(consoleInBytes)
// The UI reads the console rings directly; regionOffsets() gives their
// positions for the layout table.

import { KvmError } from '../kvm/errors.ts';
import { Bus } from './bus.ts';
import { Clint } from './clint.ts';
import { Clock, type HostClock, defaultHostClock } from './clock.ts';
import { ConsoleRing } from './console-ring.ts';
import { Htif } from './htif.ts';
import { IrqLines, MIP_MTIP, type Kick } from './irq-lines.ts';
import { CLINT_BASE, CLINT_SIZE, MAX_VCPUS, PLIC_BASE, PLIC_SIZE, UART0_BASE, UART0_IRQ, UART0_SIZE } from './memory-map.ts';
import { Plic } from './plic.ts';
import { Uart } from './uart.ts';

export interface PlatformConfig {
  nvcpus: number;
  /** console-out capacity in bytes (power of two); default 64 KiB. */
  consoleOutBytes?: number;
  /** console-in capacity in bytes (power of two); default 4 KiB. */
  consoleInBytes?: number;
}

export interface PlatformHooks {
  /** Wake vCPU `id` if it sleeps in WFI (Atomics.notify on its wake word). Worker-local. */
  kick: Kick;
  /** HTIF symbols of the loaded ELF; absent = no HTIF. */
  tohost?: number;
  fromhost?: number;
  /** Host clock override (tests); default performance.timeOrigin + now(). */
  hostClock?: HostClock;
}

/** Word offset and length of each device's sub-region, relative to the platform region. */
export interface PlatformLayout {
  readonly words: number;
  readonly clock: SubRegion;
  readonly irqLines: SubRegion;
  readonly clint: SubRegion;
  readonly plic: SubRegion;
  readonly uart: SubRegion;
  readonly htif: SubRegion;
  readonly consoleOut: SubRegion;
  readonly consoleIn: SubRegion;
}

export interface SubRegion {
  readonly offset: number; // in words
  readonly words: number;
}

const DEFAULT_OUT_BYTES = 64 * 1024;
const DEFAULT_IN_BYTES = 4 * 1024;

/** The layout for a config; also validates it. */
export function platformLayout(cfg: PlatformConfig): PlatformLayout {
  const n = cfg.nvcpus;
  if (!Number.isInteger(n) || n < 1 || n > MAX_VCPUS) {
    throw new KvmError('EINVAL', `platform: ${n} vCPUs; this board supports 1..${MAX_VCPUS}`);
  }
  let at = 0;
  const take = (words: number): SubRegion => {
    const r = { offset: at, words };
    at += words + (words & 1); // keep every sub-region 8-byte aligned
    return r;
  };
  const clock = take(Clock.WORDS);
  const irqLines = take(IrqLines.words(n));
  const clint = take(Clint.words(n));
  const plic = take(Plic.words(n));
  const uart = take(Uart.WORDS);
  const htif = take(Htif.WORDS);
  const consoleOut = take(ConsoleRing.words(cfg.consoleOutBytes ?? DEFAULT_OUT_BYTES));
  const consoleIn = take(ConsoleRing.words(cfg.consoleInBytes ?? DEFAULT_IN_BYTES));
  return { words: at, clock, irqLines, clint, plic, uart, htif, consoleOut, consoleIn };
}

/** Size of the platform region in 32-bit words. */
export function platformWords(cfg: PlatformConfig): number {
  return platformLayout(cfg).words;
}

export class Platform {
  readonly layout: PlatformLayout;
  readonly nvcpus: number;
  readonly clock: Clock;
  readonly lines: IrqLines;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly uart: Uart;
  readonly htif: Htif;
  readonly consoleOut: ConsoleRing;
  readonly consoleIn: ConsoleRing;

  constructor(view: Int32Array, cfg: PlatformConfig, hooks: PlatformHooks) {
    const L = platformLayout(cfg);
    if (view.length < L.words || view.byteOffset % 8 !== 0) {
      throw new KvmError('EINVAL', `platform region: needs ${L.words} words at an 8-byte aligned offset ` +
        `(got ${view.length} words at byte ${view.byteOffset})`);
    }
    const sub = (r: SubRegion) => view.subarray(r.offset, r.offset + r.words);
    this.layout = L;
    this.nvcpus = cfg.nvcpus;
    this.clock = new Clock(sub(L.clock), hooks.hostClock ?? defaultHostClock);
    this.lines = new IrqLines(sub(L.irqLines), cfg.nvcpus, hooks.kick);
    this.clint = new Clint(sub(L.clint), cfg.nvcpus, this.lines, this.clock, hooks.kick);
    this.plic = new Plic(sub(L.plic), cfg.nvcpus, this.lines);
    this.consoleOut = new ConsoleRing(sub(L.consoleOut));
    this.consoleIn = new ConsoleRing(sub(L.consoleIn));
    this.uart = new Uart(sub(L.uart), { output: this.consoleOut, input: this.consoleIn, irq: this.plic, source: UART0_IRQ });
    this.htif = new Htif(sub(L.htif), {
      tohost: hooks.tohost,
      fromhost: hooks.fromhost,
      output: this.consoleOut,
      input: this.consoleIn,
    });
  }

  /** Run once by whoever creates the VM, before any vCPU runs. Starts the clock at 0. */
  init(): void {
    this.consoleOut.init();
    this.consoleIn.init();
    this.lines.init();
    this.clock.init(0);
    this.clint.init();
    this.plic.init();
    this.uart.init();
    this.htif.init();
  }

  /** The MMIO bus of one vCPU (build one per vCPU, in its worker). */
  createBus(vcpuId: number): Bus {
    return new Bus(vcpuId)
      .map('clint', CLINT_BASE, CLINT_SIZE, this.clint)
      .map('plic', PLIC_BASE, PLIC_SIZE, this.plic)
      .map('uart0', UART0_BASE, UART0_SIZE, this.uart);
  }

  /**
   * The device interrupt lines of vCPU `vcpuId` as mip bits (MSIP, MTIP, SEIP,
   * MEIP), for hart.setIrqLines() at every poll point.
   */
  irqLines(vcpuId: number): number {
    const stored = this.lines.read(vcpuId);
    return this.clint.timerPending(vcpuId) ? stored | MIP_MTIP : stored;
  }

  /** The CLINT timer deadline of vCPU `vcpuId` in mtime ticks (Infinity: none). */
  nextTimerDeadline(vcpuId: number): number {
    return this.clint.nextTimerDeadline(vcpuId);
  }

  /**
   * Device work that is not triggered by a guest access: console-in bytes the
   * UI published since the last look. Call at vCPU poll points.
   */
  poll(): void {
    this.uart.sync();
  }
}
