import { describe, expect, it } from 'vitest';
import { findSourceLocation, userMessage } from '../../src/ui/errors.ts';

describe('userMessage', () => {
  it('keeps a KvmError message as comlink delivers it, without the stack', () => {
    const e = new Error('ENOEXEC: garbage.elf: not an ELF file (bad magic)');
    e.stack = `${e.message}\n    at loadElf (vmm.worker.js:10:3)\n    at async run (vmm.worker.js:20:1)`;
    expect(userMessage(e)).toBe('ENOEXEC: garbage.elf: not an ELF file (bad magic)');
  });

  it('prefixes the errno name of a plain { code, message } object once', () => {
    expect(userMessage({ code: 'EINVAL', message: 'memMiB must be at least 4' })).toBe('EINVAL: memMiB must be at least 4');
    expect(userMessage({ code: 'EINVAL', message: 'EINVAL: already prefixed' })).toBe('EINVAL: already prefixed');
  });

  it('drops stack-frame lines that leaked into a message and falls back for junk', () => {
    expect(userMessage('bad thing\n    at f (x.js:1:2)')).toBe('bad thing');
    expect(userMessage(undefined)).toBe('Unexpected error');
    expect(userMessage(42, 'Load failed')).toBe('Load failed');
  });
});

describe('findSourceLocation', () => {
  it('finds file:line:column after an errno prefix', () => {
    expect(findSourceLocation("EINVAL: program.s:4:9: unknown instruction 'bogus'"))
      .toEqual({ file: 'program.s', line: 4, column: 9 });
  });

  it('returns null when there is no location', () => {
    expect(findSourceLocation('ENOMEM: out of host pages')).toBeNull();
  });
});
