// HTIF, the Berkeley host-target interface that riscv-tests and bare-metal
// test kernels use to print and to exit: two 64-bit words in guest RAM,
// `tohost` and `fromhost`, found through the ELF symbols of the same names.
// There is no device register: the host polls tohost (Spike does the same),
// here from the vCPU loop every few hundred instructions.
//
// A tohost value is a command: device = bits 63..56, command = bits 55..48,
// payload = bits 47..0.
//   device 0 (syscall proxy), command 0:
//     payload bit 0 set   -> exit with code payload >> 1 (riscv-tests: 0 pass,
//                            otherwise the number of the failing test)
//     payload bit 0 clear -> payload is the guest physical address of
//                            `magic_mem`, eight 64-bit words [which, arg0..arg6].
//                            SYS_write (64) to fd 1 or 2 goes to console-out and
//                            returns the count; SYS_exit (93) exits with arg0;
//                            any other -> -ENOSYS. The result is written to
//                            magic_mem[0], then fromhost = 1 (Spike: respond(1)).
//   device 1 (console), command 1: putchar(payload & 0xff); no response.
//   device 1 (console), command 0: read a character; answered later, when one
//                            is typed, with fromhost = (1<<56) | 0x100 | char.
//   anything else: ignored (Spike's null device).
// tohost is cleared before a command is handled, and a response is written to
// fromhost only while fromhost is 0 (the guest clears it after reading), so a
// second response waits, and a new command waits until the response went out.
//
// RV32 detail: the 64-bit words are written as two 32-bit stores, and a poll
// can fall between them. QEMU, which sees the stores, treats the high word as
// the doorbell; we cannot. So a command is acted on only once the same 64-bit
// value has been seen by two consecutive polls. That costs one poll interval
// of latency and makes both store orders safe: a half-written command (say
// the low word of a console putchar with the high word still 0, which would
// read as "exit") never acts.
//
// State (the settling value, a pending response, outstanding console reads,
// the exit) lives in `hv`, so whichever vCPU polls sees the same HTIF; a
// poll that finds another vCPU polling just returns.

import { lockDevice, tryLockDevice, unlockDevice } from './device-lock.ts';
import type { ConsoleRing } from './console-ring.ts';

export const HTIF_DEV_SYSCALL = 0;
export const HTIF_DEV_CONSOLE = 1;
export const HTIF_CONSOLE_READ = 0;
export const HTIF_CONSOLE_WRITE = 1;

export const SYS_WRITE = 64;
export const SYS_EXIT = 93;
const ENOSYS = 38;
const EBADF = 9;
const EFAULT = 14;

/** Largest SYS_write honoured in one call; longer writes return a short count (newlib loops). */
export const HTIF_MAX_WRITE = 64 * 1024;

/** How the vCPU loop lets HTIF touch guest physical memory. */
export interface HtifMemory {
  /** The aligned 32-bit word at `gpa`, or null if gpa is not guest RAM. */
  readWord(gpa: number): number | null;
  /** Store an aligned 32-bit word; false if gpa is not guest RAM. */
  writeWord(gpa: number, value: number): boolean;
}

export interface HtifOptions {
  /** Guest physical address of the `tohost` symbol; absent = HTIF disabled. */
  tohost?: number;
  /** Address of `fromhost`; absent = no responses (exit and putchar still work). */
  fromhost?: number;
  output: ConsoleRing;
  input?: ConsoleRing;
}

// Region word indices.
const LOCK = 0;
const SEEN = 1; // 1 while LAST_* holds a value waiting to settle
const LAST_LO = 2;
const LAST_HI = 3;
const EXITED = 4;
const EXIT_LO = 5; // exit code as a signed 64-bit (lo, hi)
const EXIT_HI = 6;
const RESP_VALID = 7;
const RESP_LO = 8;
const RESP_HI = 9;
const READS = 10; // console read commands not yet answered
const COMMANDS = 11; // commands handled (statistics)

const TWO_32 = 4294967296;

export class Htif {
  static readonly WORDS = 12;

  readonly tohost: number;
  readonly fromhost: number;
  private readonly output: ConsoleRing;
  private readonly input: ConsoleRing | undefined;

