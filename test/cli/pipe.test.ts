// A reader that closes the pipe early (`webkvm disasm big.elf | head -1`)
// ends the command quietly: no stack trace on stderr, exit status 0.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { scratch } from './helpers.ts';

const BIN = new URL('../../bin/webkvm.mjs', import.meta.url).pathname;

describe('webkvm output into a closed pipe', () => {
  it('exits quietly when the reader stops after one byte', () => {
    // 30,000 instructions: far more disassembly than a pipe buffer holds.
    const src = scratch('big.S', `.globl _start\n_start:\n${'  addi a0, a0, 1\n'.repeat(30_000)}  j _start\n`);
    const elf = scratch('big.elf', '');
    expect(spawnSync(process.execPath, [BIN, 'asm', src, '-o', elf], { encoding: 'utf8' }).status).toBe(0);
    const script = `"${process.execPath}" "${BIN}" disasm "${elf}" | head -c 1 >/dev/null; echo "status=\${PIPESTATUS[0]}" >&2`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/EPIPE|Error|at .*\.ts:/);
    expect(r.stderr).toMatch(/status=0/);
  });
});
