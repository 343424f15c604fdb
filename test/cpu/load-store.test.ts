// Loads and stores: widths and sign extension, misaligned accesses (which this
// hart performs, byte by byte, also across pages), device accesses, and the
// faults with their tval.

import { describe, expect, test } from 'vitest';
import { load, runAsm } from './harness.ts';
import { PageTables, PTE_A, PTE_D, PTE_R, PTE_W } from './page-tables.ts';
import { FLAT_RAM_BASE } from '../../src/cpu/flat-memory.ts';

describe('aligned loads and stores', () => {
  test('sign and zero extension of every width', () => {
    const l = runAsm(`
_start:
  la s0, data
  lb a0, 0(s0)
  lbu a1, 0(s0)
  lh a2, 0(s0)
  lhu a3, 0(s0)
  lw a4, 0(s0)
  lb a5, 4(s0)
  lh a6, 4(s0)
  lbu a7, 3(s0)
  PASS
.data
data: .word 0x8081f2f1, 0x00007f7f
`);
    expect(l.reg('a0')).toBe(-15); // 0xf1
    expect(l.reg('a1')).toBe(0xf1);
    expect(l.reg('a2')).toBe(0xfffff2f1 | 0);
    expect(l.reg('a3')).toBe(0xf2f1);
    expect(l.ureg('a4')).toBe(0x8081f2f1);
    expect(l.reg('a5')).toBe(0x7f);
    expect(l.reg('a6')).toBe(0x7f7f);
    expect(l.reg('a7')).toBe(0x80);
  });

  test('sb/sh/sw write only their bytes, little-endian; negative offsets', () => {
    const l = runAsm(`
_start:
  la s0, data
  li t0, 0x11223344
  sw t0, 0(s0)
  li t1, 0xaabb
  sh t1, 4(s0)
  li t2, 0xcc
  sb t2, 7(s0)
  addi s1, s0, 8
  sw t0, -8(s1)
  sb t2, -5(s1)
  PASS
.data
data: .word 0, 0
`);
    const d = l.sym('data');
    expect(l.mem.readWord(d) >>> 0).toBe(0xcc223344); // sw then sb at -5(s1) = byte 3
    expect(l.mem.readWord(d + 4) >>> 0).toBe(0xcc00aabb);
  });
});

describe('misaligned loads and stores', () => {
  test('every misaligned offset within a page works and extends correctly', () => {
    const l = runAsm(`
_start:
  la s0, data
  lw a0, 1(s0)
  lw a1, 2(s0)
  lw a2, 3(s0)
  lh a3, 1(s0)
  lhu a4, 3(s0)
  li t0, 0xdeadbeef
  sw t0, 9(s0)
  li t1, 0x8899
  sh t1, 15(s0)
  PASS
.data
data: .word 0x44332211, 0x88776655, 0, 0, 0
`);
    expect(l.ureg('a0')).toBe(0x55443322);
    expect(l.ureg('a1')).toBe(0x66554433);
    expect(l.ureg('a2')).toBe(0x77665544);
    expect(l.reg('a3')).toBe(0x3322);
    expect(l.reg('a4')).toBe(0x5544);
    const d = l.sym('data');
    expect(l.mem.readWord(d + 8) >>> 0).toBe(0xadbeef00);
    expect(l.mem.readWord(d + 12) >>> 0).toBe((0x99000000 | 0xde) >>> 0);
    expect(l.mem.readWord(d + 16) >>> 0).toBe(0x88);
  });

  // Two virtual pages 0x40000000/0x40001000 mapped to physical pages that are
  // NOT adjacent (in reverse order), so a crossing access must translate twice.
  const VA = 0x40000000;
  const PA0 = FLAT_RAM_BASE + 0x60000;
  const PA1 = FLAT_RAM_BASE + 0x50000;
  function pagedProgram(body: string, secondPageFlags = PTE_R | PTE_W | PTE_A | PTE_D) {
    const l = load(`
_start:
  la t0, trap
  csrw mtvec, t0
  li t0, ${VA}
  csrw satp, s1           # s1 = satp, set by the test
  li t1, (1 << 17) | (1 << 11)   # MPRV=1, MPP=S: data accesses translate as S-mode
  csrs mstatus, t1
${body}
  csrw mstatus, zero
  PASS
trap:
  csrw mstatus, zero
  csrr s9, mcause
  csrr s10, mepc
  csrr s11, mtval
  EXIT 98
`);
    const pt = new PageTables(l.mem, FLAT_RAM_BASE + 0x80000);
    pt.map(VA, PA0, PTE_R | PTE_W | PTE_A | PTE_D);
    if (secondPageFlags !== 0) pt.map(VA + 4096, PA1, secondPageFlags);
    l.hart.x[9] = pt.satp | 0;
    l.mem.writeWord(PA0 + 4092, 0x44332211);
    l.mem.writeWord(PA1, 0x88776655);
    return { l, pt };
  }

  test('a load crossing into a non-adjacent physical page reads both pages', () => {
    const { l } = pagedProgram(`
  li t1, ${VA + 4094}
  lw a0, 0(t1)
  lh a1, 1(t1)
  lhu a2, 1(t1)`);
    l.run();
    expect(l.mem.tohost).toBe(1);
    expect(l.ureg('a0')).toBe(0x66554433);
    expect(l.reg('a1')).toBe(0x5544);
    expect(l.reg('a2')).toBe(0x5544);
  });

  test('a store crossing pages writes both physical pages', () => {
    const { l } = pagedProgram(`
  li t1, 0xa1b2c3d4
  li t2, ${VA + 4093}
  sw t1, 0(t2)`);
    l.run();
    expect(l.mem.tohost).toBe(1);
    expect(l.mem.readWord(PA0 + 4092) >>> 0).toBe(0xb2c3d411);
    expect(l.mem.readWord(PA1) >>> 0).toBe(0x887766a1);
  });

  test('a crossing load whose second page is unmapped faults with tval = start of that page', () => {
    const { l } = pagedProgram(`
  li t1, ${VA + 4094}
fault_here:
  lw a0, 0(t1)`, 0);
    l.run();
    expect(l.mem.tohost).toBe(98);
    expect(l.reg('s9')).toBe(13); // load page fault
    expect(l.ureg('s10')).toBe(l.sym('fault_here'));
    expect(l.ureg('s11')).toBe(VA + 4096);
  });

  test('a crossing store faulting on its second page writes nothing', () => {
    const { l } = pagedProgram(`
  li t1, 0xa1b2c3d4
  li t2, ${VA + 4093}
fault_here:
  sw t1, 0(t2)`, PTE_R | PTE_A);
    l.run();
    expect(l.mem.tohost).toBe(98);
    expect(l.reg('s9')).toBe(15); // store page fault
    expect(l.ureg('s11')).toBe(VA + 4096);
    expect(l.mem.readWord(PA0 + 4092) >>> 0).toBe(0x44332211);
    expect(l.mem.readWord(PA1) >>> 0).toBe(0x88776655);
  });

  test('a misaligned access faulting on its first page reports the original address', () => {
    const { l } = pagedProgram(`
  li t2, ${VA - 2}
  lw a0, 0(t2)`);
    l.run();
    expect(l.reg('s9')).toBe(13);
    expect(l.ureg('s11')).toBe(VA - 2);
  });
});

