// The UI's one import rule (docs/design.md, "What the UI may import"): src/ui
// may import values only from the src/kvm modules that hold the shared-memory
// ABI — constants and pure readers — and import nothing; types it may import
// from any src/kvm module, but only by `import type` / `export type ... from`,
// which the build erases whole. `import { type A, B }` is a value import, and
// so is `import { type A }` (with verbatimModuleSyntax it would keep the bare
// import of the module). This scans the source text of every src/ui file, so a
// new value import of, say, src/kvm/mmu.ts fails here instead of dragging the
// hypervisor into the page.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The ABI modules, relative to the repository root. */
const ALLOWED = ['src/kvm/fields.ts', 'src/kvm/event-format.ts', 'src/kvm/bitops.ts'];

interface Import {
  spec: string;
  /** `import type ...` or `export type ... from`: erased by the build, loads nothing. */
  typeOnly: boolean;
}

/** A whole statement is type-only (`import type T from` too; `import type from` imports a value named type). */
const TYPE_ONLY = /^\s*(?:import|export)\s+type(?:\s*[{*]|\s+[A-Za-z_$][\w$]*\s+from\b)/;

/** Every import in `src`: static import / export ... from, bare import, dynamic import(), require(). */
function imports(src: string): Import[] {
  const out: Import[] = [];
  for (const m of src.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm)) {
    out.push({ spec: m[1]!, typeOnly: TYPE_ONLY.test(m[0]) });
  }
  const valuePatterns = [
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of valuePatterns) for (const m of src.matchAll(re)) out.push({ spec: m[1]!, typeOnly: false });
  return out;
}

/** Every module specifier in `src`, type-only or not. */
function importSpecifiers(src: string): string[] {
  return imports(src).map((i) => i.spec);
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** The repository-relative paths under `dir` (e.g. 'src/kvm/') that `file` imports; `values`: leave out type-only ones. */
function importsUnder(file: string, dir: string, values = false): string[] {
  return imports(readFileSync(file, 'utf8'))
    .filter((i) => i.spec.startsWith('.') && !(values && i.typeOnly))
    .map((i) => relative(ROOT, resolve(dirname(file), i.spec)).split('\\').join('/'))
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

  it('tells type-only imports from value imports', () => {
    const src = [
      "import type { A } from './type-named.ts';",
      "import type * as K from './type-ns.ts';",
      "import type D from './type-default.ts';",
      "export type { E } from './type-reexport.ts';",
      "export type * from './type-star.ts';",
      "import { type F, G } from './mixed.ts';",
      "import { type H } from './inline-type-only.ts';",
      "import type from './default-named-type.ts';",
      "import { I } from './value.ts';",
      "export { J } from './value-reexport.ts';",
      "import './bare.ts';",
      "const m = await import('./dynamic.ts');",
    ].join('\n');
    const values = imports(src).filter((i) => !i.typeOnly).map((i) => i.spec).sort();
    expect(values).toEqual([
      './bare.ts', './default-named-type.ts', './dynamic.ts', './inline-type-only.ts', './mixed.ts', './value-reexport.ts', './value.ts',
    ]);
    expect(imports(src)).toHaveLength(12);
  });

  it('values only from the ABI modules, and the UI does use them (so the scan is not vacuous)', () => {
    const seen = new Set<string>();
    const bad: string[] = [];
    for (const file of tsFiles(join(ROOT, 'src/ui'))) {
      for (const p of importsUnder(file, 'src/kvm/', true)) {
        seen.add(p);
        if (!ALLOWED.includes(p)) bad.push(`${relative(ROOT, file)} imports values from ${p}`);
      }
    }
    expect(bad).toEqual([]);
    expect([...seen].sort()).toEqual([...ALLOWED].sort());
  });

  it('nothing the page loads reaches other hypervisor code, following value imports through every folder', () => {
    // The page also loads src/guests (the program picker), which throws the project's errno
    // error class: src/kvm/errors.ts imports nothing and holds no hypervisor state.
    const pageMayLoad = [...ALLOWED, 'src/kvm/errors.ts'];
    const rel = (abs: string) => relative(ROOT, abs).split('\\').join('/');
    const uiFiles = tsFiles(join(ROOT, 'src/ui')).map(rel);
    const seen = new Set<string>();
    const todo = [...uiFiles];
    while (todo.length > 0) {
      const p = todo.pop()!;
      if (seen.has(p) || !p.endsWith('.ts')) continue;
      seen.add(p);
      for (const i of imports(readFileSync(join(ROOT, p), 'utf8'))) {
        if (!i.typeOnly && i.spec.startsWith('.')) todo.push(rel(resolve(ROOT, dirname(p), i.spec.split('?')[0]!)));
      }
    }
    const kvm = [...seen].filter((p) => p.startsWith('src/kvm/'));
    expect(kvm.filter((p) => !pageMayLoad.includes(p))).toEqual([]);
    expect(seen.size).toBeGreaterThan(uiFiles.length); // it did follow imports out of src/ui
    expect(kvm.length).toBeGreaterThan(0);
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
