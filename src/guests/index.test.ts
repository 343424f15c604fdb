// The built-in guests: the list matches the folder, the sources (and the
// library they include) obey the rules our assembler and the VM rely on, they
// assemble, and the plain-Node way of reading them (the CLI) returns the same
// text as Vite's bundling.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assemble } from '../asm/assembler.ts';
import { KvmError } from '../kvm/errors.ts';
import { GUESTS, GUEST_SOURCE_MODE, findGuest, guestInclude, loadGuestSource } from './index.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const onDisk = (file: string): string => readFileSync(dir + file, 'utf8');
const libFiles = (): string[] => readdirSync(dir + 'lib').filter((f) => f.endsWith('.S')).map((f) => `lib/${f}`).sort();

describe('GUESTS', () => {
  it('lists every .S file in src/guests, once, with unique names', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.S')).sort();
    const used = [...new Set(GUESTS.map((g) => `${g.name.replace(/-sv32$/, '')}.S`))].sort();
    expect(used).toEqual(files);
    expect(new Set(GUESTS.map((g) => g.name)).size).toBe(GUESTS.length);
  });

  it('serves each file verbatim (Vite ?raw glob), compute-sv32 differing only in use_paging', () => {
    expect(GUEST_SOURCE_MODE).toBe('bundled'); // Vitest runs the import.meta.glob transform
    for (const g of GUESTS) {
      if (g.name === 'compute-sv32') continue;
      expect(g.source, g.name).toBe(onDisk(`${g.name}.S`));
    }
    const plain = findGuest('compute')!.source.split('\n');
    const sv32 = findGuest('compute-sv32')!.source.split('\n');
    const diff = plain.flatMap((l, i) => (l === sv32[i] ? [] : [[l, sv32[i]]]));
    expect(diff).toHaveLength(1);
    expect(diff[0]![0]).toMatch(/^use_paging:\s*\.word\s+0\b/);
    expect(diff[0]![1]).toMatch(/^use_paging:\s*\.word\s+1\b/);
  });

  it('keeps to the rules: no C preprocessor, no .macro, no RVC, no tohost, an explained header', () => {
    for (const g of GUESTS) {
      const src = g.source;
      expect(src.startsWith(`# ${g.name.replace(/-sv32$/, '')}.S - `), g.name).toBe(true);
      expect(src, g.name).toMatch(/^\s*\.option norvc\s*$/m);
      expect(src, g.name).not.toMatch(/^\s*#\s*(include|define|if|ifdef)\b/m);
      expect(src, g.name).not.toMatch(/^\s*\.macro\b/m);
      expect(src, g.name).not.toMatch(/\btohost\b/); // would make the loader boot it in M-mode
      expect(g.vcpus).toBeGreaterThanOrEqual(1);
      expect(g.expect.lines(g.vcpus).length).toBeGreaterThan(0);
    }
    for (const file of libFiles()) {
      const src = onDisk(file);
      expect(src.startsWith(`# ${file} - `), file).toBe(true);
      expect(src, file).not.toMatch(/^\s*#\s*(include|define|if|ifdef)\b/m);
      expect(src, file).not.toMatch(/^\s*\.(macro|option|text|data|section)\b/m); // the includer chooses those
      expect(src, file).not.toMatch(/\btohost\b/);
    }
  });

  it('serves the library through guestInclude (lib/NAME.S only), and every file of it is used', () => {
    for (const file of libFiles()) expect(guestInclude(file, 'x.S'), file).toEqual({ file, text: onDisk(file) });
    expect(guestInclude('lib/nope.S', 'x.S')).toBeUndefined();
    expect(guestInclude('hello.S', 'x.S')).toBeUndefined();
    expect(guestInclude('lib/../hello.S', 'x.S')).toBeUndefined();
    // Followed through nested includes (lib/dirty-core.S includes the routines it calls).
    const includes = (text: string): string[] => [...text.matchAll(/^\s*\.include\s+"([^"]+)"/gm)].map((m) => m[1]!);
    const included = new Set<string>();
    const todo = GUESTS.flatMap((g) => includes(g.source));
    while (todo.length > 0) {
      const f = todo.pop()!;
      if (included.has(f)) continue;
      included.add(f);
      todo.push(...includes(onDisk(f)));
    }
    expect([...included].sort()).toEqual(libFiles());
  });

  it('assembles every guest with our assembler, at 0x80000000 and at another base', () => {
    for (const g of GUESTS) {
      for (const base of [0x8000_0000, 0x8040_0000]) {
        const r = assemble(g.source, `${g.name}.S`, { base, include: guestInclude });
        expect(r.entry, g.name).toBe(base); // _start is the first instruction
        expect(r.sections.map((s) => s.name), g.name).toEqual(['.text']);
        for (const sym of Object.keys(g.params)) expect(r.symbols.get(sym)?.global, `${g.name}: ${sym}`).toBe(true);
      }
    }
  });

  it('loadGuestSource returns the source, and names the choices for an unknown guest', async () => {
    await expect(loadGuestSource('smp')).resolves.toBe(onDisk('smp.S'));
    const err = await loadGuestSource('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvmError);
    expect((err as KvmError).code).toBe('ENOENT');
    expect((err as Error).message).toContain('hello, hello-irq');
  });

  it('reads the same sources under plain Node (tsx, no Vite transform), as the CLI does', () => {
    const script =
      "const m = await import(process.argv[1]);" +
      "const out = { mode: m.GUEST_SOURCE_MODE }; for (const g of m.GUESTS) out[g.name] = g.source;" +
      "for (const f of process.argv.slice(2)) out[f] = m.guestInclude(f, 'x.S')?.text;" +
      "process.stdout.write(JSON.stringify(out));";
    const json = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, fileURLToPath(new URL('./index.ts', import.meta.url)), ...libFiles()],
      { encoding: 'utf8', maxBuffer: 16 << 20 },
    );
    const fromNode = JSON.parse(json) as Record<string, string>;
    expect(fromNode.mode).toBe('fs');
    for (const g of GUESTS) expect(fromNode[g.name], g.name).toBe(g.source);
    for (const file of libFiles()) expect(fromNode[file], file).toBe(onDisk(file));
  });
});
