// Guest parameters: the `.word` data a built-in guest documents as patchable
// (Guest.params), set in its assembly source before it is assembled. Patching
// the source rather than guest memory keeps the values across a VM reset,
// which reloads the program image.
import { KvmError } from '../kvm/errors.ts';
import { findGuest } from './index.ts';

/** `name: .word N` at the start of a line; N is a decimal or 0x number. */
function wordLine(name: string): RegExp {
  return new RegExp(`^(${name}:[ \\t]*\\.word[ \\t]+)(-?(?:0x[0-9a-fA-F]+|\\d+))`, 'm');
}

/** The value a guest's source gives parameter `name`, or undefined if it has no such word. */
export function guestParamDefault(source: string, name: string): number | undefined {
  const m = wordLine(name).exec(source);
  return m ? Number(m[2]) | 0 : undefined;
}

/**
 * `source` of built-in guest `guest` with each parameter set. EINVAL, naming
 * the guest and parameter, for a parameter the guest does not document or a
 * value that is not a 32-bit integer; nothing is patched then.
 */
export function withGuestParams(guest: string, source: string, params: Record<string, number>): string {
  const known = findGuest(guest)?.params ?? {};
  let out = source;
  for (const [name, value] of Object.entries(params)) {
    if (!Object.hasOwn(known, name)) {
      const have = Object.keys(known);
      throw new KvmError('EINVAL', `guest ${guest}: no parameter '${name}' (${have.length ? `has: ${have.join(', ')}` : 'it has none'})`);
    }
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 32) {
      throw new KvmError('EINVAL', `guest ${guest}: ${name} = ${String(value)} is not a 32-bit integer`);
    }
    const re = wordLine(name);
    if (!re.test(out)) throw new KvmError('EINVAL', `guest ${guest}: parameter '${name}' is not a '.word' in its source`);
    out = out.replace(re, `$1${value >>> 0}`);
  }
  return out;
}
