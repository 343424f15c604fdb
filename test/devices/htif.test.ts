import { describe, expect, it } from 'vitest';
import { ConsoleRing } from '../../src/devices/console-ring.ts';
import { Htif, HTIF_MAX_WRITE, SYS_EXIT, SYS_WRITE, type HtifMemory } from '../../src/devices/htif.ts';
import { bytes, region, text } from './hv.ts';

const RAM = 0x8000_0000;
const TOHOST = RAM + 0x1000;
const FROMHOST = RAM + 0x1040;
const MAGIC = RAM + 0x2000;
const BUF = RAM + 0x3001; // deliberately unaligned

/** 64 KiB of guest RAM at 0x8000_0000 behind the HtifMemory callbacks. */
function guestRam(): HtifMemory & { ram: DataView; u64: (gpa: number, lo: number, hi?: number) => void; w: (gpa: number) => number } {
  const ram = new DataView(new ArrayBuffer(0x1_0000));
  const inRam = (gpa: number) => gpa >= RAM && gpa + 4 <= RAM + ram.byteLength;
  return {
    ram,
    readWord: (gpa) => (inRam(gpa) ? ram.getUint32(gpa - RAM, true) : null),
    writeWord: (gpa, v) => {
      if (!inRam(gpa)) return false;
      ram.setUint32(gpa - RAM, v >>> 0, true);
      return true;
    },
    u64(gpa, lo, hi = 0) {
      ram.setUint32(gpa - RAM, lo >>> 0, true);
      ram.setUint32(gpa - RAM + 4, hi >>> 0, true);
    },
    w: (gpa) => ram.getUint32(gpa - RAM, true),
  };
}

function setup(opts: { tohost?: number; fromhost?: number } = { tohost: TOHOST, fromhost: FROMHOST }) {
  const output = new ConsoleRing(region(ConsoleRing.words(1 << 17)));
  const input = new ConsoleRing(region(ConsoleRing.words(16)));
  output.init();
  input.init();
  const htif = new Htif(region(Htif.WORDS), { ...opts, output, input });
  htif.init();
  const mem = guestRam();
  /** Poll twice: a command acts once the same value was seen by two polls. */
  const settle = () => {
    htif.poll(mem);
    return htif.poll(mem);
  };
  return { htif, mem, output, input, settle };
}

/** magic_mem = [which, a0, a1, a2, ...] as 64-bit words. */
function magic(mem: ReturnType<typeof guestRam>, which: number, ...args: number[]): void {
  mem.u64(MAGIC, which);
  args.forEach((a, i) => mem.u64(MAGIC + 8 * (i + 1), a));
}

