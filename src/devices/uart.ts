// NS16550A UART at 0x1000_0000 (QEMU `virt`): eight byte registers, reg-shift 0.
//
//   off  DLAB=0 read  DLAB=0 write   DLAB=1
//   0    RBR          THR            DLL (divisor low)
//   1    IER          IER            DLM (divisor high)
//   2    IIR          FCR
//   3    LCR (bit 7 = DLAB)
//   4    MCR
//   5    LSR          (ignored)
//   6    MSR          (ignored)
//   7    SCR
//
// Only 1-byte accesses decode; other widths, and offsets 8..0xFF of the
// window, fault. Reset state as QEMU's: IER 0, IIR 0x01, LCR 0, MCR 0x08
// (OUT2), LSR 0x60, MSR 0xB0 (CTS, DSR, DCD asserted), SCR 0, divisor 12.
//
// What is modelled, and how it maps to the console rings:
//  - Transmit is instantaneous: a THR write goes straight into console-out,
//    so THRE and TEMT always read 1 and a THRE interrupt is pending again right
//    after each write (QEMU behaves the same with a backend that keeps up).
//    Console-out never blocks; if full, the byte is dropped and counted.
//  - Receive: the bytes waiting in console-in *are* the receive FIFO. The UART
//    does not copy them anywhere; LSR.DR and the interrupt look at how many
//    wait (capped at 16 with FIFOs on, 1 with them off), and an RBR read takes
//    one. So a guest that reads its console through SBI instead of the UART
//    finds every byte still there. A FIFO reset (FCR bit 1, or toggling bit 0)
//    discards up to 16 waiting bytes (1 with FIFOs off), as it would on the chip.
//    Overrun never happens: the ring is the flow control.
//  - Interrupts, in 16550 priority order: receiver line status (OE etc., IER
//    bit 2), received data (IER bit 0: FIFO at or above its trigger level, or,
//    in non-FIFO mode, a byte waiting), character timeout (IER bit 0: FIFO mode,
//    data below the trigger level; we treat the 4-character-time timeout as
//    already expired, since keystrokes arrive slowly anyway), THR empty (IER
//    bit 1; set when enabled with THR empty and after each transmit, cleared by
//    reading IIR while it is the reported source or writing THR), modem status
//    (IER bit 3, any MSR delta bit; cleared by reading MSR). The output to the
//    PLIC is high while IIR bit 0 is clear (no OUT2 gating, as in QEMU).
//  - Loopback (MCR bit 4): THR bytes go to an internal 16-byte FIFO instead of
//    console-out (overrun sets LSR.OE), console-in is disconnected, and the
//    modem inputs follow the outputs: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2,
//    with the delta bits (TERI on RI falling) as on the real chip.
//  - Not modelled: baud rate, parity and framing (the divisor and LCR are
//    stored and read back), break, DMA mode.
//
// State lives in `hv` (any vCPU may touch the UART) under a small device
// lock; the interrupt line is driven while holding it, so two vCPUs cannot
// reorder their level changes. Lock order: UART, then PLIC, then the ring
// locks.
//
// The vCPU loop must call sync() at its poll points: console-in is filled by
// the UI with no hook into the UART, so a new keystroke raises the receive
// interrupt only when somebody looks (sync is a couple of loads when nothing
// changed).

import type { MmioDevice } from './bus.ts';
import type { ConsoleRing } from './console-ring.ts';
import { lockDevice, unlockDevice } from './device-lock.ts';
import type { IrqSink } from './plic.ts';

// Register offsets.
export const UART_RBR = 0;
export const UART_THR = 0;
export const UART_DLL = 0;
export const UART_IER = 1;
export const UART_DLM = 1;
export const UART_IIR = 2;
export const UART_FCR = 2;
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

