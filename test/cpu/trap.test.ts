// Exceptions and interrupts: causes and tval per spec, delegation, mret/sret,
// TSR/TW, interrupt enables and priorities, vectored mode, WFI, SBI ecalls,
// stop requests and trap-loop detection.

import { describe, expect, test } from 'vitest';
import { load, runAsm } from './harness.ts';
import { RUN_BUDGET, RUN_STOP, RUN_TRAP_LOOP, RUN_WFI } from '../../src/cpu/exits.ts';

describe('synchronous exceptions', () => {
  test.each([
    ['M', '', 11],
    ['S', 'ENTER_S lower', 9],
    ['U', 'ENTER_U lower', 8],
  ])('ecall from %s-mode: cause %i, mepc = the ecall, mtval = 0, MPP = old mode', (mode, enter, cause) => {
    const l = runAsm(`
_start:
  csrw mtval, sp          # make sure mtval is written (sp != 0 would show)
  li sp, 123
  csrw mtval, sp
  ${enter}
lower:
call_here:
  ecall
  FAIL`);
    expect(l.reg('s9')).toBe(cause);
    expect(l.ureg('s10')).toBe(l.sym('call_here'));
    expect(l.reg('s11')).toBe(0);
    expect((l.hart.mstatus >>> 11) & 3).toBe({ M: 3, S: 1, U: 0 }[mode]);
    expect(l.hart.priv).toBe(3);
  });

  test('ebreak: cause 3, tval = its address', () => {
    const l = runAsm(`_start:\n nop\nbp:\n ebreak\n FAIL`);
    expect(l.reg('s9')).toBe(3);
    expect(l.ureg('s10')).toBe(l.sym('bp'));
    expect(l.ureg('s11')).toBe(l.sym('bp'));
  });

  test.each([[0x00000000], [0xffffffff], [0x0000_0013 | (1 << 12) | (1 << 26)], [0x1050_0073 | (1 << 7)]])(
    'illegal word 0x%s: cause 2, tval = the instruction bits',
    (word) => {
      const l = runAsm(`_start:\nbad:\n .word ${word}\n FAIL`);
      expect(l.reg('s9')).toBe(2);
      expect(l.ureg('s10')).toBe(l.sym('bad'));
      expect(l.ureg('s11')).toBe(word >>> 0);
    },
  );

  test('a trap saves MIE in MPIE and clears MIE; mret restores and sets MPIE, MPP=U', () => {
    const l = runAsm(`
_start:
  la t0, handler
  csrw mtvec, t0
  csrsi mstatus, 8        # MIE=1
  ecall
  csrr a1, mstatus
  PASS
handler:
  csrr a0, mstatus
  csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
  mret`);
    expect(l.reg('a0') & 0x1888).toBe(0x1880); // MPP=M, MPIE=1, MIE=0
    expect(l.reg('a1') & 0x1888).toBe(0x0088); // MPP=U, MPIE=1, MIE=1
  });
});

