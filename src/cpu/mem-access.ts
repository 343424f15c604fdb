// The slow paths behind the software TLB: TLB fill through
// HartMemory.translate(), device (MMIO) accesses, emulated writes, faults, and
// misaligned loads/stores. The interpreter inlines only the TLB-hit case.
//
// Misaligned loads and stores are supported (no address-misaligned trap): they
// are split into bytes, each translated on its own, so they work across a page
// boundary. All bytes are translated before any is accessed, so a faulting
// store writes nothing. If a byte faults, mtval/stval is the address of that
// byte's portion of the access (the original address if the first page faults,
// the start of the next page if only that one does): this is what the spec
// requires, and what a demand-paging kernel needs to find the missing page.

import type { Hart } from './hart.ts';
import {
  ACC_EXEC, ACC_READ, ACC_WRITE, XLATE_EMULATE, XLATE_MMIO,
} from './memory.ts';
import { TLB_MASK } from './tlb.ts';
import { CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS } from './causes.ts';
import { raiseException } from './trap.ts';
import { RUN_STOP } from './exits.ts';

/**
 * Translate `vaddr` for one access: the exact host byte offset (>= 0) on
 * success, else XLATE_FAULT / XLATE_MMIO / XLATE_EMULATE with the details left
 * in h.mem. RAM results are cached in the TLB bank `acc`.
 */
export function xlate(h: Hart, vaddr: number, acc: number): number {
  const tlb = h.tlb;
  const i = (vaddr >>> 12) & TLB_MASK;
  if (tlb.tag[acc][i] === (vaddr & -4096)) return (vaddr + tlb.off[acc][i]) | 0;
  tlb.misses++;
  const priv = acc === ACC_EXEC ? h.priv : h.effPriv;
  const r = h.mem.translate(vaddr >>> 0, acc, priv, h.satp, h.mstatus);
  if (r < 0) return r;
  const page = r & -4096;
  // A page is either writable through the TLB or holds decoded code, never
  // both: that keeps the hot store path free of code-invalidation checks.
  if (acc === ACC_WRITE) dropCode(h, page);
  tlb.fill(acc, vaddr, page);
  return (page + (vaddr & 4095)) | 0;
}

/** Forget decoded instructions of a host page that is about to be written. */
export function dropCode(h: Hart, hostOff: number): void {
  const page = hostOff & -4096;
  if (h.dcache.lookup(page) < 0) return;
  h.dcache.dropHostPage(page);
  if (page === h.fetchHost) h.fetchVA = -1;
}

function extend(v: number, size: number, signed: boolean): number {
  if (size === 4) return v | 0;
  if (size === 2) return signed ? (v << 16) >> 16 : v & 0xffff;
  return signed ? (v << 24) >> 24 : v & 0xff;
}

function readHost(h: Hart, off: number, size: number, signed: boolean): number {
  if (size === 4) return h.ram32[off >> 2];
  if (size === 2) return signed ? h.ramI16[off >> 1] : h.ramU16[off >> 1];
  return signed ? h.ramI8[off] : h.ramU8[off];
}

function writeHost(h: Hart, off: number, size: number, v: number): void {
  if (size === 4) h.ram32[off >> 2] = v;
  else if (size === 2) h.ramU16[off >> 1] = v;
  else h.ramU8[off] = v;
}

/** A device read at the address translate() left in mem.mmioAddr. */
function mmioRead(h: Hart, vaddr: number, size: number, signed: boolean): number {
  const mem = h.mem;
  mem.busError = false;
  const v = mem.mmioLoad(mem.mmioAddr, size);
  if (mem.busError) {
    mem.busError = false;
    raiseException(h, CAUSE_LOAD_ACCESS, vaddr);
    return 0;
  }
  if (h.stopRequested) h.exitReq = RUN_STOP;
  return extend(v, size, signed);
}

function mmioWrite(h: Hart, vaddr: number, size: number, v: number): void {
  const mem = h.mem;
  mem.busError = false;
  const value = size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff);
  mem.mmioStore(mem.mmioAddr, size, value);
  if (mem.busError) {
    mem.busError = false;
    raiseException(h, CAUSE_STORE_ACCESS, vaddr);
    return;
  }
  if (h.stopRequested) h.exitReq = RUN_STOP;
}

/** A naturally aligned load of `size` bytes that missed the TLB. Sets h.trapped on a trap. */
function loadAligned(h: Hart, a: number, size: number, signed: boolean): number {
  const r = xlate(h, a, ACC_READ);
  if (r >= 0) return readHost(h, r, size, signed);
  if (r === XLATE_EMULATE) return readHost(h, h.mem.hostAddr, size, signed);
  if (r === XLATE_MMIO) return mmioRead(h, a, size, signed);
  raiseException(h, h.mem.faultCause, a);
  return 0;
}

function storeAligned(h: Hart, a: number, size: number, v: number): void {
  const r = xlate(h, a, ACC_WRITE);
  if (r >= 0) return writeHost(h, r, size, v);
  if (r === XLATE_EMULATE) {
    const off = h.mem.hostAddr;
    writeHost(h, off, size, v);
    dropCode(h, off);
    h.mem.afterEmulatedWrite();
    return;
  }
  if (r === XLATE_MMIO) return mmioWrite(h, a, size, v);
  raiseException(h, h.mem.faultCause, a);
}

/**
 * Phase one of a misaligned access: translate every byte. Fills h.byteHost[i]
 * with the host offset of RAM bytes, -1 for bytes that need the careful
 * one-byte path (device, emulated). Returns false (trap taken) on a fault.
 */
function resolveBytes(h: Hart, a: number, size: number, acc: number): boolean {
  for (let i = 0; i < size; i++) {
    const va = (a + i) | 0;
    const r = xlate(h, va, acc);
    if (r >= 0) {
      h.byteHost[i] = r;
    } else if (r === XLATE_MMIO || r === XLATE_EMULATE) {
      h.byteHost[i] = -1;
    } else {
      raiseException(h, h.mem.faultCause, va);
      return false;
    }
  }
  return true;
}

function loadMisaligned(h: Hart, a: number, size: number, signed: boolean): number {
  if (!resolveBytes(h, a, size, ACC_READ)) return 0;
  let v = 0;
  for (let i = 0; i < size; i++) {
    const off = h.byteHost[i];
    const b = off >= 0 ? h.ramU8[off] : loadAligned(h, (a + i) | 0, 1, false);
    if (h.trapped) return 0;
    v |= b << (8 * i);
  }
  return extend(v, size, signed);
}

function storeMisaligned(h: Hart, a: number, size: number, v: number): void {
  if (!resolveBytes(h, a, size, ACC_WRITE)) return;
  for (let i = 0; i < size; i++) {
    const off = h.byteHost[i];
    const b = (v >>> (8 * i)) & 0xff;
    if (off >= 0) h.ramU8[off] = b;
    else storeAligned(h, (a + i) | 0, 1, b);
    if (h.trapped) return;
  }
}

/** Load that missed the TLB fast path (miss, misaligned, device). Sets h.trapped on a trap. */
export function loadSlow(h: Hart, a: number, size: number, signed: boolean): number {
  if ((a & (size - 1)) !== 0) return loadMisaligned(h, a, size, signed);
  return loadAligned(h, a, size, signed);
}

/** Store that missed the TLB fast path. Sets h.trapped on a trap, h.exitReq on a stop. */
export function storeSlow(h: Hart, a: number, size: number, v: number): void {
  if ((a & (size - 1)) !== 0) return storeMisaligned(h, a, size, v);
  storeAligned(h, a, size, v);
}
