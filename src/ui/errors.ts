// Turn anything thrown by a control call into one readable sentence.
//
// Users see text, never a stack trace: a KvmError crossing comlink arrives as an
// Error whose message already reads "EINVAL: ..."; a plain { code, message }
// object gets its errno name prefixed; anything else is described generically.

const MAX_LEN = 600;

/** Lines that look like a JS stack frame ("    at f (file:1:2)" or "f@file:1:2"). */
const STACK_LINE = /^\s*at\s|^\s*[\w$.<>]*@\S+:\d+:\d+\s*$/;

export function userMessage(err: unknown, fallback = 'Unexpected error'): string {
  let text: string;
  if (typeof err === 'string') {
    text = err;
  } else if (err && typeof err === 'object') {
    const o = err as { code?: unknown; message?: unknown };
    const message = typeof o.message === 'string' ? o.message : '';
    const code = typeof o.code === 'string' ? o.code : '';
    if (code && message && !message.startsWith(code)) text = `${code}: ${message}`;
    else text = message || code || fallback;
  } else {
    text = fallback;
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !STACK_LINE.test(l));
  const clean = lines.join('\n').trim() || fallback;
  return clean.length > MAX_LEN ? `${clean.slice(0, MAX_LEN - 1)}…` : clean;
}

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/**
 * Find the first "file:line:column" in an assembler message, so the editor can
 * jump there. Accepts an optional errno prefix ("EINVAL: prog.s:3:7: ...").
 */
export function findSourceLocation(message: string): SourceLocation | null {
  const m = /(?:^|\s)([^\s:]+):(\d+):(\d+)(?=:|\s|$)/m.exec(message);
  if (!m) return null;
  return { file: m[1]!, line: Number(m[2]), column: Number(m[3]) };
}
