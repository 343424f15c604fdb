/// <reference types="vite/client" />
// The built-in guest programs: RISC-V assembly sources (this folder's *.S)
// for the app's program picker and the `webkvm run <name>` command.
//
// How the sources are read, in the two places this module runs:
// * Under Vite (the app, its workers) and Vitest: `import.meta.glob` below is
//   rewritten at build/transform time into the raw text of every ./*.S and
//   ./lib/*.S file (the `?raw` query), so the sources are bundled strings,
//   available at once.
// * Under plain Node (the CLI runs the TypeScript through tsx, which does not
//   rewrite it): `import.meta.glob` does not exist, the call throws, and the
//   file is read from disk next to this module with `node:fs`, obtained
//   through `process.getBuiltinModule` (Node >= 20.16) so that no bundler
//   ever sees a `node:` import.
// Either way a source is read once, on first use, and cached.
//
// Every guest is one position-independent .S file (the one the params are
// patched in) that pulls the routines the guests share from ./lib/*.S with
// `.include "lib/NAME.S"`: the console, the spinlock, SBI shutdown, and the
// dirty-logging workload both dirty guests run.  guestInclude is the
// resolver for those includes: guestElf (build.ts) builds a guest with it,
// and a user's source may be assembled with it too.  The sources are
// written for both our assembler (src/asm) and GNU as (no C preprocessor, no
// .macro; `as -I src/guests`), and are cross-checked on QEMU's `virt`
// machine by scripts/qemu-check-guests.sh.

import type { IncludeResolver } from '../asm/assembler.ts';
import { KvmError } from '../kvm/errors.ts';

/** What a guest must print when it works (used by system tests and the QEMU check). */
export interface GuestExpectation {
  /** Bytes to type into the console once it runs (hello, hello-irq). */
  input?: string;
  /**
   * Console lines that must all appear, with '\r' removed, in any order (harts
   * print concurrently); other lines may appear too.  `vcpus` is the VM's
   * vCPU count, hart ids 0..vcpus-1, hart 0 booting.
   */
  lines(vcpus: number): string[];
  /** The SBI SRST system_reset reason a passing run ends with (0 = none). */
  resetReason: 0;
}

export interface Guest {
  /** Short name: `webkvm run <name>`. */
  name: string;
  title: string;
  description: string;
  /** The assembly source (read on first access, see the header). */
  readonly source: string;
  /** Suggested number of vCPUs. */
  vcpus: number;
  /** Data symbols a host may patch in guest memory before starting it, with their meaning. */
  params: Record<string, string>;
  expect: GuestExpectation;
}

// --- reading the .S files ----------------------------------------------------

/** ./name.S and ./lib/name.S -> text, when a Vite transform inlined them; undefined under plain Node. */
function bundledSources(): Record<string, string> | undefined {
  try {
    return import.meta.glob<string>(['./*.S', './lib/*.S'], { query: '?raw', import: 'default', eager: true });
  } catch {
    return undefined; // not transformed: plain Node, see the header
  }
}

const bundled = bundledSources();

/** How this build reads guest sources: 'bundled' (Vite/Vitest) or 'fs' (plain Node). */
export const GUEST_SOURCE_MODE: 'bundled' | 'fs' = bundled ? 'bundled' : 'fs';

const cache = new Map<string, string>();

/** The text of ./file (e.g. "hello.S", "lib/puts.S"), from the bundle or from disk; undefined if there is no such file. */
function findSourceFile(file: string): string | undefined {
  const hit = cache.get(file);
  if (hit !== undefined) return hit;
  let text: string | undefined;
  if (bundled) {
    text = bundled[`./${file}`];
  } else if (typeof process !== 'undefined' && typeof process.getBuiltinModule === 'function') {
    const fs = process.getBuiltinModule('node:fs');
    try {
      text = fs.readFileSync(new URL(/* @vite-ignore */ `./${file}`, import.meta.url), "utf8");
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return undefined;
      throw new KvmError('ENOENT', `built-in guest source src/guests/${file} could not be read: ${(e as Error).message}`);
    }
  }
  if (text !== undefined) cache.set(file, text);
  return text;
}

/** The text of ./file; ENOENT if it is missing. */
function readSourceFile(file: string): string {
  const text = findSourceFile(file);
  if (text === undefined) {
    throw new KvmError('ENOENT', `built-in guest source src/guests/${file} is not in this ${bundled ? 'build' : 'checkout'}`);
  }
  return text;
}

/** A library file name `.include` may ask for: lib/NAME.S, nothing outside lib/. */
const LIB_PATH = /^lib\/[A-Za-z0-9_-]+\.S$/;

/**
 * Resolves `.include "lib/NAME.S"` to the built-in guest library
 * (src/guests/lib), for the guests and for any user source that wants it.
 * Paths are relative to src/guests wherever the including file is.
 */
export const guestInclude: IncludeResolver = (path) => {
  const text = LIB_PATH.test(path) ? findSourceFile(path) : undefined;
  return text === undefined ? undefined : { file: path, text };
};