describe('HTIF', () => {
  it('tohost = 1 exits with code 0 (riscv-tests pass)', () => {
    const { htif, mem, settle } = setup();
    mem.u64(TOHOST, 1);
    expect(settle()).toBe(true);
    expect(htif.exited).toBe(true);
    expect(htif.exitCode).toBe(0);
    expect(mem.w(TOHOST)).toBe(0); // cleared, as Spike does
  });

  it('tohost = (n << 1) | 1 exits with the failing test number n', () => {
    const { htif, mem, settle } = setup();
    mem.u64(TOHOST, (5 << 1) | 1);
    expect(settle()).toBe(true);
    expect(htif.exitCode).toBe(5);
    expect(htif.poll(mem)).toBe(true); // stays exited
  });

  it('acts only on a value seen by two consecutive polls (RV32 writes the halves separately)', () => {
    const { htif, mem, output } = setup();
    // A console putchar of 'A' (0x41, odd) with its low half written first:
    // the half-written value would read as "exit 32" if we acted at once.
    mem.u64(TOHOST, 0x41, 0);
    expect(htif.poll(mem)).toBe(false);
    mem.u64(TOHOST, 0x41, 0x0101_0000);
    expect(htif.poll(mem)).toBe(false);
    expect(htif.exited).toBe(false);
    expect(htif.poll(mem)).toBe(false);
    expect(text(output.consume())).toBe('A');
  });

  it('device 1 command 1 is putchar, with no response', () => {
    const { mem, output, settle } = setup();
    mem.u64(TOHOST, 0x0a, 0x0101_0000);
    settle();
    expect(text(output.consume())).toBe('\n');
    expect(mem.w(FROMHOST)).toBe(0);
    expect(mem.w(TOHOST + 4)).toBe(0);
  });

  it('proxies SYS_write to fd 1 from guest memory and answers fromhost = 1', () => {
    const { mem, output, settle } = setup();
    const msg = 'hello, htif';
    bytes(msg).forEach((b, i) => mem.ram.setUint8(BUF - RAM + i, b));
    magic(mem, SYS_WRITE, 1, BUF, msg.length);
    mem.u64(TOHOST, MAGIC);
    expect(settle()).toBe(false);
    expect(text(output.consume())).toBe(msg);
    expect(mem.w(MAGIC)).toBe(msg.length); // result in magic_mem[0]
    expect(mem.w(MAGIC + 4)).toBe(0);
    expect(mem.w(FROMHOST)).toBe(1);
    expect(mem.w(FROMHOST + 4)).toBe(0);
    expect(mem.w(TOHOST)).toBe(0);
  });

  it('SYS_write to other fds is -EBADF, bad buffers -EFAULT, other syscalls -ENOSYS', () => {
    const { mem, settle } = setup();
    const call = (which: number, ...args: number[]) => {
      magic(mem, which, ...args);
      mem.u64(FROMHOST, 0);
      mem.u64(TOHOST, MAGIC);
      settle();
      expect(mem.w(FROMHOST)).toBe(1);
      return [mem.w(MAGIC) | 0, mem.w(MAGIC + 4) | 0];
    };
    expect(call(SYS_WRITE, 3, BUF, 1)).toEqual([-9, -1]);
    expect(call(SYS_WRITE, 2, 0x1000, 1)).toEqual([-14, -1]);
    expect(call(57 /* close */, 3)).toEqual([-38, -1]);
  });

  it('SYS_write stops at the end of RAM and caps one call', () => {
    const { mem, output, settle } = setup();
    magic(mem, SYS_WRITE, 1, RAM + 0x1_0000 - 6, 100);
    mem.u64(TOHOST, MAGIC);
    settle();
    expect(mem.w(MAGIC)).toBe(6);
    expect(output.consume().length).toBe(6);
    magic(mem, SYS_WRITE, 1, RAM, HTIF_MAX_WRITE * 2);
    mem.u64(FROMHOST, 0);
    mem.u64(TOHOST, MAGIC);
    settle();
    expect(mem.w(MAGIC)).toBe(HTIF_MAX_WRITE);
  });

  it('SYS_exit exits with arg0, negative codes included', () => {
    const a = setup();
    magic(a.mem, SYS_EXIT, 3);
    a.mem.u64(TOHOST, MAGIC);
    expect(a.settle()).toBe(true);
    expect(a.htif.exitCode).toBe(3);
    const b = setup();
    b.mem.u64(MAGIC, SYS_EXIT);
    b.mem.u64(MAGIC + 8, -1, -1); // (int64)-1
    b.mem.u64(TOHOST, MAGIC);
    expect(b.settle()).toBe(true);
    expect(b.htif.exitCode).toBe(-1);
  });

  it('waits for the guest to clear fromhost before answering, and for the answer before the next command', () => {
    const { mem, output, settle } = setup();
    mem.u64(FROMHOST, 1); // the last answer not yet read
    magic(mem, SYS_WRITE, 1, BUF, 1);
    mem.u64(TOHOST, MAGIC);
    settle();
    expect(output.available()).toBe(1); // the call ran...
    expect(mem.w(MAGIC)).toBe(1);
    mem.u64(TOHOST, 0x42, 0x0101_0000); // ...a new command arrives
    settle();
    expect(output.available()).toBe(1); // ...and waits: the answer is still queued
    mem.u64(FROMHOST, 0); // guest reads the old answer
    settle();
    expect(mem.w(FROMHOST)).toBe(1); // queued answer delivered
    settle();
    expect(text(output.consume()).at(-1)).toBe('B'); // then the putchar ran
  });

  it('answers a console read when a key arrives: fromhost = (1 << 56) | 0x100 | key', () => {
    const { mem, input, settle } = setup();
    mem.u64(TOHOST, 0, 0x0100_0000); // device 1, command 0: read
    settle();
    expect(mem.w(FROMHOST)).toBe(0); // nothing typed yet
    input.produce(bytes('k'));
    settle();
    expect(mem.w(FROMHOST)).toBe(0x100 | 'k'.charCodeAt(0));
    expect(mem.w(FROMHOST + 4)).toBe(0x0100_0000);
  });

  it('is disabled without a tohost symbol, and ignores unknown devices', () => {
    const off = setup({});
    expect(off.htif.enabled).toBe(false);
    off.mem.u64(TOHOST, 1);
    expect(off.settle()).toBe(false);
    const on = setup();
    on.mem.u64(TOHOST, 1, 0x0700_0000); // device 7
    expect(on.settle()).toBe(false);
    expect(on.mem.w(TOHOST + 4)).toBe(0);
    expect(on.htif.commands).toBe(1);
  });
});
