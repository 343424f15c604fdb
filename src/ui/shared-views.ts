// Small typed views over the VM's shared memory for the main thread.
//
// Only Atomics.load/store/add/notify here: the main thread must never block
// (Atomics.wait throws on it anyway). Nothing allocates per frame except the
// private copy of console bytes handed to xterm (which may not keep a view of
// shared memory).
import type { VmHandles } from './vmm-api.ts';
import {
  REGION_CONSOLE_IN,
  REGION_CONSOLE_OUT,
  REGION_VCPU,
  RING_DROPPED,
  RING_HEAD,
  RING_HEADER_WORDS,
  RING_SIZE,
  RING_TAIL,
  VCPU_INSTRET_HI,
  VCPU_INSTRET_LO,
  VCPU_STRIDE_WORDS,
  WORD_BYTES,
} from './shared-layout.ts';

const TWO_32 = 4294967296;

/** A region of `hv` as 32-bit words, bounds-checked once. */
export interface RegionView {
  readonly name: string;
  readonly byteOffset: number;
  readonly words: number;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
}

export interface RingReader {
  /** Bytes produced and not yet consumed. */
  available(): number;
  /** Consume up to `max` bytes into a private copy; null when empty. */
  drain(max?: number): Uint8Array | null;
  /** Bytes the producer dropped because the ring was full. */
  dropped(): number;
}

export interface RingWriter {
  /** Publish as many bytes as fit; returns how many were written. */
  write(bytes: Uint8Array): number;
  dropped(): number;
}

export interface SharedViews {
  readonly handles: VmHandles;
  readonly vcpus: number;
  /** Retired instructions of one vCPU, or NaN when the layout has no vcpu region. */
  readInstret(vcpu: number): number;
  readonly consoleOut: RingReader | null;
  readonly consoleIn: RingWriter | null;
  /** Any named region, for panels (dirty bitmaps, stats...). */
  region(name: string): RegionView | null;
  /** Layout problems found while building the views, for the status line. */
  readonly problems: readonly string[];
}

export function createSharedViews(handles: VmHandles): SharedViews {
  const problems: string[] = [];
  const cache = new Map<string, RegionView | null>();
  const region = (name: string): RegionView | null => {
    if (!cache.has(name)) cache.set(name, makeRegion(handles, name, problems));
    return cache.get(name)!;
  };

  const vcpuRegion = region(REGION_VCPU);
  if (vcpuRegion && vcpuRegion.words < handles.vcpus * VCPU_STRIDE_WORDS) {
    problems.push(
      `region '${REGION_VCPU}' has ${vcpuRegion.words} words, less than ` +
        `${handles.vcpus} vCPUs × ${VCPU_STRIDE_WORDS}`,
    );
  }
  const vcpuOk = vcpuRegion !== null && vcpuRegion.words >= handles.vcpus * VCPU_STRIDE_WORDS;

  const outRegion = region(REGION_CONSOLE_OUT);
  const inRegion = region(REGION_CONSOLE_IN);

  return {
    handles,
    vcpus: handles.vcpus,
    readInstret(vcpu) {
      if (!vcpuOk || vcpu < 0 || vcpu >= handles.vcpus) return NaN;
      const base = vcpu * VCPU_STRIDE_WORDS;
      return readU64(vcpuRegion!.u32, base + VCPU_INSTRET_LO, base + VCPU_INSTRET_HI);
    },
    consoleOut: outRegion ? makeRingReader(outRegion, problems) : null,
    consoleIn: inRegion ? makeRingWriter(inRegion, problems) : null,
    region,
    problems,
  };
}