  constructor(private readonly v: Int32Array, opts: HtifOptions) {
    this.tohost = opts.tohost ?? -1;
    this.fromhost = opts.fromhost ?? -1;
    this.output = opts.output;
    this.input = opts.input;
  }

  /** Whether the program has a tohost symbol at all. */
  get enabled(): boolean {
    return this.tohost >= 0;
  }

  /** Run once by whoever creates the VM. */
  init(): void {
    for (let i = 0; i < Htif.WORDS; i++) Atomics.store(this.v, i, 0);
  }

  /** Whether the guest has asked to exit through HTIF. */
  get exited(): boolean {
    return Atomics.load(this.v, EXITED) !== 0;
  }

  /** The exit code (valid once exited): 0 = pass; riscv-tests give the failing test number. */
  get exitCode(): number {
    const lo = Atomics.load(this.v, EXIT_LO);
    const hi = Atomics.load(this.v, EXIT_HI);
    return hi === 0 ? lo >>> 0 : hi === -1 && lo < 0 ? lo : hi * TWO_32 + (lo >>> 0);
  }

  /** Commands handled so far. */
  get commands(): number {
    return Atomics.load(this.v, COMMANDS) >>> 0;
  }

  /**
   * Look at tohost and serve what is there. Call from the vCPU loop every few
   * hundred instructions. Returns true when the guest has exited (then stop
   * running it and report exitCode).
   */
  poll(mem: HtifMemory): boolean {
    if (this.tohost < 0) return false;
    if (!tryLockDevice(this.v, LOCK)) return this.exited; // another vCPU is polling
    try {
      if (this.v[EXITED]) return true;
      this.deliverResponse(mem);
      this.answerConsoleRead();
      this.deliverResponse(mem);
      return this.serveTohost(mem);
    } finally {
      unlockDevice(this.v, LOCK);
    }
  }

  private serveTohost(mem: HtifMemory): boolean {
    const v = this.v;
    const lo = mem.readWord(this.tohost);
    const hi = mem.readWord(this.tohost + 4);
    if (lo === null || hi === null || (lo | hi) === 0) {
      v[SEEN] = 0;
      return false;
    }
    if (!v[SEEN] || v[LAST_LO] !== (lo | 0) || v[LAST_HI] !== (hi | 0)) {
      // First sighting (or it changed): let it settle for one poll.
      v[SEEN] = 1;
      v[LAST_LO] = lo;
      v[LAST_HI] = hi;
      return false;
    }
    if (v[RESP_VALID]) return false; // the previous response has not been read yet
    v[SEEN] = 0;
    mem.writeWord(this.tohost, 0);
    mem.writeWord(this.tohost + 4, 0);
    v[COMMANDS] = (v[COMMANDS]! + 1) | 0;
    const device = hi >>> 24;
    const command = (hi >>> 16) & 0xff;
    if (device === HTIF_DEV_SYSCALL && command === 0) return this.syscallDevice(mem, lo >>> 0, hi & 0xffff);
    if (device === HTIF_DEV_CONSOLE && command === HTIF_CONSOLE_WRITE) {
      this.output.produceByteShared(lo & 0xff);
    } else if (device === HTIF_DEV_CONSOLE && command === HTIF_CONSOLE_READ) {
      v[READS] = (v[READS]! + 1) | 0;
      this.answerConsoleRead();
      this.deliverResponse(mem);
    }
    return false;
  }

  /** Device 0: test exit, or a proxied system call. */
  private syscallDevice(mem: HtifMemory, lo: number, hi16: number): boolean {
    if (lo & 1) {
      // Exit code = payload >> 1 over the 48-bit payload.
      this.exit(((lo >>> 1) | ((hi16 & 1) << 31)) | 0, hi16 >>> 1);
      return true;
    }
    if (hi16 === 0) this.proxySyscall(mem, lo);
    // Spike answers every proxied call with 1, even ones it could not read.
    this.respond(1, 0);
    this.deliverResponse(mem);
    return this.v[EXITED] !== 0;
  }

