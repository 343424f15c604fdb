// A built-in guest assembled to a loadable image, with some of its global
// words patched (iterations, pages_per_vcpu...), as a host would poke them
// into guest memory before the guest starts.
import { assemble } from '../src/asm/assembler.ts';
import { readElf, writeElf } from '../src/asm/elf.ts';
import { guestInclude, loadGuestSource } from '../src/guests/index.ts';
import type { LoadImage } from '../src/kvm/loader.ts';

export async function guestImage(guest: string, patches: Record<string, number>): Promise<LoadImage> {
  const elf = readElf(writeElf(assemble(await loadGuestSource(guest), `${guest}.S`, { include: guestInclude })), `${guest}.S`);
  const segments = elf.segments.map((s) => ({ paddr: s.paddr, data: s.data.slice(), memsz: s.memsz }));
  for (const [name, value] of Object.entries(patches)) {
    const at = elf.symbols.get(name);
    if (at === undefined) throw new Error(`${guest}: no '${name}' symbol to patch`);
    const seg = segments.find((s) => at >= s.paddr && at + 4 <= s.paddr + s.data.length);
    if (!seg) throw new Error(`${guest}: '${name}' is not in a loaded segment`);
    new DataView(seg.data.buffer).setUint32(at - seg.paddr, value >>> 0, true);
  }
  return { entry: elf.entry, segments, symbols: elf.symbols };
}
