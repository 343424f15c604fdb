// A fake SbiHost for the SBI tests: records every request, with 8 harts, a
// console, and 64 KiB of guest RAM at 0x8000_0000.
import {
  SBI_ERR_ALREADY_AVAILABLE,
  SBI_HSM_STATE_STARTED,
  SBI_HSM_STATE_STOPPED,
  SBI_SRST_TYPE_SHUTDOWN,
  SBI_SUCCESS,
} from '../../src/kvm/sbi-abi.ts';
import type { SbiHost } from '../../src/kvm/sbi.ts';

export const RAM_BASE = 0x8000_0000;
export const RAM_SIZE = 0x1_0000;

export class FakeHost implements SbiHost {
  readonly vcpuId: number;
  readonly nvcpus: number;
  timer: [number, number] | null = null;
  ipis: number[] = [];
  fences: { mask: number; kind: number; start: number; size: number; asid: number }[] = [];
  hsm: number[];
  starts: [number, number, number][] = [];
  stopped = false;
  suspends = 0;
  resets: [number, number][] = [];
  /** What systemReset answers for reboots (a CLI host may not support them). */
  rebootResult = SBI_SUCCESS;
  out: number[] = [];
  in: number[] = [];
  readonly ram = new Uint8Array(RAM_SIZE);

  constructor(vcpuId = 0, nvcpus = 8) {
    this.vcpuId = vcpuId;
    this.nvcpus = nvcpus;
    this.hsm = Array.from({ length: nvcpus }, (_, i) => (i === vcpuId ? SBI_HSM_STATE_STARTED : SBI_HSM_STATE_STOPPED));
  }

  setTimer(lo: number, hi: number): void {
    this.timer = [lo, hi];
  }
  sendIpi(mask: number): void {
    this.ipis.push(mask);
  }
  remoteFence(mask: number, kind: number, start: number, size: number, asid: number): void {
    this.fences.push({ mask, kind, start, size, asid });
  }
  hartStart(hartid: number, startAddr: number, opaque: number): number {
    if (this.hsm[hartid] !== SBI_HSM_STATE_STOPPED) return SBI_ERR_ALREADY_AVAILABLE;
    this.hsm[hartid] = SBI_HSM_STATE_STARTED;
    this.starts.push([hartid, startAddr, opaque]);
    return SBI_SUCCESS;
  }
  hartStop(): number {
    this.stopped = true;
    this.hsm[this.vcpuId] = SBI_HSM_STATE_STOPPED;
    return SBI_SUCCESS;
  }
  hartStatus(hartid: number): number {
    return this.hsm[hartid]!;
  }
  hartSuspend(): number {
    this.suspends++;
    return SBI_SUCCESS;
  }
  systemReset(type: number, reason: number): number {
    this.resets.push([type, reason]);
    if (type !== SBI_SRST_TYPE_SHUTDOWN && this.rebootResult !== SBI_SUCCESS) return this.rebootResult;
    return SBI_SUCCESS;
  }
  consoleWrite(bytes: Uint8Array): number {
    this.out.push(...bytes);
    return bytes.length;
  }
  consoleRead(max: number): Uint8Array {
    return Uint8Array.from(this.in.splice(0, max));
  }
  readGuest(gpa: number, len: number): Uint8Array | null {
    if (gpa < RAM_BASE || gpa + len > RAM_BASE + RAM_SIZE) return null;
    return this.ram.slice(gpa - RAM_BASE, gpa - RAM_BASE + len);
  }
  writeGuest(gpa: number, bytes: Uint8Array): boolean {
    if (gpa < RAM_BASE || gpa + bytes.length > RAM_BASE + RAM_SIZE) return false;
    this.ram.set(bytes, gpa - RAM_BASE);
    return true;
  }
  outText(): string {
    return String.fromCharCode(...this.out);
  }
}

