// Loading a program into guest physical memory, the way QEMU's `-kernel` does
// for an ELF: every PT_LOAD segment at its physical address, the rest of the
// segment (memsz > filesz, i.e. .bss) zeroed, the entry point from the header.
//
// Checks happen before anything is written, so a bad file changes nothing.

import { KvmError } from './errors.ts';

export interface LoadSegment {
  paddr: number;
  data: Uint8Array;
  memsz: number;
}

export interface LoadImage {
  entry: number;
  segments: LoadSegment[];
  symbols: Map<string, number>;
}

export interface GuestRamRange {
  base: number;
  size: number;
}

/** How the guest starts: riscv-tests style in M-mode, or as an S-mode kernel with SBI. */
export type BootMode = 'M' | 'S';

export interface LoadedProgram {
  entry: number;
  bootMode: BootMode;
  tohost: number | undefined;
  fromhost: number | undefined;
  symbols: Map<string, number>;
}

/**
 * A program that talks to the host through HTIF `tohost` (riscv-tests, bare-metal
 * test kernels) expects to own the machine from reset, in M-mode. Anything else
 * is treated as an S-mode kernel and gets SBI from the hypervisor, as under KVM.
 */
export function chooseBootMode(symbols: Map<string, number>): BootMode {
  return symbols.has('tohost') ? 'M' : 'S';
}

/** Check that every byte the image occupies, and its entry point, fall inside guest RAM. */
export function checkImage(img: LoadImage, ram: GuestRamRange, name: string): void {
  const end = ram.base + ram.size;
  if (img.segments.length === 0) throw new KvmError('ENOEXEC', `${name}: no loadable segment (PT_LOAD)`);
  for (const s of img.segments) {
    const top = s.paddr + Math.max(s.memsz, s.data.length);
    if (s.paddr < ram.base || top > end) {
      throw new KvmError(
        'ENOEXEC',
        `${name}: segment at 0x${hex(s.paddr)}..0x${hex(top)} lies outside guest RAM ` +
          `(0x${hex(ram.base)}..0x${hex(end)}); link it inside RAM or give the VM more memory (--mem)`,
      );
    }
  }
  const inSeg = img.segments.some((s) => img.entry >= s.paddr && img.entry < s.paddr + Math.max(s.memsz, s.data.length));
  if (!inSeg) throw new KvmError('ENOEXEC', `${name}: entry point 0x${hex(img.entry)} is not inside any loaded segment`);
}

/** Write the image into guest memory through `writePhys` (which allocates host pages on first touch). */
export function loadImage(
  img: LoadImage,
  ram: GuestRamRange,
  name: string,
  writePhys: (gpa: number, bytes: Uint8Array) => void,
): LoadedProgram {
  checkImage(img, ram, name);
  for (const s of img.segments) {
    writePhys(s.paddr, s.data);
    const bss = s.memsz - s.data.length;
    if (bss > 0) writePhys(s.paddr + s.data.length, new Uint8Array(bss));
  }
  return {
    entry: img.entry >>> 0,
    bootMode: chooseBootMode(img.symbols),
    tohost: img.symbols.get('tohost'),
    fromhost: img.symbols.get('fromhost'),
    symbols: img.symbols,
  };
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