describe('delegation and trap return', () => {
  test('U ecall delegated to S: scause/sepc/stval, SPP=U, SPIE=SIE, SIE=0, then sret', () => {
    const l = runAsm(`
_start:
  li t0, 1 << 8
  csrw medeleg, t0
  la t0, shandler
  csrw stvec, t0
  csrsi sstatus, 2        # SIE=1 (kept across the drop to U)
  ENTER_U user
user:
call_here:
  ecall
back:
  csrr a5, cycle          # U-mode again? (mcounteren=0 -> illegal, caught by M)
  FAIL
shandler:
  csrr a0, scause
  csrr a1, sepc
  csrr a2, stval
  csrr a3, sstatus
  addi a1, a1, 4
  csrw sepc, a1
  sret
`);
    expect(l.reg('a0')).toBe(8);
    expect(l.ureg('a1')).toBe(l.sym('back'));
    expect(l.reg('a2')).toBe(0);
    expect(l.reg('a3') & 0x122).toBe(0x020); // SPP=0, SPIE=1, SIE=0
    // After sret we are in U (cycle illegal -> default M handler)
    expect(l.reg('s9')).toBe(2);
    expect((l.hart.mstatus >>> 11) & 3).toBe(0);
    expect(l.hart.mstatus & 0x22).toBe(0x22); // sret: SIE=SPIE(1), SPIE=1
  });

  test('exceptions in M-mode are never delegated', () => {
    const l = runAsm(`
_start:
  li t0, -1
  csrw medeleg, t0
  la t0, shandler
  csrw stvec, t0
  ebreak
shandler:
  FAIL`);
    expect(l.reg('s9')).toBe(3);
  });

  test('S ecall with medeleg[9] goes to S; medeleg[11] (M ecall) cannot be set', () => {
    const l = runAsm(`
_start:
  li t0, 1 << 9
  csrw medeleg, t0
  la t0, shandler
  csrw stvec, t0
  ENTER_S sup
sup:
  ecall
shandler:
  csrr a0, scause
  csrr a1, sstatus
  li t0, 1 << 11
  PASS`);
    expect(l.reg('a0')).toBe(9);
    expect(l.reg('a1') & 0x100).toBe(0x100); // SPP = S
    expect(l.hart.priv).toBe(1);
  });

  test('sret: illegal in U, and in S when TSR=1; mret illegal in S', () => {
    const u = runAsm(`_start:\n ENTER_U u\nu:\nbad:\n sret\n FAIL`);
    expect([u.reg('s9'), u.ureg('s10')]).toEqual([2, u.sym('bad')]);
    const s = runAsm(`_start:\n li t0, 1 << 22\n csrs mstatus, t0\n ENTER_S s\ns:\nbad:\n sret\n FAIL`);
    expect([s.reg('s9'), s.ureg('s10')]).toEqual([2, s.sym('bad')]);
    const m = runAsm(`_start:\n ENTER_S s\ns:\nbad:\n mret\n FAIL`);
    expect([m.reg('s9'), m.ureg('s11')]).toEqual([2, 0x30200073]);
  });

  test('sret from S without TSR returns to SPP; from M it works too', () => {
    const l = runAsm(`
_start:
  la t0, target
  csrw sepc, t0
  li t0, 1 << 8           # SPP = S
  csrs sstatus, t0
  sret                    # from M
target:
  csrr a0, sstatus        # legal in S
  la t0, target2
  csrw sepc, t0
  csrc sstatus, t0        # SPP = U (t0 bit 8 may be set; clear explicitly below)
  li t0, 1 << 8
  csrc sstatus, t0
  sret
target2:
  csrr a1, sstatus        # U: illegal
  FAIL`);
    expect(l.reg('s9')).toBe(2);
    expect(l.ureg('s10')).toBe(l.sym('target2'));
  });

  test('mret to U/S clears MPRV; mret to M keeps it', () => {
    const l = runAsm(`
_start:
  li t0, (1 << 17) | (3 << 11)
  csrs mstatus, t0
  la t0, m2
  csrw mepc, t0
  mret
m2:
  csrr a0, mstatus
  li t0, 1 << 17
  csrs mstatus, t0
  ENTER_S s
s:
  ecall`);
    expect(l.reg('a0') & (1 << 17)).toBe(1 << 17);
    expect(l.hart.mstatus & (1 << 17)).toBe(0);
  });
});