function makeRegion(handles: VmHandles, name: string, problems: string[]): RegionView | null {
  const r = handles.layout[name];
  if (!r) return null;
  const { offset, words } = r;
  const fits =
    Number.isInteger(offset) && Number.isInteger(words) && offset >= 0 && words > 0 &&
    offset % WORD_BYTES === 0 && offset + words * WORD_BYTES <= handles.hv.byteLength;
  if (!fits) {
    problems.push(`region '${name}' (offset ${offset}, ${words} words) is outside the hv buffer`);
    return null;
  }
  return {
    name,
    byteOffset: offset,
    words,
    u32: new Uint32Array(handles.hv, offset, words),
    i32: new Int32Array(handles.hv, offset, words),
  };
}

/**
 * A uint64 kept as (lo, hi) words by a single writer (instret, the lock
 * statistics): re-read hi until it is stable, so a carry between the two loads
 * is not mixed in. A torn value that still slips through after a few tries
 * goes backwards, and callers treat the counter as monotonic.
 */
export function readU64(w: Int32Array | Uint32Array, lo: number, hi: number): number {
  for (let tries = 0; ; tries++) {
    const h = Atomics.load(w, hi) >>> 0;
    const l = Atomics.load(w, lo) >>> 0;
    if ((Atomics.load(w, hi) >>> 0) === h || tries > 3) return h * TWO_32 + l;
  }
}

interface RingGeometry {
  size: number;
  mask: number;
  data: Uint8Array;
}

/** Size from the header if the producer set one, else the whole data area. */
function ringGeometry(r: RegionView, problems: string[]): RingGeometry | null {
  const room = (r.words - RING_HEADER_WORDS) * WORD_BYTES;
  const declared = Atomics.load(r.u32, RING_SIZE);
  const size = declared || room;
  if (size <= 0 || size > room || (size & (size - 1)) !== 0) {
    problems.push(`ring '${r.name}' size ${size} is not a power of two within ${room} bytes`);
    return null;
  }
  const data = new Uint8Array(r.u32.buffer, r.byteOffset + RING_HEADER_WORDS * WORD_BYTES, size);
  return { size, mask: size - 1, data };
}

function makeRingReader(r: RegionView, problems: string[]): RingReader | null {
  const g = ringGeometry(r, problems);
  if (!g) return null;
  const { u32 } = r;
  const available = () => (Atomics.load(u32, RING_HEAD) - Atomics.load(u32, RING_TAIL)) >>> 0;
  return {
    available,
    drain(max = g.size) {
      const head = Atomics.load(u32, RING_HEAD);
      const tail = Atomics.load(u32, RING_TAIL);
      let n = (head - tail) >>> 0;
      if (n === 0) return null;
      if (n > g.size) n = g.size; // a corrupt header must not make us read past the data
      if (n > max) n = max;
      const out = new Uint8Array(n);
      const start = tail & g.mask;
      const first = Math.min(n, g.size - start);
      out.set(g.data.subarray(start, start + first), 0);
      if (first < n) out.set(g.data.subarray(0, n - first), first);
      Atomics.store(u32, RING_TAIL, (tail + n) >>> 0);
      return out;
    },
    dropped: () => Atomics.load(u32, RING_DROPPED),
  };
}

function makeRingWriter(r: RegionView, problems: string[]): RingWriter | null {
  const g = ringGeometry(r, problems);
  if (!g) return null;
  const { u32, i32 } = r;
  return {
    write(bytes) {
      const head = Atomics.load(u32, RING_HEAD);
      const tail = Atomics.load(u32, RING_TAIL);
      const free = g.size - ((head - tail) >>> 0);
      const n = Math.max(0, Math.min(free, bytes.length));
      for (let i = 0; i < n; i++) g.data[(head + i) & g.mask] = bytes[i]!;
      if (n < bytes.length) Atomics.add(u32, RING_DROPPED, bytes.length - n);
      if (n > 0) {
        Atomics.store(u32, RING_HEAD, (head + n) >>> 0);
        Atomics.notify(i32, RING_HEAD);
      }
      return n;
    },
    dropped: () => Atomics.load(u32, RING_DROPPED),
  };
}
