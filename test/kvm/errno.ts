import { KvmError } from '../../src/kvm/errors.ts';

/** The errno a call throws (KvmError.code), or 'ok'; any other exception propagates. */
export function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof KvmError) return e.code;
    throw e;
  }
  return 'ok';
}
