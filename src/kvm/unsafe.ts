// Protections that can be switched off on purpose, one at a time, so a test,
// `webkvm torture --unsafe NAME`, the app's Torture panel or the race lab can
// show the loss each one prevents. Off by default; one word in region 'kvm'
// (KVM_UNSAFE), read where the protection is applied: in GET_DIRTY_LOG, the
// fast page fault, the SPTE update primitives and the request path, never on
// the interpreter's hot path. docs/torture.md says what each one removes.
import { KVM_UNSAFE } from './fields.ts';
import { KvmError } from './errors.ts';
import type { VmShared } from './shm.ts';

/**
 * GET_DIRTY_LOG write-protects the collected pages but skips the remote TLB
 * flush (locking.txt: "TLB flushes when an SPTE goes writable -> read-only"):
 * vCPUs keep writable TLB entries and their later writes are never logged.
 */
export const UNSAFE_NO_FLUSH_AFTER_WRPROT = 1 << 0;

/**
 * fastPageFault also fixes SPTEs of *indirect* shadow pages, with no pin of
 * the gfn and no check that it still maps the same pfn (§2.4): the cmpxchg
 * proves the SPTE value unchanged, not the gfn, so after a gfn->pfn ABA the
 * wrong gfn is marked dirty (F2).
 */
export const UNSAFE_INDIRECT_FAST_PF = 1 << 1;

/**
 * mmuSpteUpdate and mmuSpteClearTrackBits change a volatile SPTE with a plain
 * load and store instead of an atomic exchange (§2.5, F4): an A/D bit the
 * "hardware" or a W bit the fast path sets between the two is lost, and with
 * it the host page's dirty mark (F5) or the flush decision.
 */
export const UNSAFE_PLAIN_SPTE_CLEAR = 1 << 2;

/**
 * kvmMakeVcpusRequestMask reads (and kicks) each vCPU's mode *before* it
 * publishes the request (§2.8, T2): a vCPU that enters guest mode in between
 * finds no request at entry, and the requester, having seen it outside guest
 * mode, neither kicks nor waits for it. It keeps its writable TLB entries
 * after the flush has "completed" (I3).
 */
export const UNSAFE_NO_MODE_ORDER = 1 << 3;

/**
 * The slow page fault skips mmu_notifier_retry under mmu_lock (§2.9, T4): a
 * fault that looked its pfn up before (or during) an MMU-notifier
 * invalidation installs it anyway, so an SPTE can map a page the host has
 * since swapped out, migrated or freed. Read only on the slow fault path,
 * once the sequence or count has already said "retry".
 */
export const UNSAFE_NO_NOTIFIER_RETRY = 1 << 4;

/**
 * vcpu_enter_guest checks the requests *before* it stores IN_GUEST_MODE (the
 * vCPU's half of §2.8's handshake, T2): a requester that publishes its request
 * in between reads the mode as OUTSIDE_GUEST_MODE, neither kicks nor waits,
 * and the vCPU runs guest code with the request pending and its stale TLB.
 * Read only on the guest-entry path (requests.ts), which already does atomics.
 */
export const UNSAFE_NO_ENTRY_ORDER = 1 << 5;

/**
 * walk_shadow_page_lockless_begin does not publish READING_SHADOW_PAGE_TABLES
 * (§2.8, F7): a zapper's remote flush sees the walker OUTSIDE_GUEST_MODE, does
 * not wait for it, and frees (and the next fault reuses) the shadow page the
 * walker is still reading. Read only at the start of a lockless walk.
 */
export const UNSAFE_NO_WALK_MODE = 1 << 6;

export const UNSAFE_NAMES: Record<string, number> = {
  'no-flush': UNSAFE_NO_FLUSH_AFTER_WRPROT,
  'indirect-fast': UNSAFE_INDIRECT_FAST_PF,
  'plain-clear': UNSAFE_PLAIN_SPTE_CLEAR,
  'no-mode-order': UNSAFE_NO_MODE_ORDER,
  'no-notifier-retry': UNSAFE_NO_NOTIFIER_RETRY,
  'no-entry-order': UNSAFE_NO_ENTRY_ORDER,
  'no-walk-mode': UNSAFE_NO_WALK_MODE,
};

/** One line per switch: what it removes (for --help and the Torture panel). */
export const UNSAFE_HELP: Record<string, string> = {
  'no-flush': 'GET_DIRTY_LOG write-protects without the remote TLB flush (T1)',
  'indirect-fast': 'fast page fault on indirect shadow pages, no gfn pin (F2, the ABA of §2.4)',
  'plain-clear': 'plain load+store instead of xchg on volatile SPTEs (F4/F5, lost dirty bit)',
  'no-mode-order': 'request published after reading vcpu->mode (T2, missed flush request)',
  'no-notifier-retry': 'slow fault ignores the MMU-notifier seq/count (T4, SPTE maps a freed pfn)',
  'no-entry-order': 'guest entry checks requests before storing IN_GUEST_MODE (T2, missed flush request)',
  'no-walk-mode': 'lockless walk without READING_SHADOW_PAGE_TABLES (F7, shadow page freed under the walker)',
};

/**
 * The switched-off protections. A plain load, not Atomics.load: it is read on
 * every fault and guest entry, changes only when a test or the lab flips a
 * switch (kvmSetUnsafe stores it atomically), and a thread seeing the change a
 * little late is harmless.
 */
export function kvmUnsafe(vm: VmShared): number {
  return vm.kvm[KVM_UNSAFE]!;
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

/** The name of one switch's bit, or '' for 0 (all protections on). */
export function unsafeName(bits: number): string {
  return Object.keys(UNSAFE_NAMES).find((n) => UNSAFE_NAMES[n] === bits) ?? (bits === 0 ? '' : `0x${bits.toString(16)}`);
}
