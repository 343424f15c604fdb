// Sv32 through the flat memory's software walker: permissions (R/W/X, U with
// SUM, MXR), A/D updates, megapages, sfence.vma, TLB flushing when the
// privilege or mstatus changes, MPRV, and TVM.

import { describe, expect, test } from 'vitest';
import { load, type Loaded } from './harness.ts';
import { PageTables, PTE_A, PTE_D, PTE_R, PTE_U, PTE_W, PTE_X } from './page-tables.ts';
import { FLAT_RAM_BASE, FLAT_MMIO_BASE } from '../../src/cpu/flat-memory.ts';

const VA = 0x40000000; // a test data page
const PA = FLAT_RAM_BASE + 0x60000;
const PA2 = FLAT_RAM_BASE + 0x61000;
const PT_BASE = FLAT_RAM_BASE + 0x80000;
const KERNEL = PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;

/**
 * Load `src` (which starts in M-mode, sets satp from s1 and enters S-mode at
 * `sup` or U-mode at `usr` itself), identity-mapping the program and the MMIO
 * page for S (or U with `userCode`), then let `map` add test mappings.
 */
function paged(src: string, map: (pt: PageTables, l: Loaded) => void, userCode = false): Loaded {
  const l = load(src);
  const pt = new PageTables(l.mem, PT_BASE);
  pt.identity(FLAT_RAM_BASE, 0x10000, KERNEL | (userCode ? PTE_U : 0));
  pt.identity(FLAT_MMIO_BASE, 0x2000, PTE_R | PTE_W | PTE_A | PTE_D | (userCode ? PTE_U : 0));
  l.mem.writeWord(PA, 0x1111);
  l.mem.writeWord(PA2, 0x2222);
  map(pt, l);
  l.hart.x[9] = pt.satp | 0; // s1
  l.run();
  return l;
}

const toS = (body: string, setup = ''): string => `
_start:
  csrw satp, s1
${setup}
  ENTER_S sup
sup:
  li s0, ${VA}
${body}
  PASS`;

const toU = (body: string, setup = ''): string => `
_start:
  csrw satp, s1
${setup}
  ENTER_U usr
usr:
  li s0, ${VA}
${body}
  PASS`;

