// Assembler diagnostics. Every problem in a source file becomes one AsmError
// whose message starts with `file:line:column:` (the form editors and
// compilers use, so terminals and the program editor can jump to it) and then
// says what was expected and what was found.

import { KvmError } from '../kvm/errors.ts';

/** A place in a source file; line and column are 1-based. */
export interface SrcPos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Set for text produced by a macro expansion: "macro 'M' used at line 12". */
  readonly via?: string;
}

export class AsmError extends KvmError {
  /** The text after `file:line:column: `. */
  readonly detail: string;

  constructor(readonly pos: SrcPos, detail: string) {
    super('EINVAL', detail);
    this.name = 'AsmError';
    this.detail = detail;
    // KvmError prefixes the errno name; an assembler message is a source
    // location first, as the brief for the asm tools requires. `code` and
    // `errno` still say EINVAL for scripts.
    this.message = `${formatPos(pos)}: ${detail}${pos.via === undefined ? '' : ` (in ${pos.via})`}`;
  }
}

export function formatPos(pos: SrcPos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

/** Quote a piece of source text for a message; end of statement is named as such. */
export function quote(text: string): string {
  return text === '' ? 'end of line' : `'${text}'`;
}