  private proxySyscall(mem: HtifMemory, magic: number): void {
    const words = new Array<number>(16);
    for (let i = 0; i < 16; i++) {
      const w = mem.readWord(magic + 4 * i);
      if (w === null) return; // magic_mem outside RAM: nothing we can answer into
      words[i] = w;
    }
    const which = words[1] === 0 ? words[0]! >>> 0 : -1;
    let result: number;
    if (which === SYS_WRITE) result = this.sysWrite(mem, words);
    else if (which === SYS_EXIT) {
      this.exit(words[2]!, words[3]!);
      result = 0;
    } else result = -ENOSYS;
    mem.writeWord(magic, result | 0);
    mem.writeWord(magic + 4, result < 0 ? -1 : 0);
  }

  /** SYS_write(fd, buf, len): args are magic_mem[1..3] as (lo, hi) word pairs. */
  private sysWrite(mem: HtifMemory, w: number[]): number {
    const fdLo = w[2]! >>> 0, fdHi = w[3]!;
    const buf = w[4]! >>> 0, bufHi = w[5]!;
    const lenLo = w[6]! >>> 0, lenHi = w[7]!;
    if (fdHi !== 0 || (fdLo !== 1 && fdLo !== 2)) return -EBADF;
    let len = lenHi !== 0 ? HTIF_MAX_WRITE : Math.min(lenLo, HTIF_MAX_WRITE);
    if (bufHi !== 0 || buf + len > TWO_32) return -EFAULT;
    const bytes = new Uint8Array(len);
    let word = 0;
    for (let i = 0; i < len; i++) {
      const a = buf + i;
      if (i === 0 || (a & 3) === 0) {
        const r = mem.readWord((a & ~3) >>> 0);
        if (r === null) {
          if (i === 0) return -EFAULT;
          len = i; // a short write up to the end of RAM
          break;
        }
        word = r;
      }
      bytes[i] = (word >>> ((a & 3) * 8)) & 0xff;
    }
    // Console output never blocks: bytes that do not fit are dropped and
    // counted by the ring, and the guest is told they were written.
    this.output.produceShared(bytes, 0, len);
    return len;
  }

  private exit(lo: number, hi: number): void {
    const v = this.v;
    v[EXIT_LO] = lo;
    v[EXIT_HI] = hi;
    Atomics.store(v, EXITED, 1);
  }

  /** Queue the 64-bit response (lo, hi) for fromhost. */
  private respond(lo: number, hi: number): void {
    const v = this.v;
    v[RESP_LO] = lo;
    v[RESP_HI] = hi;
    v[RESP_VALID] = 1;
  }

  /** Answer the oldest console read if a key is waiting and the response slot is free. */
  private answerConsoleRead(): void {
    const v = this.v;
    if (v[READS] === 0 || v[RESP_VALID] || this.input === undefined) return;
    const ch = this.input.consumeByteShared();
    if (ch < 0) return;
    v[READS] = v[READS]! - 1;
    this.respond(0x100 | ch, (HTIF_DEV_CONSOLE << 24) | (HTIF_CONSOLE_READ << 16));
  }

  /** Write the pending response to fromhost if the guest has consumed the last one. */
  private deliverResponse(mem: HtifMemory): void {
    const v = this.v;
    if (!v[RESP_VALID]) return;
    if (this.fromhost < 0) {
      v[RESP_VALID] = 0; // nowhere to answer: drop it, as if read
      return;
    }
    const lo = mem.readWord(this.fromhost);
    const hi = mem.readWord(this.fromhost + 4);
    if (lo === null || hi === null || (lo | hi) !== 0) return;
    // High word first, so a guest reading lo-then-hi never sees a response
    // whose low half has landed without its device/command half.
    mem.writeWord(this.fromhost + 4, v[RESP_HI]!);
    mem.writeWord(this.fromhost, v[RESP_LO]!);
    v[RESP_VALID] = 0;
  }

  /** For tests and the VMM: reset the exit latch (a VM reset). */
  clearExit(): void {
    lockDevice(this.v, LOCK);
    this.v[EXITED] = 0;
    unlockDevice(this.v, LOCK);
  }
}
