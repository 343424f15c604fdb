// A built-in guest as an ELF image: its source with the parameters the caller
// sets (params.ts), assembled with the guest library (.include "lib/NAME.S").
// The one way the CLI, the VMM worker, the torture loop and the benchmarks
// build a guest, so none of them has to remember the include resolver.
// Not imported by the page: it pulls in the assembler (the VMM worker's).
import { assemble } from '../asm/assembler.ts';
import { writeElf } from '../asm/elf.ts';
import { guestInclude, loadGuestSource } from './index.ts';
import { withGuestParams } from './params.ts';

/** Guest `name` assembled with `params` set in its source (EINVAL for an unknown one, ENOENT for no such guest). */
export async function guestElf(name: string, params: Record<string, number> = {}): Promise<Uint8Array> {
  const source = withGuestParams(name, await loadGuestSource(name), params);
  return writeElf(assemble(source, `${name}.S`, { include: guestInclude }));
}