// Register bits.
export const IER_RDI = 0x01;
export const IER_THRI = 0x02;
export const IER_RLSI = 0x04;
export const IER_MSI = 0x08;
export const IIR_NO_INT = 0x01;
export const IIR_MSI = 0x00;
export const IIR_THRI = 0x02;
export const IIR_RDI = 0x04;
export const IIR_RLSI = 0x06;
export const IIR_CTI = 0x0c;
export const IIR_FIFO_ENABLED = 0xc0;
export const FCR_ENABLE = 0x01;
export const FCR_CLEAR_RX = 0x02;
export const FCR_CLEAR_TX = 0x04;
export const FCR_DMA = 0x08;
export const FCR_TRIGGER = 0xc0;
export const LCR_DLAB = 0x80;
export const MCR_DTR = 0x01;
export const MCR_RTS = 0x02;
export const MCR_OUT1 = 0x04;
export const MCR_OUT2 = 0x08;
export const MCR_LOOP = 0x10;
export const LSR_DR = 0x01;
export const LSR_OE = 0x02;
export const LSR_PE = 0x04;
export const LSR_FE = 0x08;
export const LSR_BI = 0x10;
export const LSR_THRE = 0x20;
export const LSR_TEMT = 0x40;
export const LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI;
export const MSR_DCTS = 0x01;
export const MSR_DDSR = 0x02;
export const MSR_TERI = 0x04;
export const MSR_DDCD = 0x08;
export const MSR_CTS = 0x10;
export const MSR_DSR = 0x20;
export const MSR_RI = 0x40;
export const MSR_DCD = 0x80;
export const MSR_DELTAS = 0x0f;

/** The chip's FIFO depth. */
export const UART_FIFO_SIZE = 16;
/** Modem inputs with nothing attached (QEMU: carrier, data set ready, clear to send). */
const MSR_EXTERNAL = MSR_DCD | MSR_DSR | MSR_CTS;
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;

// Region word indices.
const LOCK = 0;
const IER = 1;
const LCR = 2;
const MCR = 3;
const LSR_ERR = 4; // sticky OE/PE/FE/BI; DR/THRE/TEMT are computed
const MSR = 5;
const SCR = 6;
const DIV = 7;
const FCR = 8; // sticky bits: enable, DMA mode, trigger level
const THR_IPENDING = 9;
const RBR = 10; // last byte read (non-FIFO reads of an empty RBR return it)
const LOOP_HEAD = 11;
const LOOP_COUNT = 12;
const LEVEL = 13; // interrupt output as last driven
const RX_SEEN = 14; // receive count the line was last computed from
const TX_BYTES = 15;
const RX_BYTES = 16;
const LOOP_FIFO = 17; // 16 bytes = 4 words
const WORDS = LOOP_FIFO + UART_FIFO_SIZE / 4;

export interface UartOptions {
  /** console-out: where transmitted bytes go. */
  output: ConsoleRing;
  /** console-in: the receive side. */
  input: ConsoleRing;
  /** Interrupt controller and the source number of this UART on it. */
  irq: IrqSink;
  source: number;
}

/** Register values as the UI shows them (reading them here has no side effects). */
export interface UartSnapshot {
  ier: number;
  iir: number;
  lcr: number;
  mcr: number;
  lsr: number;
  msr: number;
  scr: number;
  divisor: number;
  fcr: number;
  irqLevel: boolean;
  txBytes: number;
  rxBytes: number;
}

export class Uart implements MmioDevice {
  static readonly WORDS = WORDS;

  private readonly loopFifo: Uint8Array;
  private readonly output: ConsoleRing;
  private readonly input: ConsoleRing;
  private readonly irq: IrqSink;
  private readonly source: number;

  constructor(private readonly v: Int32Array, opts: UartOptions) {
    this.loopFifo = new Uint8Array(v.buffer, v.byteOffset + LOOP_FIFO * 4, UART_FIFO_SIZE);
    this.output = opts.output;
    this.input = opts.input;
    this.irq = opts.irq;
    this.source = opts.source;
  }

  /** Run once by whoever creates the VM: the chip's reset state. */
  init(): void {
    for (let i = 0; i < WORDS; i++) Atomics.store(this.v, i, 0);
    const v = this.v;
    lockDevice(v, LOCK);
    v[MCR] = MCR_OUT2;
    v[MSR] = MSR_EXTERNAL;
    v[DIV] = 0x0c;
    this.updateIrq();
    unlockDevice(v, LOCK);
  }

  /**
   * Look at console-in again (call at vCPU poll points): if the number of
   * waiting bytes changed since the line was last computed, recompute it.
   */
  sync(): void {
    if (this.rxCount() === Atomics.load(this.v, RX_SEEN)) return;
    lockDevice(this.v, LOCK);
    this.updateIrq();
    unlockDevice(this.v, LOCK);
  }

