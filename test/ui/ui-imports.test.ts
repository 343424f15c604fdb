// The UI's one import rule (docs/design.md, "What the UI may import"): src/ui
// may import the src/kvm modules that hold only the shared-memory ABI —
// constants and pure readers — and import nothing; nothing else from src/kvm.
// This scans the source text of every src/ui file, so a new import of, say,
// src/kvm/mmu.ts fails here instead of dragging the hypervisor into the page.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The ABI modules, relative to the repository root. */
const ALLOWED = ['src/kvm/fields.ts', 'src/kvm/event-format.ts'];

/** Every module specifier in `src`: static import / export ... from, bare import, dynamic import(). */
function importSpecifiers(src: string): string[] {
  const out: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of src.matchAll(re)) out.push(m[1]!);
  return out;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** The repository-relative paths under `dir` (e.g. 'src/kvm/') that `file` imports. */
function importsUnder(file: string, dir: string): string[] {
  return importSpecifiers(readFileSync(file, 'utf8'))
    .filter((s) => s.startsWith('.'))
    .map((s) => relative(ROOT, resolve(dirname(file), s)).split('\\').join('/'))
    .filter((p) => p.startsWith(dir));
}

describe('what src/ui may import from src/kvm', () => {
  it('the scanner sees every form of import', () => {
    expect(importSpecifiers([
      "// import x from 'a-comment'",
      "import { a,",
      "  b } from './one.ts';",
      "import type { T } from '../two.ts';",
      "export { c } from '../../three.ts';",
      "export * from './four.ts';",
      "import './five.css';",
      "const m = await import('./six.ts');",
    ].join('\n')).sort()).toEqual(['../../three.ts', '../two.ts', './five.css', './four.ts', './one.ts', './six.ts']);
  });

  it('only the ABI modules, and the UI does use them (so the scan is not vacuous)', () => {
    const seen = new Set<string>();
    const bad: string[] = [];
    for (const file of tsFiles(join(ROOT, 'src/ui'))) {
      for (const p of importsUnder(file, 'src/kvm/')) {
        seen.add(p);
        if (!ALLOWED.includes(p)) bad.push(`${relative(ROOT, file)} imports ${p}`);
      }
    }
    expect(bad).toEqual([]);
    expect([...seen].sort()).toEqual([...ALLOWED].sort());
  });

  it('what the CLI uses from src/ui (the pre-copy loop) imports nothing, so it cannot pull in the DOM', () => {
    const used = new Set<string>();
    for (const file of tsFiles(join(ROOT, 'src/cli'))) for (const p of importsUnder(file, 'src/ui/')) used.add(p);
    for (const p of used) expect(importSpecifiers(readFileSync(join(ROOT, p), 'utf8')), p).toEqual([]);
  });

  it.each(ALLOWED)('%s imports nothing', (path) => {
    expect(importSpecifiers(readFileSync(join(ROOT, path), 'utf8'))).toEqual([]);
  });
});
