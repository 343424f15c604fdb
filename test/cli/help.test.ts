// `webkvm help NAME` gives each command's own usage, through the real command.
import { describe, expect, it } from 'vitest';
import { webkvm } from './helpers.ts';

const COMMANDS = ['run', 'asm', 'disasm', 'torture', 'stat', 'events', 'hostmem', 'explain', 'migrate', 'race', 'guests', 'bench'];

describe('webkvm help', () => {
  it('lists every command in the general text', () => {
    const r = webkvm(['help']);
    expect(r.status).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  webkvm ${c}\\b`, 'm'));
  });

  it.each(COMMANDS)('help %s prints that command\'s usage, not the general text', (c) => {
    const r = webkvm(['help', c]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: webkvm ${c}\\b`));
  });

  it('an unknown command name prints the general text and exits 125', () => {
    for (const name of ['nope', 'toString']) {
      const r = webkvm(['help', name]);
      expect(r.status).toBe(125);
      expect(r.stdout).toMatch(/^webkvm: a RISC-V VM/);
    }
  });
});
