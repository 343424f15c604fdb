// Where the UI finds live figures in the `hv` SharedArrayBuffer.
//
// THE ONE PLACE TO ALIGN WITH src/kvm's real layout. The rule
// (docs/design.md, "What the UI may import"): the UI may import values only
// from the src/kvm modules that hold only the shared-memory ABI — constants
// and pure readers — and import nothing (fields.ts, event-format.ts,
// bitops.ts); types
// from any src/kvm module, by `import type` only (erased by the build).
// test/ui/ui-imports.test.ts enforces it. Numbers from those two modules are
// re-exported here, so the UI reads the hypervisor's own and cannot drift;
// the few that live elsewhere (region names, MAX_VCPUS and PAGE_WORDS of
// shm.ts, the vCPU block of vcpu-ctl.ts, the console ring of
// src/devices/console-ring.ts) are written out, and
// test/ui/shared-layout-kvm.test.ts compares them with the originals.
// Regions come from VmHandles.layout: { offset: BYTE offset into hv (4-aligned),
// words: length in 32-bit words }.

/** Byte size of one layout word. `offset` is in bytes, `words` counts words. */
export const WORD_BYTES = 4;

// ── Per-vCPU block: region 'vcpu', one fixed-stride block per vCPU ─────────────
export const REGION_VCPU = 'vcpu';
/** Words per vCPU block; vCPU n starts at word n * VCPU_STRIDE_WORDS of the region. */
export const VCPU_STRIDE_WORDS = 96; // = VCPU_STRIDE in src/kvm/vcpu-ctl.ts
/**
 * Retired-instruction counter as a little-endian uint32 pair (lo, hi), written
 * only by that vCPU's worker. Monotonic while the VM lives; back to 0 on reset.
 */
export const VCPU_INSTRET_LO = 0;
export const VCPU_INSTRET_HI = 1;

// ── Byte rings (UART): regions 'console-out' and 'console-in' ──────────────────
// Single producer, single consumer, Linux circ_buf naming:
//   word 0 HEAD    bytes written so far by the producer (free-running uint32)
//   word 1 TAIL    bytes consumed so far by the consumer (free-running uint32)
//   word 2 SIZE    capacity of the data area in bytes, a power of two
//   word 3 DROPPED bytes the producer threw away because the ring was full
//   then   SIZE data bytes; byte for counter c lives at DATA + (c & (SIZE - 1)).
// Fill level is (HEAD - TAIL) >>> 0, so full and empty are told apart without a
// spare slot. Producer: write bytes, then Atomics.store(HEAD). Consumer:
// Atomics.load(HEAD), copy bytes, then Atomics.store(TAIL).
//   console-out: the UART (vCPU worker) produces, the UI consumes each frame.
//   console-in:  the UI produces keystrokes, the UART consumes; after each
//                publish the UI does Atomics.notify on the HEAD word, so a
//                consumer may sleep on it (Atomics.wait(hv32, HEAD, oldHead)).
export const REGION_CONSOLE_OUT = 'console-out';
export const REGION_CONSOLE_IN = 'console-in';
export const RING_HEAD = 0;
export const RING_TAIL = 1;
export const RING_SIZE = 2;
export const RING_DROPPED = 3;
export const RING_HEADER_WORDS = 4;

// ── Memslots, dirty bitmaps, gfn->pfn: regions 'memslots', 'dirty-bitmap', 'gfn-table' ──
// Re-exported from src/kvm/fields.ts.
//   memslots:     KVM_MEM_SLOTS_NUM records of MEMSLOT_WORDS words; slot s at s * MEMSLOT_WORDS
//   dirty-bitmap: slot s owns words [DIRTY_BASE, DIRTY_BASE + ceil(NPAGES / 32)); bit i = page i
//                 (set by markPageDirty with an atomic OR; the UI only reads it)
//   gfn-table:    slot s owns words [TABLE_BASE, TABLE_BASE + NPAGES): 0 = never backed,
//                 else host pfn << 12 | HOST_PTE_* flags
export {
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_SLOTS_NUM,
  MEMSLOT_BASE_GFN,
  MEMSLOT_DIRTY_BASE,
  MEMSLOT_FLAGS,
  MEMSLOT_NPAGES,
  MEMSLOT_TABLE_BASE,
  MEMSLOT_WORDS,
} from '../kvm/fields.ts';
export const REGION_MEMSLOTS = 'memslots';
export const REGION_DIRTY_BITMAP = 'dirty-bitmap';
export const REGION_GFN_TABLE = 'gfn-table';
/** A guest page is 4 KiB; a gfn-table word keeps the host pfn above bit 12. */
export const PAGE_SHIFT = 12;

// ── The live panels' view of KVM: event ring, kvm_stat counters, locks ─────────
/** shm.ts MAX_VCPUS: lanes and per-vCPU series never exceed this. */
export const MAX_VCPUS = 8;

// Region 'events': the multi-producer event ring (src/kvm/event-format.ts).
// Header words, then EV_CAPACITY records of EV_RECORD_WORDS. A record is
// complete when its EV_SEQ word holds ticket + 1; a reader loads EV_SEQ, the
// payload, then EV_SEQ again and keeps the record only if both gave ticket + 1.
export const REGION_EVENTS = 'events';
export {
  EV_A, EV_B, EV_C, EV_CAPACITY, EV_DIRTY_COLLECT, EV_DISABLED, EV_FAST_PF_FAILED, EV_FAST_PF_FIXED,
  EV_FLUSH_CAUSE_MASK, EV_FLUSH_SKIP_SHIFT, EV_GUEST_FAULT, EV_HDR_WORDS, EV_HEAD, EV_LOCK_CONTENDED, EV_MASK,
  EV_RECORD_WORDS, EV_SEQ, EV_SLOW_PF, EV_TIME_HI, EV_TIME_LO, EV_TLB_FLUSH, EV_TYPE, EV_TYPE_NAMES, EV_VCPU,
  EV_WRITE_PROTECT, EV_ZAP,
} from '../kvm/event-format.ts';

