// Every exit code of `webkvm run`, through the real command and real workers.
import { describe, expect, it } from 'vitest';
import { htifExit, htifProgram, scratch, webkvm } from './helpers.ts';

describe('webkvm run exit codes', () => {
  it('exits 0 when the guest writes tohost = 1', () => {
    const r = webkvm(['run', scratch('pass.S', htifProgram(htifExit(0)))]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("passes the guest's HTIF code through", () => {
    const r = webkvm(['run', scratch('fail5.S', htifProgram(htifExit(5)))]);
    expect(r.status).toBe(5);
    expect(r.stderr).toMatch(/exited with code 5/);
  });

  it('prints through the HTIF syscall proxy (SYS_write)', () => {
    const src = htifProgram(`
    la t0, magic
    la t1, msg
    sw t1, 16(t0)          # arg1: buffer
    li t1, 6
    sw t1, 24(t0)          # arg2: length
    li t1, 1
    sw t1, 8(t0)           # arg0: fd 1
    li t1, 64
    sw t1, 0(t0)           # SYS_write
    la t2, tohost
    sw t0, 0(t2)
    la t3, fromhost
2:  lw t4, 0(t3)
    beqz t4, 2b
    sw zero, 0(t3)
${htifExit(0)}
    .data
    .align 3
magic: .zero 64
msg: .ascii "hello\\n"
`);
    const r = webkvm(['run', scratch('write.S', src)]);
    expect(r.stdout).toBe('hello\n');
    expect(r.status).toBe(0);
  });

  it('exits 124 when --max-insns is reached', () => {
    const r = webkvm(['run', scratch('loop.S', htifProgram('1: j 1b')), '--max-insns', '100000']);
    expect(r.status).toBe(124);
    expect(r.stderr).toMatch(/did not exit/);
  });

  it('exits 124 when --timeout passes', () => {
    const t0 = Date.now();
    const r = webkvm(['run', scratch('loop2.S', htifProgram('1: j 1b')), '--timeout', '0.5']);
    expect(r.status).toBe(124);
    expect(r.stderr).toMatch(/timeout/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('exits 126 on a trap with no handler (mtvec = 0)', () => {
    const r = webkvm(['run', scratch('trap.S', htifProgram('  .word 0xffffffff\n'))]);
    expect(r.status).toBe(126);
    expect(r.stderr).toMatch(/trap with no handler on vCPU 0 at pc 0x80000000: cause 2 \(illegal instruction\), tval 0xffffffff; its handler at 0x0 cannot be fetched/);
  });

  it('exits 0 on SBI shutdown and 1 on shutdown with system failure (S-mode boot)', () => {
    const srst = (reason: number) => `
    .option norvc
    .text
    .globl _start
_start:
    li a7, 0x53525354
    li a6, 0
    li a0, 0
    li a1, ${reason}
    ecall
1:  j 1b
`;
    expect(webkvm(['run', scratch('sd0.S', srst(0))]).status).toBe(0);
    const r = webkvm(['run', scratch('sd1.S', srst(1))]);
    expect(r.status).toBe(1);
  });

  it('assembles .include: a file next to the source first, else the built-in guest library (lib/NAME.S)', () => {
    scratch('inc-reason.S', '    .equ REASON, 1\n');
    const main = scratch('inc-main.S', `
    .option norvc
    .text
    .globl _start
    .include "lib/sbi.S"
    .include "inc-reason.S"
_start:
    li a0, REASON
    j shutdown
    .include "lib/shutdown.S"
`);
    expect(webkvm(['run', main]).status).toBe(1); // SRST reason 1 from the included REASON and shutdown
    const r = webkvm(['run', scratch('inc-bad.S', '  .include "inc-nope.S"\n')]);
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('inc-bad.S:1:12: expected a file "inc-nope.S" to include, found none');
  });

  it('exits 0 when the only hart stops itself with SBI HSM hart_stop', () => {
    const src = `
    .text
    .globl _start
_start:
    li a7, 0x48534d
    li a6, 1
    ecall
1:  j 1b
`;
    const r = webkvm(['run', scratch('stop.S', src), '--timeout', '20']);
    expect(r.status).toBe(0);
  });

  it('exits 125 on bad input, with a message naming the problem', () => {
    const unknown = webkvm(['run', '--frobnicate', 'x.elf']);
    expect(unknown.status).toBe(125);
    expect(unknown.stderr).toMatch(/unknown option '--frobnicate'/);

    const missing = webkvm(['run', '/nonexistent/prog.elf']);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toMatch(/cannot read.*no such file/);

    const garbage = webkvm(['run', scratch('garbage.elf', new Uint8Array([1, 2, 3, 4, 5]))]);
    expect(garbage.status).toBe(125);
    expect(garbage.stderr).toMatch(/not an ELF/);

    const asmErr = webkvm(['run', scratch('bad.S', '  .text\n  addi a0, a0\n')]);
    expect(asmErr.status).toBe(125);
    expect(asmErr.stderr).toMatch(/bad\.S:2:\d+/);

    const badVcpus = webkvm(['run', '--vcpus', '99', 'x.S']);
    expect(badVcpus.status).toBe(125);
    expect(badVcpus.stderr).toMatch(/--vcpus.*at most 8/);

    for (const r of [unknown, missing, garbage, asmErr, badVcpus]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects a 64-bit ELF and an ELF outside RAM with exit 125', () => {
    const elf64 = new Uint8Array(64);
    elf64.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    const r64 = webkvm(['run', scratch('x64.elf', elf64)]);
    expect(r64.status).toBe(125);
    expect(r64.stderr).toMatch(/64-bit/);

    const outside = `
    .option norvc
    .text
    .globl _start
_start: j _start
`;
    const elf = scratch('low.elf', '');
    const asm = webkvm(['asm', scratch('low.S', outside), '--base', '0x1000', '-o', elf]);
    expect(asm.status).toBe(0);
    const r = webkvm(['run', elf]);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/low\.elf: segment at 0x00001000.*outside guest RAM/);
  });

  it('--trace N disassembles the first N instructions of vCPU 0 on stderr', () => {
    const r = webkvm(['run', scratch('trace.S', htifProgram(htifExit(0))), '--trace', '3']);
    expect(r.status).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual(['<_start>:', '  M 80000000: 00100513  li a0,1', expect.stringMatching(/^  M 80000004: [0-9a-f]{8}  auipc t0,0x\d+$/), expect.stringMatching(/^  M 80000008: /)]);
  });

  it('runs a built-in guest by name with stdin on its UART', () => {
    const r = webkvm(['run', 'hello'], 'hi\r\x04');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('webkvm hello: a polled 16550 UART console.');
    expect(r.stdout).toContain('hi\r\n');
  });

  it('prints --stats as one JSON line', () => {
    const r = webkvm(['run', scratch('stats.S', htifProgram(htifExit(0))), '--stats']);
    expect(r.status).toBe(0);
    const line = r.stderr.trim().split('\n').pop()!;
    const s = JSON.parse(line);
    expect(s.vcpus[0].instructions).toBeGreaterThan(0);
    expect(s.mmu_lock.acquired).toBeGreaterThan(0);
    expect(s).toHaveProperty('shadow_pages');
  });
});
