// Guest parameters patched into the source: the default is read back, the new
// value lands in the assembled image, and bad names or values are EINVAL.
import { describe, expect, it } from 'vitest';
import { guestParamDefault, withGuestParams } from '../../src/guests/params.ts';
import { guestInclude, loadGuestSource } from '../../src/guests/index.ts';
import { assemble } from '../../src/asm/assembler.ts';
import { readElf, writeElf } from '../../src/asm/elf.ts';

describe('guest parameters', () => {
  it('reads the default and patches the word the guest reads', async () => {
    const src = await loadGuestSource('dirty');
    expect(guestParamDefault(src, 'max_iterations')).toBe(3);
    const patched = withGuestParams('dirty', src, { max_iterations: 0, pattern: 2 });
    expect(guestParamDefault(patched, 'max_iterations')).toBe(0);
    expect(guestParamDefault(patched, 'pattern')).toBe(2);
    const elf = readElf(writeElf(assemble(patched, 'dirty.S', { include: guestInclude })), 'dirty.elf');
    const addr = elf.symbols.get('pattern');
    expect(addr).toBeDefined();
    const seg = elf.segments.find((s) => addr! >= s.paddr && addr! < s.paddr + s.data.length)!;
    const at = addr! - seg.paddr;
    expect(new DataView(seg.data.buffer, seg.data.byteOffset).getUint32(at, true)).toBe(2);
  });

  it('refuses unknown parameters and values that are not 32-bit integers', async () => {
    const src = await loadGuestSource('dirty');
    expect(() => withGuestParams('dirty', src, { nope: 1 })).toThrow(/guest dirty: no parameter 'nope' \(has: pages_per_vcpu/);
    expect(() => withGuestParams('dirty', src, { pattern: 1.5 })).toThrow(/pattern = 1.5 is not a 32-bit integer/);
    const hello = await loadGuestSource('hello');
    expect(() => withGuestParams('hello', hello, { x: 1 })).toThrow(/it has none/);
  });
});