// Re-exported from src/kvm/fields.ts:
//   'kvm-vcpu':  KVCPU_WORDS per vCPU. Counters are uint32 written only by that
//                vCPU; read them with `>>> 0`, deltas with `(a - b) >>> 0`.
//   'kvm-stats': VM-wide counters STAT_*; flushes by cause at word
//                STAT_FLUSH_CAUSE + FLUSH_CAUSE_*.
//   'locks':     LOCK_SLOTS records of LOCK_WORDS (locks.ts). The statistics are
//                written by the holder only; *_LO/*_HI are uint64 halves.
//                LOCK_OWNER: vCPU n is n + 1; the VMM thread is KVM_OWNER_VMM.
export const REGION_KVM_VCPU = 'kvm-vcpu';
export const REGION_KVM_STATS = 'kvm-stats';
export const REGION_LOCKS = 'locks';
export {
  FLUSH_CAUSE_DIRTY_LOG, FLUSH_CAUSE_MMU_NOTIFIER, FLUSH_CAUSE_NAMES, FLUSH_CAUSE_REMOTE_FENCE,
  FLUSH_CAUSE_SP_WRITE_PROTECT, FLUSH_CAUSE_SPTE_UPDATE, FLUSH_CAUSE_ZAP, FLUSH_CAUSES,
  KVCPU_MODE, KVCPU_STAT_FAST_PF_FAILED, KVCPU_STAT_FAST_PF_FIXED, KVCPU_STAT_FAST_PF_SPURIOUS,
  KVCPU_STAT_FAST_PF_TO_SLOW, KVCPU_STAT_MMIO_EXITS, KVCPU_STAT_PF_EMULATE, KVCPU_STAT_PF_FIXED,
  KVCPU_STAT_PF_GUEST, KVCPU_STAT_TLB_FLUSH, KVCPU_STAT_TLB_MISS, KVCPU_WORDS,
  KVM_LOCK, KVM_OWNER_VMM, LOCK_ACQUIRED, LOCK_CONTENDED, LOCK_HOLD_NS_HI, LOCK_HOLD_NS_LO, LOCK_MAX_HOLD_NS,
  LOCK_MAX_WAIT_NS, LOCK_NAMES, LOCK_OWNER, LOCK_SLOTS, LOCK_STATE, LOCK_WAIT_NS_HI, LOCK_WAIT_NS_LO, LOCK_WORDS,
  MMU_LOCK,
  STAT_FLUSH_CAUSE, STAT_FLUSH_IPIS, STAT_FLUSH_WAIT_US_MAX, STAT_FLUSH_WAIT_US_TOTAL, STAT_REMOTE_TLB_FLUSH,
} from '../kvm/fields.ts';

// ── Host memory and shadow pages: host-memory and mmu-explorer panels ─────────
// Re-exported from src/kvm/fields.ts, like the memslot block above.
//   gfn-table word:  HOST_PTE_PRESENT (resident; + HOST_PTE_WRITABLE unless KSM
//                    shared it read-only), HOST_PTE_SWAPPED (bits 12-31 = swap slot)
//   'swap-map':      header words SWAP_* and HOSTOP_* (counters, Atomics.add by the
//                    VMM and by faulting vCPUs), then the slot bitmap
//   'swap':          PAGE_WORDS words per swap slot (slots = words / 1024)
//   'kvm':           KVM_MMU_NOTIFIER_SEQ (bumped at each invalidate_range_end),
//                    KVM_POOL_FREE_COUNT (free host pages)
//   'kvm-stats':     STAT_NOTIFIER_INVALIDATE (mmu notifier invalidations)
//   'sp-meta':       SP_META_WORDS per shadow page; in use if SP_FLAGS has
//                    SP_FLAG_IN_USE; SP_ROLE has ROLE_DIRECT / ROLE_INVALID
export {
  HOST_PTE_PRESENT,
  HOST_PTE_SWAPPED,
  HOST_PTE_WRITABLE,
  HOSTOP_KSM_COW_COPIES,
  HOSTOP_KSM_COW_REUSES,
  HOSTOP_KSM_MERGES,
  HOSTOP_MIGRATIONS,
  KVM_MMU_NOTIFIER_SEQ,
  KVM_POOL_FREE_COUNT,
  ROLE_DIRECT,
  ROLE_INVALID,
  SP_FLAG_IN_USE,
  SP_FLAGS,
  SP_META_WORDS,
  SP_ROLE,
  STAT_NOTIFIER_INVALIDATE,
  SWAP_INS,
  SWAP_OUTS,
  SWAP_USED,
} from '../kvm/fields.ts';
export const REGION_SWAP_MAP = 'swap-map';
export const REGION_SWAP = 'swap';
export const REGION_KVM = 'kvm';
export const REGION_SP_META = 'sp-meta';
export const REGION_PFN_REFCOUNT = 'pfn-refcount';
/** Words per 4 KiB page (a swap slot, a shadow page). */
export const PAGE_WORDS = 1024;
