// A read position in one statement's tokens, with the "expected X, found Y"
// error helpers every parser in the assembler uses.

import { AsmError, quote } from './errors.ts';
import type { Token } from './lexer.ts';

/** How a token is shown in a message. */
export function tokenText(tok: Token): string {
  if (tok.kind === 'str') return JSON.stringify(tok.text);
  if (tok.kind === 'macroarg') return '\\' + tok.text;
  return tok.text;
}

export class Cursor {
  private i = 0;

  constructor(readonly toks: readonly Token[]) {}

  peek(ahead = 0): Token {
    return this.toks[Math.min(this.i + ahead, this.toks.length - 1)];
  }

  next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  get index(): number {
    return this.i;
  }

  set index(i: number) {
    this.i = i;
  }

  atEnd(): boolean {
    return this.peek().kind === 'eos';
  }

  isOp(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === 'op' && t.text === text;
  }

  eatOp(text: string): boolean {
    if (!this.isOp(text)) return false;
    this.next();
    return true;
  }

  expectOp(text: string): Token {
    if (!this.isOp(text)) this.fail(`'${text}'`);
    return this.next();
  }

  expectEnd(): void {
    if (!this.atEnd()) this.fail('end of line');
  }

  /** Throw "expected <what>, found <next token>" at the next token. */
  fail(what: string, at: Token = this.peek()): never {
    throw new AsmError(at.pos, `expected ${what}, found ${quote(tokenText(at))}`);
  }

  /** The rest of the statement (for directives that are accepted and ignored). */
  skipRest(): void {
    while (!this.atEnd()) this.next();
  }
}
