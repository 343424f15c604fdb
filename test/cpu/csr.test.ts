// Zicsr and the CSR file: identification registers, WARL legalisation,
// read-only and privilege checks, the sstatus/sie/sip views, mip's software
// bits vs interrupt lines, the counters with mcounteren/scounteren gating.

import { describe, expect, test } from 'vitest';
import { load, runAsm } from './harness.ts';

describe('machine information and misa', () => {
  test('misa is RV32IMASU and ignores writes; ids are 0; mhartid is the hart id', () => {
    const l = runAsm(`
_start:
  csrr a0, misa
  li t0, -1
  csrw misa, t0
  csrr a1, misa
  csrr a2, mvendorid
  csrr a3, marchid
  csrr a4, mimpid
  csrr a5, mhartid
  csrr a6, mconfigptr
  PASS`);
    expect(l.ureg('a0')).toBe(0x40141101);
    expect(l.ureg('a1')).toBe(0x40141101);
    expect([l.reg('a2'), l.reg('a3'), l.reg('a4'), l.reg('a5'), l.reg('a6')]).toEqual([0, 0, 0, 0, 0]);
  });

  test('writing a read-only CSR is illegal, tval = instruction bits; reading it with csrrs x0 is not', () => {
    const l = runAsm(`
_start:
  csrrs a0, mhartid, x0
  csrrsi a1, cycle, 0
bad:
  csrw mhartid, a0
  PASS`);
    expect(l.mem.tohost).toBe(99);
    expect(l.reg('s9')).toBe(2);
    expect(l.ureg('s10')).toBe(l.sym('bad'));
    expect(l.reg('s11')).toBe(l.mem.readWord(l.sym('bad')));
  });

  test.each([
    ['tcontrol (debug, not implemented)', 'csrr a0, 0x7a5'],
    ['a custom CSR', 'csrr a0, 0x7c0'],
    ['mtime is not a CSR', 'csrr a0, 0xb01'],
    ['hypervisor CSR', 'csrr a0, 0x600'],
    ['csrrw x0 still needs the CSR to exist', 'csrw 0x5c0, a0'],
  ])('unimplemented CSR: %s -> illegal instruction', (_name, insn) => {
    const l = runAsm(`_start:\nbad:\n  ${insn}\n  PASS`);
    expect(l.reg('s9')).toBe(2);
    expect(l.reg('s11')).toBe(l.mem.readWord(l.sym('bad')));
  });

  test('trigger module with no triggers: tselect/tdata1-3 read 0 and ignore writes', () => {
    const l = runAsm(`
_start:
  li t0, -1
  csrw tselect, t0
  csrw tdata1, t0
  csrr a0, tselect
  csrr a1, tdata1
  csrr a2, tdata2
  PASS`);
    expect(l.mem.tohost).toBe(1); // PASS, not the trap handler (which leaves a0-a2 at 0 too)
    expect(l.reg('a0')).toBe(0);
    expect(l.reg('a1')).toBe(0);
    expect(l.reg('a2')).toBe(0);
  });

  test('PMP (zero entries), hpm counters, envcfg: exist, read 0, ignore writes', () => {
    const l = runAsm(`
_start:
  li t0, -1
  csrw pmpcfg0, t0
  csrw pmpaddr0, t0
  csrw 0x3ef, t0          # pmpaddr63
  csrw mhpmcounter3, t0
  csrw mhpmevent3, t0
  csrw menvcfg, t0
  csrw mcountinhibit, t0
  csrr a0, pmpcfg0
  csrr a1, pmpaddr0
  csrr a2, 0x3ef
  csrr a3, mhpmcounter3
  csrr a4, mhpmevent3
  csrr a5, menvcfg
  csrr a6, mstatush
  csrr a7, hpmcounter31h
  PASS`);
    expect(l.mem.tohost).toBe(1);
    expect(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'].map(l.reg)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('WARL legalisation', () => {
  test('mstatus keeps only implemented fields; MPP=2 keeps the old MPP; sstatus is a masked view', () => {
    const l = runAsm(`
_start:
  li t0, -1
  csrw mstatus, t0
  csrr a0, mstatus
  li t0, 1 << 11          # MPP = S
  csrw mstatus, t0
  li t0, 2 << 11          # MPP = 2 (reserved)
  csrw mstatus, t0
  csrr a1, mstatus
  csrw mstatus, zero
  li t0, -1
  csrw sstatus, t0
  csrr a2, mstatus
  csrr a3, sstatus
  csrw mstatus, zero
  PASS`);
    expect(l.ureg('a0')).toBe(0x007e19aa); // SIE MIE SPIE MPIE SPP MPP MPRV SUM MXR TVM TW TSR
    expect(l.ureg('a1')).toBe(1 << 11);
    expect(l.ureg('a2')).toBe(0x000c0122); // SIE SPIE SPP SUM MXR only
    expect(l.ureg('a3')).toBe(0x000c0122);
  });

  test('tvec mode, epc alignment, delegation and enable masks', () => {
    const l = runAsm(`
_start:
  li t0, -1
  csrw medeleg, t0
  csrr a0, medeleg
  csrw mideleg, t0
  csrr a1, mideleg
  csrw mie, t0
  csrr a2, mie
  li t0, 0x80000003
  csrw mepc, t0
  csrr a3, mepc
  csrw sepc, t0
  csrr a4, sepc
  li t0, 0x80001003       # MODE 3 is reserved: bit 1 reads 0
  csrw mtvec, t0
  csrr a5, mtvec
  csrw stvec, t0
  csrr a6, stvec
  PASS`);
    expect(l.ureg('a0')).toBe(0xb3ff);
    expect(l.ureg('a1')).toBe(0x222);
    expect(l.ureg('a2')).toBe(0xaaa);
    expect(l.ureg('a3')).toBe(0x80000000);
    expect(l.ureg('a4')).toBe(0x80000000);
    expect(l.ureg('a5')).toBe(0x80001001);
    expect(l.ureg('a6')).toBe(0x80001001);
  });

  test('sie/sip show only delegated bits; sip writes only SSIP', () => {
    const l = runAsm(`
_start:
  li t0, 0xaaa
  csrw mie, t0
  csrr a0, sie            # nothing delegated yet
  li t0, 0x222
  csrw mideleg, t0
  csrr a1, sie
  csrw sie, zero
  csrr a2, mie            # M bits untouched
  li t0, 0x222
  csrw mip, t0            # M-mode may set SSIP, STIP, SEIP
  csrr a3, sip
  csrw sip, zero          # only SSIP is writable through sip
  csrr a4, mip
  PASS`);
    expect(l.reg('a0')).toBe(0);
    expect(l.reg('a1')).toBe(0x222);
    expect(l.reg('a2')).toBe(0x888);
    expect(l.reg('a3')).toBe(0x222);
    expect(l.reg('a4')).toBe(0x220);
  });

  test('mip: device lines are read-only; SEIP reads line OR software bit; csrrs does not latch the line', () => {
    const l = load(`
_start:
  csrr a0, mip
  li t0, 0x888
  csrc mip, t0            # no effect on lines
  csrr a1, mip
  csrsi mip, 2            # set SSIP: RMW uses the software SEIP (0), not the line
  csrr a2, mip
  PASS`);
    l.hart.setIrqLines((1 << 7) | (1 << 9) | (1 << 11)); // MTIP, SEIP, MEIP lines
    l.run();
    expect(l.reg('a0')).toBe(0xa80);
    expect(l.reg('a1')).toBe(0xa80);
    expect(l.reg('a2')).toBe(0xa82);
    l.hart.setIrqLines(0);
    expect(l.hart.mip).toBe(0x002); // SEIP was not latched into the software bit
  });
});

describe('privilege checks', () => {
  test('S-mode touching an M CSR is illegal', () => {
    const l = runAsm(`
_start:
  ENTER_S s
s:
  csrr a0, sstatus
bad:
  csrr a1, mstatus
  PASS`);
    expect(l.reg('s9')).toBe(2);
    expect(l.ureg('s10')).toBe(l.sym('bad'));
  });

  test('U-mode touching an S CSR is illegal', () => {
    const l = runAsm(`
_start:
  ENTER_U u
u:
bad:
  csrr a1, sscratch
  PASS`);
    expect(l.reg('s9')).toBe(2);
    expect(l.ureg('s10')).toBe(l.sym('bad'));
  });

  test('satp in S-mode is illegal when TVM=1 and legal otherwise', () => {
    const l = runAsm(`
_start:
  ENTER_S s
s:
  csrr a0, satp
  ecall
`.replace('ecall', `li t0, 1 << 20
  PASS`));
    expect(l.mem.tohost).toBe(1);
    const l2 = runAsm(`
_start:
  li t0, 1 << 20
  csrs mstatus, t0
  ENTER_S s
s:
bad:
  csrr a0, satp
  PASS`);
    expect(l2.reg('s9')).toBe(2);
    expect(l2.ureg('s10')).toBe(l2.sym('bad'));
  });
});

describe('counters', () => {
  test('instret counts retired instructions; minstret/mcycle writes are what the next instruction reads', () => {
    const l = runAsm(`
_start:
  csrr a0, instret
  nop
  nop
  csrr a1, instret
  li t0, 1000
  csrw minstret, t0
  csrr a2, minstret
  csrw minstreth, t0
  csrr a3, minstreth
  csrr a4, minstret
  csrw mcycle, zero
  csrr a5, mcycle
  csrr a6, cycle
  PASS`);
    expect(l.reg('a1') - l.reg('a0')).toBe(3);
    expect(l.reg('a2')).toBe(1000);
    expect(l.reg('a3')).toBe(1000);
    expect(l.reg('a4')).toBe(1002);
    expect(l.reg('a5')).toBe(0);
    expect(l.reg('a6')).toBe(1);
  });

  test('instret does not count trapping instructions; cycle does', () => {
    const l = load(`
_start:
  la t0, handler
  csrw mtvec, t0
  .word 0               # illegal: traps
back:
  PASS
handler:
  la t0, back
  csrw mepc, t0
  mret
`);
    l.run();
    // Executed: la(2) csrw illegal la(2) csrw mret li li sw = 11 slots (loop after sw not reached)
    expect(l.hart.cycle - l.hart.instret).toBe(1);
  });

  test('time/timeh read the platform clock', () => {
    const l = runAsm(`
_start:
  csrr a0, time
  csrr a1, timeh
  PASS`, { env: { readTime: () => 0x1_2345_6789 } });
    expect(l.ureg('a0')).toBe(0x23456789);
    expect(l.reg('a1')).toBe(1);
  });

  test('counters from S need mcounteren; from U also scounteren', () => {
    const prog = (mce: number, sce: number, mode: 'S' | 'U'): string => `
_start:
  li t0, ${mce}
  csrw mcounteren, t0
  li t0, ${sce}
  csrw scounteren, t0
  ENTER_${mode} lower
lower:
  csrr a0, cycle
  csrr a1, time
  csrr a2, instreth
  csrr a3, hpmcounter3
  PASS`;
    expect(runAsm(prog(0xf, 0, 'S')).mem.tohost).toBe(1);
    expect(runAsm(prog(0xf, 0xf, 'U')).mem.tohost).toBe(1);
    for (const [m, s, mode] of [[0xe, 0xf, 'U'], [0xf, 0xe, 'U'], [0xe, 0, 'S'], [0xd, 0xf, 'S'], [0x7, 0x7, 'U']] as const) {
      const l = runAsm(prog(m, s, mode));
      expect(l.reg('s9'), `mcounteren=${m} scounteren=${s} ${mode}`).toBe(2);
    }
  });
});

describe('snapshots', () => {
  test('getRegs reports pc, priv, x and CSRs unsigned; setRegs restores them', () => {
    const l = runAsm(`
_start:
  li a0, -1
  li t0, 0x80000000
  csrw mscratch, t0
  li t0, 0x222
  csrw mideleg, t0
  PASS`);
    const r = l.hart.getRegs();
    expect(r.x[10]).toBe(0xffffffff);
    expect(r.csrs.mscratch).toBe(0x80000000);
    expect(r.csrs.mideleg).toBe(0x222);
    expect(r.csrs.misa).toBe(0x40141101);
    expect(r.priv).toBe(3);
    const l2 = load('_start:\n PASS');
    l2.hart.setRegs(r);
    expect(l2.hart.getRegs()).toEqual(r);
  });
});