/**
 * compute.S with `use_paging: .word 1`: the same program with Sv32 on.  One
 * source, so the two benchmark variants can never drift apart.
 */
function withPagingOn(src: string): string {
  const re = /^(use_paging:[ \t]*\.word[ \t]+)0\b/m;
  if (!re.test(src)) {
    throw new KvmError('EINVAL', 'src/guests/compute.S: no "use_paging: .word 0" line to turn paging on in');
  }
  return src.replace(re, '$11');
}

function guest(g: Omit<Guest, 'source'>, file: string, transform?: (s: string) => string): Guest {
  return Object.defineProperty(g, 'source', {
    enumerable: true,
    get: () => (transform ? transform(readSourceFile(file)) : readSourceFile(file)),
  }) as Guest;
}

// --- expected output -----------------------------------------------------------

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

const helloEcho = ['hi', 'there', 'abc', 'bye'];

/** CRC/sieve/div-mix checksum for the default 20 iterations, the same on every hart (QEMU agrees). */
export const COMPUTE_CHECKSUM_20 = 0xc0950c12;

const computeLines = (paging: string) => (vcpus: number): string[] => [
  `compute: ${vcpus} hart(s), paging ${paging}, 20 iteration(s) per hart`,
  `compute: checksum 0x${COMPUTE_CHECKSUM_20.toString(16).padStart(8, '0')}`,
  'compute: all harts agree, PASS',
];

/** dirty.S and paging-dirty.S: the same patchable words (paging-dirty also needs pages_per_vcpu even, <= 1024). */
const dirtyParams = {
  pages_per_vcpu: 'working-set pages (4 KiB) per vCPU (.word, default 256)',
  pattern: '0 sequential, 1 random (xorshift32 per hart), 2 hot/cold: 9 in 10 writes to the first 10% (.word, default 0)',
  max_iterations: 'passes over the region before the summary; 0 = forever (.word, default 3)',
};

const dirtyLines = (prefix: string) => (vcpus: number): string[] => [
  `${prefix}: ${vcpus} vCPUs, 256 pages each, 3 iterations, pattern sequential`,
  `${prefix}: every page checked against its hart's iterations_done, PASS`,
];

const computeParams = {
  iterations: 'loop count per hart (.word, default 20)',
  use_paging: '0: satp bare; 1: Sv32 with a megapage identity map (.word)',
};

// --- the list --------------------------------------------------------------------