describe('permissions', () => {
  test('S reads and writes a supervisor page', () => {
    const l = paged(toS('lw a0, 0(s0)\n li t0, 7\n sw t0, 4(s0)'), (pt) => pt.map(VA, PA, PTE_R | PTE_W));
    expect(l.mem.tohost).toBe(1);
    expect(l.reg('a0')).toBe(0x1111);
    expect(l.mem.readWord(PA + 4)).toBe(7);
  });

  test('a store to a read-only page is a store page fault with tval = address', () => {
    const l = paged(toS('lw a0, 0(s0)\nbad:\n sw a0, 8(s0)'), (pt) => pt.map(VA, PA, PTE_R));
    expect(l.reg('s9')).toBe(15);
    expect(l.ureg('s10')).toBe(l.sym('bad'));
    expect(l.ureg('s11')).toBe(VA + 8);
  });

  test('fetching from a non-executable page is an instruction page fault with tval = pc', () => {
    const l = paged(toS('jr s0'), (pt) => pt.map(VA, PA, PTE_R | PTE_W));
    expect(l.reg('s9')).toBe(12);
    expect(l.ureg('s10')).toBe(VA);
    expect(l.ureg('s11')).toBe(VA);
  });

  test('an unmapped page and a W-without-R PTE are page faults', () => {
    const a = paged(toS('lw a0, 0(s0)'), () => {});
    expect([a.reg('s9'), a.ureg('s11')]).toEqual([13, VA]);
    const b = paged(toS('sw a0, 0(s0)'), (pt) => pt.map(VA, PA, PTE_W));
    expect(b.reg('s9')).toBe(15);
  });

  test('S loads from a U page fault unless SUM=1; S never executes a U page', () => {
    const noSum = paged(toS('lw a0, 0(s0)'), (pt) => pt.map(VA, PA, PTE_R | PTE_U | PTE_X));
    expect(noSum.reg('s9')).toBe(13);
    const sum = paged(toS('lw a0, 0(s0)', 'li t0, 1 << 18\n csrs mstatus, t0'), (pt) => pt.map(VA, PA, PTE_R | PTE_U | PTE_X));
    expect(sum.mem.tohost).toBe(1);
    expect(sum.reg('a0')).toBe(0x1111);
    const exec = paged(toS('jr s0', 'li t0, 1 << 18\n csrs mstatus, t0'), (pt) => pt.map(VA, PA, PTE_R | PTE_U | PTE_X));
    expect([exec.reg('s9'), exec.ureg('s11')]).toEqual([12, VA]);
  });

  test('U may only touch U pages', () => {
    const ok = paged(toU('lw a0, 0(s0)'), (pt) => pt.map(VA, PA, PTE_R | PTE_U), true);
    expect(ok.reg('a0')).toBe(0x1111);
    const bad = paged(toU('lw a0, 0(s0)'), (pt) => pt.map(VA, PA, PTE_R), true);
    expect(bad.reg('s9')).toBe(13);
    const code = paged(toU('nop'), () => {}, false); // program pages are not U
    expect([code.reg('s9'), code.ureg('s11')]).toEqual([12, code.sym('usr')]);
  });

  test('MXR makes execute-only pages readable', () => {
    const no = paged(toS('lw a0, 0(s0)'), (pt) => pt.map(VA, PA, PTE_X));
    expect(no.reg('s9')).toBe(13);
    const yes = paged(toS('lw a0, 0(s0)', 'li t0, 1 << 19\n csrs mstatus, t0'), (pt) => pt.map(VA, PA, PTE_X));
    expect(yes.reg('a0')).toBe(0x1111);
  });

  test('MPRV: M-mode loads use MPP\'s permissions; fetches stay M-mode', () => {
    const prog = (mpp: number): string => `
_start:
  csrw satp, s1
  li t0, (1 << 17) | (${mpp} << 11)
  csrs mstatus, t0
  li s0, ${VA}
  lw a0, 0(s0)
  csrw mstatus, zero
  PASS`;
    const user = paged(prog(0), (pt) => pt.map(VA, PA, PTE_R | PTE_U));
    expect(user.reg('a0')).toBe(0x1111);
    const userDenied = paged(prog(0), (pt) => pt.map(VA, PA, PTE_R));
    expect(userDenied.reg('s9')).toBe(13);
    const sup = paged(prog(1), (pt) => pt.map(VA, PA, PTE_R | PTE_U)); // SUM=0
    expect(sup.reg('s9')).toBe(13);
  });

  test('a page table outside RAM is an access fault of the access type', () => {
    const l = paged(toS('lw a0, 0(s0)'), (pt, lo) => lo.mem.writeWord(pt.root + (VA >>> 22) * 4, ((0x20000000 >>> 12) << 10) | 1));
    expect(l.reg('s9')).toBe(5);
  });
});

