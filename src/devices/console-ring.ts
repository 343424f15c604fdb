// Byte rings in `hv` that carry the console between the guest and the user:
//
//   console-out  guest -> UI/CLI. Producers: any vCPU (UART THR, SBI console,
//                HTIF), so writes take a small producer lock. One consumer
//                (the UI each animation frame, or the CLI), lock-free.
//   console-in   UI/CLI -> guest. One producer (keystrokes), lock-free.
//                Consumers: the UART's RBR and SBI getchar/console_read, from
//                any vCPU, so reads take a small consumer lock.
//
// Layout (the UI reads it directly: src/ui/shared-layout.ts mirrors words 0-3):
//   word 0  HEAD     bytes ever written (free-running uint32)
//   word 1  TAIL     bytes ever consumed (free-running uint32)
//   word 2  SIZE     capacity in bytes, a power of two (set by init)
//   word 3  DROPPED  bytes a producer threw away because the ring was full
//   word 4.. SIZE data bytes; the byte with counter c is at data[c & (SIZE-1)]
//   then    PRODUCER_LOCK, CONSUMER_LOCK (after the data, so the UI's view of
//           the header is unaffected)
// Fill level = (HEAD - TAIL) >>> 0, so full and empty differ without a spare slot.
// A producer writes bytes, then publishes HEAD with Atomics.store; a consumer
// loads HEAD, copies, then publishes TAIL. The seq-cst store/load pair orders
// the plain byte accesses, in the JS memory model as on hardware.
//
// Full ring policy: producers never block and never overwrite unread bytes
// (the consumer owns TAIL, so a producer cannot drop the oldest bytes without
// racing it). Bytes that do not fit are dropped and counted in DROPPED, and
// the call returns how many were accepted. For guest output this means a guest
// printing faster than the UI drains loses the newest bytes, never stalls;
// the UI shows the drop count. Input producers get the accepted count back
// and may retry the rest later.

import { KvmError } from '../kvm/errors.ts';
import { lockDevice, unlockDevice } from './device-lock.ts';

export const RING_HEAD = 0;
export const RING_TAIL = 1;
export const RING_SIZE = 2;
export const RING_DROPPED = 3;
export const RING_HEADER_WORDS = 4;
const LOCK_WORDS = 2;

export class ConsoleRing {
  /** Region size in words for a ring of `capacity` bytes (a power of two, >= 4). */
  static words(capacity: number): number {
    if (!(capacity >= 4 && (capacity & (capacity - 1)) === 0 && capacity <= 1 << 30)) {
      throw new KvmError('EINVAL', `console ring: capacity ${capacity} is not a power of two in 4..2^30`);
    }
    return RING_HEADER_WORDS + capacity / 4 + LOCK_WORDS;
  }

  readonly capacity: number;
  private readonly mask: number;
  private readonly data: Uint8Array;
  private readonly producerLock: number;
  private readonly consumerLock: number;

  constructor(private readonly view: Int32Array) {
    const capacity = (view.length - RING_HEADER_WORDS - LOCK_WORDS) * 4;
    if (!(capacity >= 4 && (capacity & (capacity - 1)) === 0 && capacity <= 1 << 30)) {
      throw new KvmError('EINVAL', `console ring: a region of ${view.length} words does not hold a power-of-two ring`);
    }
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.data = new Uint8Array(view.buffer, view.byteOffset + RING_HEADER_WORDS * 4, capacity);
    this.producerLock = RING_HEADER_WORDS + capacity / 4;
    this.consumerLock = this.producerLock + 1;
  }

  /** Run once by whoever creates the VM: empty, SIZE published. */
  init(): void {
    Atomics.store(this.view, RING_HEAD, 0);
    Atomics.store(this.view, RING_TAIL, 0);
    Atomics.store(this.view, RING_DROPPED, 0);
    Atomics.store(this.view, this.producerLock, 0);
    Atomics.store(this.view, this.consumerLock, 0);
    Atomics.store(this.view, RING_SIZE, this.capacity);
  }