export const GUESTS: Guest[] = [
  guest(
    {
      name: 'hello',
      title: 'Hello, UART (polled)',
      description:
        'Prints a banner on the 16550 UART and echoes what you type, polling the line status register ' +
        'before every byte. Each UART access is an MMIO exit: watch the exit counters climb while it ' +
        'waits for a key. Enter starts a new line; Ctrl-D powers off through SBI SRST.',
      vcpus: 1,
      params: {},
      expect: {
        input: 'hi\rthere\rabc\x04',
        lines: () => [
          'webkvm hello: a polled 16550 UART console.',
          'Type; Enter starts a new line, Ctrl-D powers off.',
          ...helloEcho,
        ],
        resetReason: 0,
      },
    },
    'hello.S',
  ),
  guest(
    {
      name: 'hello-irq',
      title: 'Hello, UART (interrupts)',
      description:
        'The same console, interrupt driven: the UART raises IRQ 10, the PLIC delivers it to the hart as a ' +
        'supervisor external interrupt, and the kernel claims it, drains the UART and completes it (the EOI). ' +
        'Between keys the vCPU sleeps in wfi. Ctrl-D powers off.',
      vcpus: 1,
      params: {},
      expect: {
        input: 'hi\rthere\rabc\x04',
        lines: () => [
          'webkvm hello-irq: the UART console, interrupt driven (PLIC, IRQ 10).',
          'Type; Enter starts a new line, Ctrl-D powers off.',
          ...helloEcho,
        ],
        resetReason: 0,
      },
    },
    'hello-irq.S',
  ),
  guest(
    {
      name: 'compute',
      title: 'Integer benchmark, paging off',
      description:
        'CRC-32, a sieve of Eratosthenes and a multiply/divide mix over small arrays, repeated `iterations` ' +
        'times on every vCPU, with satp bare: guest physical memory is mapped by direct shadow pages. ' +
        'Prints one checksum, which must be the same on every hart. While the others finish, the boot ' +
        'hart sleeps in wfi until their SBI IPIs wake it.',
      vcpus: 1,
      params: computeParams,
      expect: { lines: computeLines('off'), resetReason: 0 },
    },
    'compute.S',
  ),
  guest(
    {
      name: 'compute-sv32',
      title: 'Integer benchmark, Sv32 on',
      description:
        'The same benchmark after the guest turns Sv32 on with 4 MiB megapages identity-mapping its RAM. ' +
        'KVM shadows each guest megapage with 4 KiB SPTEs; compare its speed with "compute".',
      vcpus: 1,
      params: computeParams,
      expect: { lines: computeLines('on (Sv32, 4 MiB megapages)'), resetReason: 0 },
    },
    'compute.S',
    withPagingOn,
  ),
  guest(
    {
      name: 'smp',
      title: 'SMP: HSM bring-up and atomics',
      description:
        'The boot hart starts the others with SBI HSM hart_start; each prints "hart N up" under an AMO ' +
        'spinlock, then all add 1 to one shared word with amoadd.w, 100000 times each. The last to finish ' +
        'checks the total is exactly harts x 100000: a lost update prints FAIL.',
      vcpus: 4,
      params: { count_per_hart: 'increments per hart (.word, default 100000)' },
      expect: {
        lines: (vcpus) => [
          'smp: boot hart 0, starting the others with SBI HSM hart_start',
          `smp: ${vcpus} hart(s), each adding 100000 to one shared counter with amoadd.w`,
          ...range(vcpus).map((h) => `hart ${h} up`),
          `smp: counter = ${vcpus * 100000}, expected ${vcpus * 100000}`,
          'PASS',
        ],
        resetReason: 0,
      },
    },
    'smp.S',
  ),
  guest(
    {
      name: 'paging',
      title: 'Sv32 kernel with a user process',
      description:
        'A small kernel builds Sv32 page tables (4 KiB identity map, a 4 MiB megapage with a 4 KiB alias, ' +
        'user pages with U=1), enters U-mode, and serves the process: write/exit system calls, three ' +
        'demand-zero page faults (each one a store into a shadowed page table) and one protection fault ' +
        'on a kernel-only page. Prints a summary and PASS.',
      vcpus: 1,
      params: {},
      expect: {
        lines: () => [
          'paging: building Sv32 page tables (4 KiB identity map, UART, megapage, user pages)',
          'paging: Sv32 on, the kernel runs through its identity map',
          'paging: megapage at 0xc0000000 written, read back through a 4 KiB alias at 0xd0000000: ok',
          'paging: entering U-mode at 0x00400000',
          'user: hello from U-mode, through the write system call',
          'paging: page fault at 0x00600000 (store), mapped a zeroed page',
          'paging: page fault at 0x00602010 (store), mapped a zeroed page',
          'paging: page fault at 0x00605020 (load), mapped a zeroed page',
          'paging: protection fault at 0x10000005 (load): page present but U=0, instruction skipped',
          'user: demand-paged memory filled and read back, exiting',
          'paging: user exited with status 0xbee27e0d (expected 0xbee27e0d)',
          'paging: summary: 3 demand-zero faults, 1 protection fault(s), 2 write calls, megapage ok, ' +
            'user frames seen by the kernel ok',
          'PASS',
        ],
        resetReason: 0,
      },
    },
    'paging.S',
  ),
  guest(
    {
      name: 'dirty',
      title: 'Dirty logging workload, paging off',
      description:
        "Like KVM's dirty_log_perf_test: every vCPU writes the iteration number into each 4 KiB page of " +
        'its own region, pass after pass (sequential, random or hot/cold), and publishes the pass in ' +
        'iterations_done. Turn dirty logging on and watch the bitmap light up region by region; after ' +
        'each GET the next stores hit write-protected SPTEs and are fixed by the fast page fault, no ' +
        'mmu_lock (compare fast and slow faults). Set max_iterations to 0 to run forever.',
      vcpus: 4,
      params: dirtyParams,
      expect: { lines: dirtyLines('dirty'), resetReason: 0 },
    },
    'dirty.S',
  ),
  guest(
    {
      name: 'paging-dirty',
      title: 'Dirty logging workload, Sv32 on',
      description:
        'The dirty workload under Sv32: the kernel is identity-mapped with 4 KiB pages and each region ' +
        'is mapped half with 4 KiB pages (indirect shadow pages) and half with a 4 MiB megapage (a direct ' +
        'shadow page). With dirty logging on, watch both halves light up in the bitmap, but only the ' +
        'megapage half takes the fast page fault: writes to the 4 KiB half go the slow path.',
      vcpus: 4,
      params: dirtyParams,
      expect: {
        lines: (vcpus) => [
          'paging-dirty: Sv32 on: kernel identity-mapped with 4 KiB pages, regions half 4 KiB pages, half megapages',
          ...dirtyLines('paging-dirty')(vcpus),
        ],
        resetReason: 0,
      },
    },
    'paging-dirty.S',
  ),
];

/** The guest called `name`, or undefined. */
export function findGuest(name: string): Guest | undefined {
  return GUESTS.find((g) => g.name === name);
}

/** The source of the built-in guest `name`; rejects with KvmError ENOENT for an unknown name. */
export async function loadGuestSource(name: string): Promise<string> {
  const g = findGuest(name);
  if (!g) {
    throw new KvmError('ENOENT', `no built-in guest named "${name}" (have: ${GUESTS.map((x) => x.name).join(', ')})`);
  }
  return g.source;
}