  mmioLoad(offset: number, size: number): number {
    if (size !== 1 || offset > UART_SCR) return -1;
    const v = this.v;
    lockDevice(v, LOCK);
    let r: number;
    const dlab = (v[LCR]! & LCR_DLAB) !== 0;
    switch (offset) {
      case UART_RBR:
        r = dlab ? v[DIV]! & 0xff : this.readRbr();
        break;
      case UART_IER:
        r = dlab ? (v[DIV]! >> 8) & 0xff : v[IER]!;
        break;
      case UART_IIR: {
        const id = this.interruptId();
        // Reading IIR acknowledges a THR-empty interrupt it reports.
        if (id === IIR_THRI) v[THR_IPENDING] = 0;
        r = id | (v[FCR]! & FCR_ENABLE ? IIR_FIFO_ENABLED : 0);
        break;
      }
      case UART_LCR:
        r = v[LCR]!;
        break;
      case UART_MCR:
        r = v[MCR]!;
        break;
      case UART_LSR:
        r = this.lsr();
        v[LSR_ERR] = 0; // reading LSR clears the error bits
        break;
      case UART_MSR:
        r = v[MSR]!;
        v[MSR] = r & ~MSR_DELTAS; // reading MSR clears the delta bits
        break;
      default:
        r = v[SCR]!;
        break;
    }
    this.updateIrq();
    unlockDevice(v, LOCK);
    return r;
  }

  mmioStore(offset: number, size: number, value: number): boolean {
    if (size !== 1 || offset > UART_SCR) return false;
    const v = this.v;
    const b = value & 0xff;
    lockDevice(v, LOCK);
    const dlab = (v[LCR]! & LCR_DLAB) !== 0;
    switch (offset) {
      case UART_THR:
        if (dlab) v[DIV] = (v[DIV]! & 0xff00) | b;
        else this.transmit(b);
        break;
      case UART_IER:
        if (dlab) v[DIV] = (v[DIV]! & 0x00ff) | (b << 8);
        else this.writeIer(b);
        break;
      case UART_FCR:
        this.writeFcr(b);
        break;
      case UART_LCR:
        v[LCR] = b;
        break;
      case UART_MCR:
        this.writeMcr(b);
        break;
      case UART_LSR:
      case UART_MSR:
        break; // read-only on the 16550A (QEMU ignores these writes too)
      default:
        v[SCR] = b;
        break;
    }
    this.updateIrq();
    unlockDevice(v, LOCK);
    return true;
  }

  snapshot(): UartSnapshot {
    const v = this.v;
    lockDevice(v, LOCK);
    const s: UartSnapshot = {
      ier: v[IER]!,
      iir: this.interruptId() | (v[FCR]! & FCR_ENABLE ? IIR_FIFO_ENABLED : 0),
      lcr: v[LCR]!,
      mcr: v[MCR]!,
      lsr: this.lsr(),
      msr: v[MSR]!,
      scr: v[SCR]!,
      divisor: v[DIV]!,
      fcr: v[FCR]!,
      irqLevel: v[LEVEL] !== 0,
      txBytes: v[TX_BYTES]! >>> 0,
      rxBytes: v[RX_BYTES]! >>> 0,
    };
    unlockDevice(v, LOCK);
    return s;
  }

  // ---- internals; callers hold the lock unless noted -----------------------

  private get loopback(): boolean {
    return (this.v[MCR]! & MCR_LOOP) !== 0;
  }

  /** Bytes the receiver holds, as the chip would count them (lock not needed). */
  private rxCount(): number {
    if (Atomics.load(this.v, MCR) & MCR_LOOP) return Atomics.load(this.v, LOOP_COUNT);
    const cap = Atomics.load(this.v, FCR) & FCR_ENABLE ? UART_FIFO_SIZE : 1;
    const n = this.input.available();
    return n < cap ? n : cap;
  }

  private lsr(): number {
    return (this.rxCount() > 0 ? LSR_DR : 0) | this.v[LSR_ERR]! | LSR_THRE | LSR_TEMT;
  }

  /** The IIR interrupt ID (bits 3:0) of the highest-priority pending condition. */
  private interruptId(): number {
    const v = this.v;
    const ier = v[IER]!;
    if (ier & IER_RLSI && v[LSR_ERR]! & LSR_ERRORS) return IIR_RLSI;
    if (ier & IER_RDI) {
      const n = this.rxCount();
      if (n > 0) {
        const fcr = v[FCR]!;
        if ((fcr & FCR_ENABLE) === 0 || n >= TRIGGER_LEVELS[fcr >> 6]!) return IIR_RDI;
        return IIR_CTI;
      }
    }
    if (ier & IER_THRI && v[THR_IPENDING]) return IIR_THRI;
    if (ier & IER_MSI && v[MSR]! & MSR_DELTAS) return IIR_MSI;
    return IIR_NO_INT;
  }

