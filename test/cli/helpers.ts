// Run the real `webkvm` command in a child process, as a user would.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = new URL('../../bin/webkvm.mjs', import.meta.url).pathname;

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function webkvm(args: string[], input = ''): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'webkvm-test-'));

/** Write a file into a scratch folder and return its path. */
export function scratch(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** An M-mode program (riscv-tests style) that ends by writing `value` to tohost. */
export function htifProgram(body: string): string {
  return `
    .option norvc
    .text
    .globl _start
_start:
${body}
    .section .tohost, "aw"
    .align 6
    .globl tohost
tohost: .word 0, 0
    .align 6
    .globl fromhost
fromhost: .word 0, 0
`;
}

/** Code that exits through HTIF with guest exit code `code`. */
export function htifExit(code: number): string {
  return `
    li a0, ${(code << 1) | 1}
    la t0, tohost
    sw a0, 0(t0)
1:  j 1b
`;
}