describe('A/D bits and megapages', () => {
  test('the walker sets A on a load and D on a store, atomically in the PTE', () => {
    let pt!: PageTables;
    const l = paged(toS('lw a0, 0(s0)\n ebreak'), (p) => {
      pt = p;
      p.map(VA, PA, PTE_R | PTE_W);
      p.map(VA + 0x1000, PA2, PTE_R | PTE_W);
    });
    expect(l.reg('s9')).toBe(3);
    expect(pt.readPte(VA) & (PTE_A | PTE_D)).toBe(PTE_A);
    expect(pt.readPte(VA + 0x1000) & (PTE_A | PTE_D)).toBe(0);
    const l2 = paged(toS('lw a0, 0(s0)\n sw a0, 4(s0)\n ebreak'), (p) => {
      pt = p;
      p.map(VA, PA, PTE_R | PTE_W);
    });
    expect(l2.reg('s9')).toBe(3);
    expect(pt.readPte(VA) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
  });

  test('4 MiB megapages translate with the low VPN; a misaligned megapage faults', () => {
    const l = paged(toS('li t0, 0x60000\n add t0, s0, t0\n lw a0, 0(t0)'), (pt) => pt.mapMega(VA, FLAT_RAM_BASE, PTE_R | PTE_A));
    expect(l.reg('a0')).toBe(0x1111);
    const bad = paged(toS('lw a0, 0(s0)'), (pt) => pt.mapMega(VA, FLAT_RAM_BASE + 0x1000, PTE_R | PTE_A));
    expect(bad.reg('s9')).toBe(13);
  });
});

describe('TLB consistency', () => {
  test('after a PTE change, sfence.vma (by address and global) makes the new mapping visible', () => {
    const l = paged(toS(`
  lw a0, 0(s0)
  li t1, ${(((PA2 >>> 12) << 10) | PTE_R | PTE_W | PTE_A | PTE_D | 1) >>> 0}
  li t2, 0             # PTE address patched in by the test
  mv t2, s2
  sw t1, 0(t2)
  sfence.vma s0, zero
  lw a1, 0(s0)
  li t1, ${(((PA >>> 12) << 10) | PTE_R | PTE_W | PTE_A | PTE_D | 1) >>> 0}
  sw t1, 0(t2)
  sfence.vma
  lw a2, 0(s0)`), (pt, lo) => {
      pt.map(VA, PA, PTE_R | PTE_W);
      pt.identity(PT_BASE, 0x4000, PTE_R | PTE_W | PTE_A | PTE_D);
      lo.hart.x[18] = pt.pteAddr(VA); // s2
    });
    expect(l.mem.tohost).toBe(1);
    expect([l.reg('a0'), l.reg('a1'), l.reg('a2')]).toEqual([0x1111, 0x2222, 0x1111]);
  });

  test('a translation cached in U-mode is not reused by S-mode without SUM', () => {
    const l = paged(`
_start:
  csrw satp, s1
  li t0, 1 << 8
  csrw medeleg, t0
  la t0, shandler
  csrw stvec, t0
  ENTER_U usr
usr:
  li s0, ${VA}
  lw a0, 0(s0)          # fills the TLB as U
  ecall
.section .text.s, "ax"
shandler:
  lw a1, 0(s0)          # same page as S with SUM=0: must fault
  PASS`, (pt, lo) => {
      pt.map(VA, PA, PTE_R | PTE_U);
      pt.map(lo.sym('shandler'), lo.sym('shandler'), KERNEL); // S code must not be a U page
    }, true);
    expect(l.reg('a0')).toBe(0x1111);
    expect(l.reg('s9')).toBe(13);
  });

  test('clearing SUM flushes translations that relied on it', () => {
    const l = paged(toS(`
  li t0, 1 << 18
  csrs sstatus, t0
  lw a0, 0(s0)
  csrc sstatus, t0
  lw a1, 0(s0)`), (pt) => pt.map(VA, PA, PTE_R | PTE_U));
    expect(l.reg('a0')).toBe(0x1111);
    expect(l.reg('s9')).toBe(13);
  });

  test('sfence.vma is illegal in S-mode with TVM=1 and in U-mode', () => {
    const s = paged(toS('bad:\n sfence.vma', 'li t0, 1 << 20\n csrs mstatus, t0'), () => {});
    expect([s.reg('s9'), s.ureg('s10')]).toEqual([2, s.sym('bad')]);
    const u = paged(toU('sfence.vma'), () => {}, true);
    expect(u.reg('s9')).toBe(2);
  });

  test('the TLB caches a translation until sfence.vma / tlbFlushPage()', () => {
    const run = (flush: boolean): Loaded => {
      const l = load(toS('lw a0, 0(s0)\n wfi\n lw a1, 0(s0)'));
      const pt = new PageTables(l.mem, PT_BASE);
      pt.identity(FLAT_RAM_BASE, 0x10000, KERNEL);
      pt.identity(FLAT_MMIO_BASE, 0x2000, PTE_R | PTE_W | PTE_A | PTE_D);
      pt.map(VA, PA, PTE_R | PTE_A);
      l.mem.writeWord(PA, 0x1111);
      l.mem.writeWord(PA2, 0x2222);
      l.hart.x[9] = pt.satp | 0;
      expect(l.hart.run(1000)).toBe(1); // RUN_WFI
      pt.map(VA, PA2, PTE_R | PTE_A); // the "guest" changed its PTE
      if (flush) l.hart.tlbFlushPage(VA);
      l.run();
      return l;
    };
    expect(run(false).reg('a1')).toBe(0x1111); // stale, as hardware may do
    expect(run(true).reg('a1')).toBe(0x2222);
  });
});
