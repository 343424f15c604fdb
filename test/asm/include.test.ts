// .include "path": files read through AsmOptions.include, errors located in
// the file they are in, and the line map staying about the main file.
import { describe, expect, it } from 'vitest';
import { assemble, AsmError, type IncludeResolver } from '../../src/asm/assembler.ts';
import { asmWords, words } from './helpers.ts';

/** A resolver over an in-memory folder; names are the paths as written. */
const files = (tree: Record<string, string>): IncludeResolver => (path) =>
  Object.hasOwn(tree, path) ? { file: path, text: tree[path] } : undefined;

const errorOf = (src: string, include?: IncludeResolver): string => {
  try {
    assemble(src, 'main.S', { include });
  } catch (e) {
    if (e instanceof AsmError) return e.message;
    throw e;
  }
  throw new Error('expected an AsmError, but the source assembled');
};

describe('.include', () => {
  it('assembles the included text in place, with its symbols, macros and nested includes', () => {
    const include = files({
      'lib/a.S': '.equ K, 5\n.macro twice r\n addi \\r, \\r, K\n addi \\r, \\r, K\n.endm\n.include "lib/b.S"\n',
      'lib/b.S': 'from_b: li a1, 7\n',
    });
    const r = assemble('li a0, 1\n.include "lib/a.S"\ntwice a0\nj from_b\n', 'main.S', { base: 0, include });
    expect(words(r, '.text')).toEqual(asmWords('li a0, 1\nfrom_b: li a1, 7\naddi a0, a0, 5\naddi a0, a0, 5\nj from_b'));
    expect(r.symbols.get('from_b')?.value).toBe(4);
  });

  it('passes the including file to the resolver', () => {
    const seen: [string, string][] = [];
    const include: IncludeResolver = (path, from) => {
      seen.push([path, from]);
      return path === 'x.S' ? { file: 'dir/x.S', text: '.include "y.S"\n' } : { file: 'dir/y.S', text: 'nop\n' };
    };
    assemble('.include "x.S"\n', 'main.S', { include });
    expect(seen).toEqual([['x.S', 'main.S'], ['y.S', 'dir/x.S']]);
  });

  it('is skipped inside a false .if', () => {
    expect(asmWords('.if 0\n.include "nowhere.S"\n.endif\nnop')).toEqual(asmWords('nop'));
  });

  it('names a missing file at the directive', () => {
    expect(errorOf('nop\n  .include "lib/nope.S"\n', files({}))).toBe('main.S:2:12: expected a file "lib/nope.S" to include, found none');
  });

  it('is an error without a resolver', () => {
    expect(errorOf('.include "lib/console.S"\n')).toBe(
      `main.S:1:10: expected no .include in a self-contained source (no include path was given), found '.include "lib/console.S"'`,
    );
  });

  it('stops an include cycle with a clear message', () => {
    const msg = errorOf('.include "a.S"\n', files({ 'a.S': '.include "b.S"\n', 'b.S': 'nop\n.include "a.S"\n' }));
    expect(msg).toMatch(/^[ab]\.S:\d+:10: expected \.include nested at most 16 deep, found deeper at "[ab]\.S" \(a file that includes itself\?\) \(in \.include at [ab]\.S:\d+:1\)$/);
  });

  it('locates an error inside an included file there, and says where it was included', () => {
    const include = files({ 'lib/bad.S': 'nop\n  addi a0, a0\n' });
    expect(errorOf('nop\n\n.include "lib/bad.S"\n', include)).toBe(
      "lib/bad.S:2:14: expected ',', found end of line (in .include at main.S:3:1)",
    );
  });

  it('maps code from an included file to the line of its .include in the line map', () => {
    const include = files({ 'lib/two.S': '# two instructions\nnop\nnop\n' });
    const r = assemble('nop\n.include "lib/two.S"\nnop\n', 'main.S', { include });
    expect([...r.lines]).toEqual([
      [0x8000_0000, 1],
      [0x8000_0004, 2],
      [0x8000_0008, 2],
      [0x8000_000c, 3],
    ]);
  });
});