  /** Drive the output to the PLIC from the current state. */
  private updateIrq(): void {
    const v = this.v;
    v[RX_SEEN] = this.rxCount();
    const level = this.interruptId() !== IIR_NO_INT;
    if ((v[LEVEL] !== 0) !== level) {
      v[LEVEL] = level ? 1 : 0;
      this.irq.setLevel(this.source, level);
    }
  }

  private readRbr(): number {
    const v = this.v;
    let b = -1;
    if (this.loopback) {
      const n = v[LOOP_COUNT]!;
      if (n > 0) {
        b = this.loopFifo[v[LOOP_HEAD]!]!;
        v[LOOP_HEAD] = (v[LOOP_HEAD]! + 1) & (UART_FIFO_SIZE - 1);
        v[LOOP_COUNT] = n - 1;
      }
    } else {
      b = this.input.consumeByteShared();
    }
    if (b >= 0) {
      v[RBR] = b;
      v[RX_BYTES] = (v[RX_BYTES]! + 1) | 0;
      return b;
    }
    // Empty: with FIFOs on the chip returns 0 (QEMU too); without, the holding
    // register still has the last byte.
    return v[FCR]! & FCR_ENABLE ? 0 : v[RBR]!;
  }

  private transmit(b: number): void {
    const v = this.v;
    if (this.loopback) {
      const n = v[LOOP_COUNT]!;
      if (n < (v[FCR]! & FCR_ENABLE ? UART_FIFO_SIZE : 1)) {
        this.loopFifo[(v[LOOP_HEAD]! + n) & (UART_FIFO_SIZE - 1)] = b;
        v[LOOP_COUNT] = n + 1;
      } else {
        v[LSR_ERR]! |= LSR_OE; // receive overrun: the FIFO keeps its contents
      }
    } else {
      this.output.produceByteShared(b);
    }
    v[TX_BYTES] = (v[TX_BYTES]! + 1) | 0;
    // The write cleared THRE and the shift register sent the byte at once:
    // THR is empty again, which is a new THR-empty event.
    v[THR_IPENDING] = 1;
  }

  private writeIer(b: number): void {
    const v = this.v;
    const old = v[IER]!;
    v[IER] = b & 0x0f;
    // Enabling the THR-empty interrupt while THR is empty (always, here)
    // raises it at once: that is how drivers kick off transmission.
    if ((b & IER_THRI) !== 0 && (old & IER_THRI) === 0) v[THR_IPENDING] = 1;
  }

  private writeFcr(b: number): void {
    const v = this.v;
    let val = b;
    // Toggling the FIFO enable clears both FIFOs.
    if ((val ^ v[FCR]!) & FCR_ENABLE) val |= FCR_CLEAR_RX | FCR_CLEAR_TX;
    if (val & FCR_CLEAR_RX) this.clearRx();
    // FCR_CLEAR_TX: the transmitter is always empty already.
    // Other bits only take effect with bit 0 set (16550 data sheet).
    v[FCR] = val & FCR_ENABLE ? val & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER) : 0;
  }

  /** Discard what the receive FIFO holds (computed with the FIFO mode before the write). */
  private clearRx(): void {
    const v = this.v;
    if (this.loopback) {
      v[LOOP_HEAD] = 0;
      v[LOOP_COUNT] = 0;
      return;
    }
    const n = this.rxCount();
    for (let i = 0; i < n; i++) this.input.consumeByteShared();
  }

  private writeMcr(b: number): void {
    const v = this.v;
    const mcr = b & 0x1f;
    v[MCR] = mcr;
    const inputs = mcr & MCR_LOOP
      ? (mcr & MCR_RTS ? MSR_CTS : 0) | (mcr & MCR_DTR ? MSR_DSR : 0) |
        (mcr & MCR_OUT1 ? MSR_RI : 0) | (mcr & MCR_OUT2 ? MSR_DCD : 0)
      : MSR_EXTERNAL;
    const old = v[MSR]!;
    const changed = (old ^ inputs) & 0xf0;
    let deltas = old & MSR_DELTAS;
    if (changed & MSR_CTS) deltas |= MSR_DCTS;
    if (changed & MSR_DSR) deltas |= MSR_DDSR;
    if (changed & MSR_DCD) deltas |= MSR_DDCD;
    if (old & MSR_RI && (inputs & MSR_RI) === 0) deltas |= MSR_TERI; // trailing edge only
    v[MSR] = inputs | deltas;
  }
}