describe('interrupts', () => {
  test('machine timer: taken when MIE and MTIE; mcause has the interrupt bit; mepc = next instruction', () => {
    const l = load(`
_start:
  la t0, handler
  csrw mtvec, t0
  li t0, 1 << 7
  csrw mie, t0
  nop
enable:
  csrsi mstatus, 8
after:
  FAIL
handler:
  csrr a0, mcause
  csrr a1, mepc
  PASS`);
    l.hart.setIrqLines(1 << 7);
    l.run();
    expect(l.ureg('a0')).toBe(0x80000007);
    expect(l.ureg('a1')).toBe(l.sym('after'));
  });

  test('a line raised between run() calls is taken at the start of the next run', () => {
    const l = load(`
_start:
  la t0, handler
  csrw mtvec, t0
  li t0, 1 << 11
  csrw mie, t0
  csrsi mstatus, 8
1: j 1b
handler:
  csrr a0, mcause
  PASS`);
    expect(l.hart.run(100)).toBe(RUN_BUDGET);
    l.hart.setIrqLines(1 << 11);
    l.run();
    expect(l.ureg('a0')).toBe(0x8000000b);
  });

  test('priority MEI > MSI > MTI > SEI > SSI > STI; vectored mtvec jumps to base + 4*cause', () => {
    const l = load(`
_start:
  la t0, vec
  ori t0, t0, 1
  csrw mtvec, t0
  li t0, 0xaaa
  csrw mie, t0
  li t0, 0x222
  csrw mip, t0           # SSIP STIP SEIP (software)
  la s0, order
  csrsi mstatus, 8
1: j 1b
.align 6
vec:
  j bad
  j take                 # 1 SSI
  j bad
  j take_msi             # 3 MSI
  j bad
  j take                 # 5 STI
  j bad
  j take_mti             # 7 MTI
  j bad
  j take                 # 9 SEI
  j bad
  j take_mei             # 11 MEI
bad:
  FAIL
take_mei:
  csrr t1, mcause
  sw t1, 0(s0)
  addi s0, s0, 4
  li t2, 1
  mv s1, t2              # tell the test to drop MEIP
  mret
take_msi:
take_mti:
take:
  csrr t1, mcause
  sw t1, 0(s0)
  addi s0, s0, 4
  slli t1, t1, 1
  srli t1, t1, 1
  li t2, 1
  sll t2, t2, t1
  csrc mip, t2            # clears software bits (S-level)
  csrc mie, t2            # and disables the M ones (lines stay up)
  la t3, order
  addi t3, t3, 24
  beq s0, t3, done
  mret
done:
  PASS
.data
order: .space 24
`);
    l.hart.setIrqLines((1 << 3) | (1 << 7) | (1 << 11));
    // Run until the MEI handler asked to drop the line.
    while (l.reg('s1') === 0) l.hart.run(1);
    l.hart.setIrqLines((1 << 3) | (1 << 7));
    l.run();
    const got = [0, 1, 2, 3, 4, 5].map((i) => l.mem.readWord(l.sym('order') + 4 * i) & 0xff);
    expect(got).toEqual([11, 3, 7, 9, 1, 5]);
  });

  test('delegated S interrupts: taken in S only with SIE, in U always, never in M', () => {
    const l = runAsm(`
_start:
  li t0, 0x222
  csrw mideleg, t0
  li t0, 2
  csrw mie, t0            # SSIE
  la t0, shandler
  csrw stvec, t0
  csrsi mstatus, 8        # MIE: irrelevant for S interrupts
  csrsi mip, 2            # SSIP pending
  li a0, 1                # reached: not taken in M
  ENTER_S sup
sup:
  li a1, 1                # reached: SIE=0 in S
  csrsi sstatus, 2        # SIE=1 -> taken right after this instruction
after:
  FAIL
shandler:
  csrr a2, scause
  csrr a3, sepc
  PASS`);
    expect([l.reg('a0'), l.reg('a1')]).toEqual([1, 1]);
    expect(l.ureg('a2')).toBe(0x80000001);
    expect(l.ureg('a3')).toBe(l.sym('after'));
  });

  test('M interrupts are taken in S-mode even with MIE=0', () => {
    const l = load(`
_start:
  la t0, handler
  csrw mtvec, t0
  li t0, 1 << 3
  csrw mie, t0
  ENTER_S sup
sup:
  nop
1: j 1b
handler:
  csrr a0, mcause
  csrr a1, mstatus
  PASS`);
    l.hart.run(50);
    l.hart.setIrqLines(1 << 3);
    l.run();
    expect(l.ureg('a0')).toBe(0x80000003);
    expect((l.reg('a1') >>> 11) & 3).toBe(1);
  });

  test('raiseInterrupt sets SSIP as an SBI IPI would; the guest clears it', () => {
    const l = load(`
_start:
  li t0, 2
  csrw mideleg, t0
  csrw mie, t0
  la t0, shandler
  csrw stvec, t0
  csrsi sstatus, 2
  ENTER_S sup
sup:
1: j 1b
shandler:
  csrci sip, 2
  csrr a0, sip
  csrr a1, scause
  PASS`);
    l.hart.run(100);
    l.hart.raiseInterrupt(2);
    l.run();
    expect(l.reg('a0')).toBe(0);
    expect(l.ureg('a1')).toBe(0x80000001);
  });
});

