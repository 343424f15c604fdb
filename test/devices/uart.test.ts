import { describe, expect, it } from 'vitest';
import { ConsoleRing } from '../../src/devices/console-ring.ts';
import {
  FCR_CLEAR_RX,
  FCR_ENABLE,
  IER_MSI,
  IER_RDI,
  IER_RLSI,
  IER_THRI,
  IIR_CTI,
  IIR_FIFO_ENABLED,
  IIR_MSI,
  IIR_NO_INT,
  IIR_RDI,
  IIR_RLSI,
  IIR_THRI,
  LCR_DLAB,
  LSR_DR,
  LSR_OE,
  LSR_TEMT,
  LSR_THRE,
  MCR_DTR,
  MCR_LOOP,
  MCR_OUT1,
  MCR_OUT2,
  MCR_RTS,
  MSR_CTS,
  MSR_DCD,
  MSR_DCTS,
  MSR_DDSR,
  MSR_DSR,
  MSR_RI,
  MSR_TERI,
  UART_DLL,
  UART_DLM,
  UART_FCR,
  UART_IER,
  UART_IIR,
  UART_LCR,
  UART_LSR,
  UART_MCR,
  UART_MSR,
  UART_RBR,
  UART_SCR,
  UART_THR,
  Uart,
} from '../../src/devices/uart.ts';
import { bytes, region, text } from './hv.ts';

function setup() {
  const output = new ConsoleRing(region(ConsoleRing.words(64)));
  const input = new ConsoleRing(region(ConsoleRing.words(64)));
  output.init();
  input.init();
  const levels: boolean[] = [];
  const irq = { setLevel: (src: number, level: boolean) => { expect(src).toBe(10); levels.push(level); } };
  const uart = new Uart(region(Uart.WORDS), { output, input, irq, source: 10 });
  uart.init();
  const rd = (off: number) => uart.mmioLoad(off, 1);
  const wr = (off: number, v: number) => uart.mmioStore(off, 1, v);
  /** The UI types: bytes land in console-in, and the vCPU loop's poll sees them. */
  const type = (s: string) => { input.produce(bytes(s)); uart.sync(); };
  const line = () => levels.at(-1) ?? false;
  return { uart, output, input, levels, rd, wr, type, line };
}