describe('devices and bus faults', () => {
  test('MMIO loads and stores reach the device; a store to tohost stops the hart', () => {
    const l = runAsm(`
_start:
  li t0, 0x10000000
  li t1, 'h'
  sb t1, 0(t0)
  li t1, 'i'
  sb t1, 0(t0)
  lbu a0, 0(t0)
  li t0, TOHOST
  lw a1, 0(t0)
  PASS
`);
    expect(l.mem.console).toBe('hi');
    expect(l.reg('a0')).toBe(0);
    expect(l.mem.tohost).toBe(1);
  });

  test('a device that does not answer raises a load/store access fault with tval', () => {
    const l = runAsm(`
_start:
  la t0, h1
  csrw mtvec, t0
  li t0, 0x10000100
l1:
  lw a0, 0(t0)
  FAIL
h1:
  csrr a1, mcause
  csrr a2, mtval
  la t1, h2
  csrw mtvec, t1
s1:
  sw a0, 4(t0)
  FAIL
h2:
  csrr a3, mcause
  csrr a4, mtval
  PASS
`);
    expect(l.mem.tohost).toBe(1);
    expect([l.reg('a1'), l.ureg('a2')]).toEqual([5, 0x10000100]);
    expect([l.reg('a3'), l.ureg('a4')]).toEqual([7, 0x10000104]);
  });

  test('addresses outside RAM and devices: load 5, store 7, fetch 1', () => {
    const l = runAsm(`
_start:
  la t0, h1
  csrw mtvec, t0
  li t0, 0x20000000
  lw a0, 0(t0)
h1:
  csrr a1, mcause
  la t1, h2
  csrw mtvec, t1
  sw a0, 0(t0)
h2:
  csrr a2, mcause
  la t1, h3
  csrw mtvec, t1
  jr t0
h3:
  csrr a3, mcause
  csrr a4, mtval
  csrr a5, mepc
  PASS
`);
    expect([l.reg('a1'), l.reg('a2'), l.reg('a3')]).toEqual([5, 7, 1]);
    expect(l.ureg('a4')).toBe(0x20000000);
    expect(l.ureg('a5')).toBe(0x20000000);
  });

  test('emulated writes go to RAM without entering the TLB and call afterEmulatedWrite', () => {
    const l = load(`
_start:
  la s0, data
  li t0, 5
  sw t0, 0(s0)
  sw t0, 4(s0)
  sh t0, 9(s0)
  amoadd.w a0, t0, (s0)
  lw a1, 0(s0)
  PASS
.data
data: .word 1, 2, 3
`);
    l.mem.emulatedPages.add(Math.floor(l.sym('data') / 4096));
    l.run();
    expect(l.mem.tohost).toBe(1);
    expect(l.mem.emulatedWrites).toBe(2 + 2 + 1); // two sw, two bytes of the misaligned sh, one amo
    expect(l.reg('a0')).toBe(5);
    expect(l.reg('a1')).toBe(10);
    expect(l.mem.readWord(l.sym('data') + 8) >>> 0).toBe(0x503);
  });
});