describe('wfi', () => {
  test('no interrupt pending: run() returns RUN_WFI with pc past the wfi', () => {
    const l = load(`_start:\n nop\n wfi\nafter:\n PASS`);
    expect(l.hart.run(100)).toBe(RUN_WFI);
    expect(l.hart.pc >>> 0).toBe(l.sym('after'));
  });

  test('an enabled-in-mie interrupt pending makes wfi a nop even with MIE=0', () => {
    const l = load(`_start:\n li t0, 1 << 7\n csrw mie, t0\n wfi\n PASS`);
    l.hart.setIrqLines(1 << 7);
    expect(l.run()).toBe(RUN_STOP);
    expect(l.mem.tohost).toBe(1);
  });

  test('after RUN_WFI, the interrupt is taken at the next run with mepc after the wfi', () => {
    const l = load(`
_start:
  la t0, handler
  csrw mtvec, t0
  li t0, 1 << 7
  csrw mie, t0
  csrsi mstatus, 8
  wfi
after:
  FAIL
handler:
  csrr a0, mepc
  PASS`);
    expect(l.hart.run(100)).toBe(RUN_WFI);
    l.hart.setIrqLines(1 << 7);
    expect(l.run()).toBe(RUN_STOP);
    expect(l.ureg('a0')).toBe(l.sym('after'));
  });

  test('wfi in U is illegal; in S illegal when TW=1, otherwise allowed', () => {
    const u = runAsm(`_start:\n ENTER_U u\nu:\n wfi\n FAIL`);
    expect(u.reg('s9')).toBe(2);
    const s = runAsm(`_start:\n li t0, 1 << 21\n csrs mstatus, t0\n ENTER_S s\ns:\n wfi\n FAIL`);
    expect(s.reg('s9')).toBe(2);
    const ok = load(`_start:\n ENTER_S s\ns:\n wfi\n PASS`);
    expect(ok.hart.run(100)).toBe(RUN_WFI);
  });
});

describe('ecall to the hypervisor, stop, trap loops', () => {
  test('a handled ecall continues at pc+4 with the results the handler wrote', () => {
    const seen: number[] = [];
    const l = runAsm(`
_start:
  li a7, 0x10
  li a0, 5
  ecall
  addi a1, a0, 1
  PASS`, {
      env: {
        ecall: (h) => {
          seen.push(h.x[17], h.pc >>> 0, h.priv);
          h.x[10] = 41;
          return true;
        },
      },
    });
    expect(seen).toEqual([0x10, l.asm.entry + 8, 3]);
    expect(l.reg('a1')).toBe(42);
  });

  test('stopRequested from an ecall handler returns RUN_STOP after the ecall', () => {
    const l = load(`_start:\n ecall\nafter:\n nop\n PASS`, {
      env: { ecall: (h) => { h.stopRequested = true; return true; } },
    });
    expect(l.hart.run(100)).toBe(RUN_STOP);
    expect(l.hart.pc >>> 0).toBe(l.sym('after'));
    expect(l.hart.run(100)).toBe(RUN_STOP); // stays stopped until cleared
    l.hart.stopRequested = false;
    expect(l.run()).toBe(RUN_STOP);
    expect(l.mem.tohost).toBe(1);
  });

  test('mtvec outside memory: the first trap returns RUN_TRAP_LOOP, with the fault recorded', () => {
    const l = load(`_start:\n li t0, 0x1000\n csrw mtvec, t0\n ebreak\n PASS`, { defaultTrap: false });
    expect(l.hart.run(1000)).toBe(RUN_TRAP_LOOP);
    expect(l.hart.mcause).toBe(1); // instruction access fault at the handler
    expect(l.hart.mtval >>> 0).toBe(0x1000);
    expect(l.hart.pc >>> 0).toBe(0x1000);
    expect(l.hart.run(1000)).toBe(RUN_TRAP_LOOP);
  });

  test('a fetch fault whose trap goes elsewhere is not a loop', () => {
    const l = runAsm(`
_start:
  li t0, 0x1000
  jr t0`);
    expect(l.reg('s9')).toBe(1);
    expect(l.ureg('s11')).toBe(0x1000);
  });
});
