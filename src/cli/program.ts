// Reading what the user asked to run: an ELF file, an assembly file, or the
// name of a built-in guest. Assembly is assembled in memory; every problem
// becomes a KvmError naming the file (and line:column for assembly).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { assemble, type IncludeResolver } from '../asm/assembler.ts';
import { writeElf, readElf } from '../asm/elf.ts';
import { KvmError } from '../kvm/errors.ts';
import { GUESTS, guestInclude } from '../guests/index.ts';
import { guestElf } from '../guests/build.ts';
import { UsageError } from './args.ts';

export interface ProgramBytes {
  name: string;
  elf: Uint8Array;
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

function isElf(b: Uint8Array): boolean {
  return ELF_MAGIC.every((m, i) => b[i] === m);
}

/**
 * `.include "path"` for the source file `srcPath` on disk (known as `name` in
 * messages): a file relative to the including file's folder, as GNU as looks
 * first, else the built-in guest library (lib/NAME.S, see src/guests/index.ts).
 * Included files are named by their path from the current directory.
 */
export function diskInclude(srcPath: string, name: string): IncludeResolver {
  const dirs = new Map([[name, dirname(srcPath)]]);
  return (path, from) => {
    const full = resolve(dirs.get(from) ?? dirname(srcPath), path);
    if (!existsSync(full) || !statSync(full).isFile()) return guestInclude(path, from);
    const file = relative(process.cwd(), full);
    dirs.set(file, dirname(full));
    return { file, text: readFileSync(full, 'utf8') };
  };
}

/**
 * The program `arg` names, as ELF bytes. `params` (from --param) set a built-in
 * guest's documented words in its source (src/guests/params.ts); they are a
 * usage error for a file.
 */
export async function readProgram(arg: string, params: [string, number][] = []): Promise<ProgramBytes> {
  if (!existsSync(arg) && GUESTS.some((g) => g.name === arg)) {
    return { name: `${arg}.S`, elf: await guestElf(arg, Object.fromEntries(params)) };
  }
  if (params.length > 0) throw new UsageError(`--param sets a built-in guest's parameters; '${arg}' is a file (use --set to patch its words)`);
  const name = basename(arg);
  const bytes = new Uint8Array(readFileSync(arg));
  if (/\.(s|S|asm)$/.test(arg)) return { name, elf: writeElf(assemble(new TextDecoder().decode(bytes), name, { include: diskInclude(arg, name) })) };
  if (isElf(bytes)) {
    readElf(bytes, name); // validate now, so a bad file fails before any VM exists
    return { name, elf: bytes };
  }
  throw new KvmError('ENOEXEC', `${name}: not an ELF file (no \\x7fELF magic) and not assembly source (.S/.s)`);
}