  /** Bytes written and not yet consumed. */
  available(): number {
    return (Atomics.load(this.view, RING_HEAD) - Atomics.load(this.view, RING_TAIL)) >>> 0;
  }

  /** Bytes dropped so far because the ring was full. */
  dropped(): number {
    return Atomics.load(this.view, RING_DROPPED) >>> 0;
  }

  // ---- producer side ---------------------------------------------------------

  /**
   * Append bytes[start, end) from the only producer (no lock). Returns the
   * number accepted; the rest is dropped and counted.
   */
  produce(bytes: Uint8Array, start = 0, end = bytes.length): number {
    const head = Atomics.load(this.view, RING_HEAD);
    const free = this.capacity - ((head - Atomics.load(this.view, RING_TAIL)) >>> 0);
    const want = end - start;
    const n = want < free ? want : free;
    for (let i = 0; i < n; i++) this.data[(head + i) & this.mask] = bytes[start + i]!;
    if (n < want) Atomics.add(this.view, RING_DROPPED, want - n);
    if (n > 0) {
      Atomics.store(this.view, RING_HEAD, (head + n) | 0);
      // A consumer may sleep on HEAD (e.g. a CLI waiting for output).
      Atomics.notify(this.view, RING_HEAD);
    }
    return n;
  }

  /** produce() for one of several producers (vCPU workers): takes the producer lock. */
  produceShared(bytes: Uint8Array, start = 0, end = bytes.length): number {
    lockDevice(this.view, this.producerLock);
    const n = this.produce(bytes, start, end);
    unlockDevice(this.view, this.producerLock);
    return n;
  }

  /** One byte from one of several producers; returns false if it was dropped. */
  produceByteShared(byte: number): boolean {
    lockDevice(this.view, this.producerLock);
    const head = Atomics.load(this.view, RING_HEAD);
    const full = ((head - Atomics.load(this.view, RING_TAIL)) >>> 0) >= this.capacity;
    if (full) {
      Atomics.add(this.view, RING_DROPPED, 1);
    } else {
      this.data[head & this.mask] = byte;
      Atomics.store(this.view, RING_HEAD, (head + 1) | 0);
    }
    unlockDevice(this.view, this.producerLock);
    if (!full) Atomics.notify(this.view, RING_HEAD);
    return !full;
  }

  // ---- consumer side ---------------------------------------------------------

  /**
   * Take up to `max` bytes as a private copy, from the only consumer (no lock,
   * no waiting: safe on a browser main thread). Empty array when nothing waits.
   */
  consume(max = this.capacity): Uint8Array {
    const tail = Atomics.load(this.view, RING_TAIL);
    let n = (Atomics.load(this.view, RING_HEAD) - tail) >>> 0;
    if (n > this.capacity) n = this.capacity; // a corrupt header must not make us read past the data
    if (n > max) n = max;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.data[(tail + i) & this.mask]!;
    if (n > 0) Atomics.store(this.view, RING_TAIL, (tail + n) | 0);
    return out;
  }

  /** The next byte from the only consumer, or -1 when empty. */
  consumeByte(): number {
    const tail = Atomics.load(this.view, RING_TAIL);
    if (Atomics.load(this.view, RING_HEAD) === tail) return -1;
    const b = this.data[tail & this.mask]!;
    Atomics.store(this.view, RING_TAIL, (tail + 1) | 0);
    return b;
  }

  /** The byte consumeByte() would return next, without taking it; -1 when empty. */
  peekByte(): number {
    const tail = Atomics.load(this.view, RING_TAIL);
    return Atomics.load(this.view, RING_HEAD) === tail ? -1 : this.data[tail & this.mask]!;
  }

  /** consume() for one of several consumers (vCPU workers): takes the consumer lock. */
  consumeShared(max = this.capacity): Uint8Array {
    lockDevice(this.view, this.consumerLock);
    const out = this.consume(max);
    unlockDevice(this.view, this.consumerLock);
    return out;
  }

  /** consumeByte() for one of several consumers. */
  consumeByteShared(): number {
    lockDevice(this.view, this.consumerLock);
    const b = this.consumeByte();
    unlockDevice(this.view, this.consumerLock);
    return b;
  }
}