describe('UART 16550A', () => {
  it('comes out of reset like QEMU: IIR 01, LSR 60, MCR OUT2, MSR B0, divisor 12', () => {
    const { rd, wr, line } = setup();
    expect(rd(UART_IER)).toBe(0);
    expect(rd(UART_IIR)).toBe(IIR_NO_INT);
    expect(rd(UART_LCR)).toBe(0);
    expect(rd(UART_MCR)).toBe(MCR_OUT2);
    expect(rd(UART_LSR)).toBe(LSR_THRE | LSR_TEMT);
    expect(rd(UART_MSR)).toBe(MSR_DCD | MSR_DSR | MSR_CTS);
    expect(rd(UART_SCR)).toBe(0);
    wr(UART_LCR, LCR_DLAB);
    expect(rd(UART_DLL)).toBe(12);
    expect(rd(UART_DLM)).toBe(0);
    expect(line()).toBe(false);
  });

  it('DLAB switches offsets 0 and 1 to the divisor latch', () => {
    const { rd, wr, output } = setup();
    wr(UART_LCR, LCR_DLAB | 3);
    wr(UART_DLL, 0x01);
    wr(UART_DLM, 0x02);
    expect(output.available()).toBe(0); // the DLL write was not a transmit
    expect(rd(UART_IER)).toBe(0x02); // DLM, not IER
    wr(UART_LCR, 3);
    expect(rd(UART_IER)).toBe(0);
    wr(UART_LCR, LCR_DLAB);
    expect(rd(UART_DLL) | (rd(UART_DLM) << 8)).toBe(0x0201);
  });

  it('transmits THR bytes to console-out at once; THRE and TEMT stay set', () => {
    const { rd, wr, output } = setup();
    for (const c of 'hi\n') wr(UART_THR, c.charCodeAt(0));
    expect(text(output.consume())).toBe('hi\n');
    expect(rd(UART_LSR) & (LSR_THRE | LSR_TEMT)).toBe(LSR_THRE | LSR_TEMT);
  });

  it('LSR.DR and RBR read the bytes waiting in console-in, one at a time', () => {
    const { rd, type, input } = setup();
    expect(rd(UART_LSR) & LSR_DR).toBe(0);
    type('ok');
    expect(rd(UART_LSR) & LSR_DR).toBe(LSR_DR);
    expect(rd(UART_RBR)).toBe('o'.charCodeAt(0));
    expect(rd(UART_RBR)).toBe('k'.charCodeAt(0));
    expect(rd(UART_LSR) & LSR_DR).toBe(0);
    expect(rd(UART_RBR)).toBe('k'.charCodeAt(0)); // non-FIFO: the holding register keeps the last byte
    expect(input.available()).toBe(0);
  });

  it('raises the received-data interrupt when enabled and data waits (non-FIFO mode)', () => {
    const { rd, wr, type, line } = setup();
    wr(UART_IER, IER_RDI);
    expect(line()).toBe(false);
    type('x');
    expect(line()).toBe(true);
    expect(rd(UART_IIR)).toBe(IIR_RDI);
    rd(UART_RBR);
    expect(rd(UART_IIR)).toBe(IIR_NO_INT);
    expect(line()).toBe(false);
  });

  it('FIFO mode: trigger level gives RDI, fewer bytes give the character timeout', () => {
    const { rd, wr, type } = setup();
    wr(UART_FCR, FCR_ENABLE | 0x80); // trigger level 8
    wr(UART_IER, IER_RDI);
    type('abc');
    expect(rd(UART_IIR)).toBe(IIR_FIFO_ENABLED | IIR_CTI);
    type('defgh');
    expect(rd(UART_IIR)).toBe(IIR_FIFO_ENABLED | IIR_RDI);
    rd(UART_RBR);
    expect(rd(UART_IIR)).toBe(IIR_FIFO_ENABLED | IIR_CTI); // 7 < 8
    for (let i = 0; i < 7; i++) rd(UART_RBR);
    expect(rd(UART_IIR)).toBe(IIR_FIFO_ENABLED | IIR_NO_INT);
    expect(rd(UART_RBR)).toBe(0); // empty FIFO reads 0
  });

  it('FIFO mode sees at most 16 bytes; an RX FIFO reset discards exactly those', () => {
    const { rd, wr, type, input } = setup();
    wr(UART_FCR, FCR_ENABLE | 0xc0); // trigger 14
    wr(UART_IER, IER_RDI);
    type('0123456789abcdefXYZ'); // 19 bytes typed
    expect(rd(UART_IIR) & 0x0f).toBe(IIR_RDI); // 16 >= 14
    wr(UART_FCR, FCR_ENABLE | 0xc0 | FCR_CLEAR_RX);
    expect(input.available()).toBe(3);
    expect(rd(UART_RBR)).toBe('X'.charCodeAt(0));
  });

  it('toggling the FIFO enable clears the receive FIFO', () => {
    const { rd, wr, type, input } = setup();
    type('ab');
    wr(UART_FCR, FCR_ENABLE); // non-FIFO held 1 byte: it is discarded
    expect(input.available()).toBe(1);
    expect(rd(UART_IIR) & IIR_FIFO_ENABLED).toBe(IIR_FIFO_ENABLED);
    wr(UART_FCR, 0);
    expect(rd(UART_IIR) & IIR_FIFO_ENABLED).toBe(0);
    expect(input.available()).toBe(0);
  });

  it('THR-empty interrupt: on enable, cleared by reading IIR, back after each write', () => {
    const { rd, wr, line } = setup();
    wr(UART_IER, IER_THRI);
    expect(line()).toBe(true);
    expect(rd(UART_IIR)).toBe(IIR_THRI);
    expect(line()).toBe(false);
    expect(rd(UART_IIR)).toBe(IIR_NO_INT);
    wr(UART_THR, 0x41);
    expect(line()).toBe(true);
    wr(UART_IER, 0); // masked
    expect(line()).toBe(false);
    wr(UART_IER, IER_THRI); // still pending from the write
    expect(rd(UART_IIR)).toBe(IIR_THRI);
  });

  it('received data outranks THR empty in IIR', () => {
    const { rd, wr, type } = setup();
    wr(UART_IER, IER_RDI | IER_THRI);
    type('z');
    expect(rd(UART_IIR)).toBe(IIR_RDI);
    expect(rd(UART_IIR)).toBe(IIR_RDI); // THRI not acknowledged by that read
    rd(UART_RBR);
    expect(rd(UART_IIR)).toBe(IIR_THRI);
  });

  it('loopback: THR feeds the receiver, console-in is cut off, overrun sets OE', () => {
    const { rd, wr, type, output, input } = setup();
    type('q');
    wr(UART_MCR, MCR_LOOP);
    expect(rd(UART_LSR) & LSR_DR).toBe(0); // disconnected from console-in
    wr(UART_THR, 0x55);
    expect(output.available()).toBe(0);
    expect(rd(UART_LSR) & LSR_DR).toBe(LSR_DR);
    wr(UART_THR, 0x66); // non-FIFO: one byte of room, overrun
    wr(UART_IER, IER_RLSI);
    expect(rd(UART_IIR)).toBe(IIR_RLSI);
    expect(rd(UART_LSR) & LSR_OE).toBe(LSR_OE);
    expect(rd(UART_LSR) & LSR_OE).toBe(0); // cleared by reading LSR
    expect(rd(UART_RBR)).toBe(0x55);
    wr(UART_MCR, 0);
    expect(rd(UART_RBR)).toBe('q'.charCodeAt(0));
    expect(input.available()).toBe(0);
  });

  it('loopback wires the modem outputs to MSR with delta bits and a modem-status interrupt', () => {
    const { rd, wr, line } = setup();
    wr(UART_IER, IER_MSI);
    wr(UART_MCR, MCR_LOOP | MCR_OUT2); // CTS, DSR drop (DCD stays via OUT2)
    expect(rd(UART_IIR)).toBe(IIR_MSI);
    expect(line()).toBe(true);
    expect(rd(UART_MSR)).toBe(MSR_DCD | MSR_DCTS | MSR_DDSR);
    expect(line()).toBe(false); // reading MSR cleared the deltas
    wr(UART_MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS | MCR_DTR | MCR_OUT1);
    expect(rd(UART_MSR)).toBe(MSR_DCD | MSR_CTS | MSR_DSR | MSR_RI | MSR_DCTS | MSR_DDSR);
    wr(UART_MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS | MCR_DTR); // RI falls: trailing edge
    expect(rd(UART_MSR)).toBe(MSR_DCD | MSR_CTS | MSR_DSR | MSR_TERI);
    expect(rd(UART_MSR)).toBe(MSR_DCD | MSR_CTS | MSR_DSR);
  });

  it('SCR keeps what is written; LSR and MSR ignore writes', () => {
    const { rd, wr } = setup();
    wr(UART_SCR, 0xa5);
    expect(rd(UART_SCR)).toBe(0xa5);
    wr(UART_LSR, 0);
    wr(UART_MSR, 0);
    expect(rd(UART_LSR)).toBe(LSR_THRE | LSR_TEMT);
    expect(rd(UART_MSR)).toBe(MSR_DCD | MSR_DSR | MSR_CTS);
  });

  it('only byte accesses at offsets 0..7 decode', () => {
    const { uart } = setup();
    expect(uart.mmioLoad(UART_LSR, 4)).toBe(-1);
    expect(uart.mmioStore(UART_THR, 2, 0x41)).toBe(false);
    expect(uart.mmioLoad(8, 1)).toBe(-1);
    expect(uart.mmioStore(0xff, 1, 0)).toBe(false);
  });

  it('sync() notices bytes another reader took (SBI getchar) and drops the line', () => {
    const { wr, type, input, uart, line } = setup();
    wr(UART_IER, IER_RDI);
    type('k');
    expect(line()).toBe(true);
    input.consumeByteShared(); // the guest read it through SBI instead
    uart.sync();
    expect(line()).toBe(false);
    expect(uart.snapshot().irqLevel).toBe(false);
  });

  it('snapshot reports registers without side effects', () => {
    const { wr, uart, rd } = setup();
    wr(UART_IER, IER_THRI);
    wr(UART_THR, 0x31);
    const s = uart.snapshot();
    expect(s.iir).toBe(IIR_THRI);
    expect(s.txBytes).toBe(1);
    expect(rd(UART_IIR)).toBe(IIR_THRI); // the snapshot did not acknowledge it
  });
});
