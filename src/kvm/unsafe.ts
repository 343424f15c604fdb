// Protections that can be switched off on purpose, one at a time, so a test,
// `webkvm torture --unsafe NAME` or the race lab can show the loss each one
// prevents. Off by default; one word in region 'kvm', read where the
// protection is applied (never on the interpreter's hot path).
import { KVM_UNSAFE } from './fields.ts';
import { KvmError } from './errors.ts';
import type { VmShared } from './shm.ts';

/**
 * GET_DIRTY_LOG write-protects the collected pages but skips the remote TLB
 * flush (locking.txt: "TLB flushes when an SPTE goes writable -> read-only"):
 * vCPUs keep writable TLB entries and their later writes are never logged.
 */
export const UNSAFE_NO_FLUSH_AFTER_WRPROT = 1 << 0;

export const UNSAFE_NAMES: Record<string, number> = {
  'no-flush': UNSAFE_NO_FLUSH_AFTER_WRPROT,
};

export function kvmUnsafe(vm: VmShared): number {
  return Atomics.load(vm.kvm, KVM_UNSAFE);
}

/** Switch protections off (bits set) or back on (0). */
export function kvmSetUnsafe(vm: VmShared, bits: number): void {
  Atomics.store(vm.kvm, KVM_UNSAFE, bits);
}

export function unsafeBitsByName(name: string): number {
  const bits = UNSAFE_NAMES[name];
  if (bits === undefined) {
    throw new KvmError('EINVAL', `unknown protection '${name}'; known: ${Object.keys(UNSAFE_NAMES).join(', ')}`);
  }
  return bits;
}
