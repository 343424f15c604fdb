// Word offsets and values of every hypervisor record in `hv` that the shadow
// MMU owns. Constants, a pure reader or two, and no imports: a UI panel (or a
// debugger) can import this file and read the live structures without pulling
// in the hypervisor (docs/design.md, "What the UI may import").
//
// All records are arrays of Int32 words inside the regions listed in shm.ts
// (HV_REGIONS). "region 'x', word N" below means vm.view('x')[N]. Counters are
// uint32 that wrap (read them with `>>> 0`); *_LO/*_HI pairs are uint64 split
// into two uint32 halves (value = hi * 2^32 + (lo >>> 0)).
//
// The SPTE bit layout is in spte.ts (one place for it, as the brief asks).

// ── region 'header' ─────────────────────────────────────────────────────────
// Written once by createVm(); attachVm() rebuilds the layout from it.
export const HV_MAGIC = 0x4b564d68; // "KVMh"
export const HV_VERSION = 1;
export const HDR_MAGIC = 0;
export const HDR_VERSION = 1;
export const HDR_MEM_PAGES = 2; // guest RAM of the default slot, in 4 KiB pages
export const HDR_VCPUS = 3;
export const HDR_POOL_PFNS = 4; // host pages in `ram`
export const HDR_SLOT_PAGES = 5; // capacity of the gfn->pfn table (all memslots together)
export const HDR_SHADOW_PAGES = 6; // kvm_mmu_page pool size
export const HDR_RMAP_DESCS = 7; // pte_list_desc pool size
export const HDR_TOTAL_WORDS = 8;
export const HDR_LAYOUT_HASH = 9; // FNV-1a of the region table, checked by attachVm
export const HDR_RAM_BASE = 10; // guest physical address of the default slot, or -1
export const HDR_WORDS = 16;

// ── region 'kvm': VM-wide MMU state (the fields of struct kvm we need) ──────
/** mmu_notifier_seq: bumped at invalidate_range_end (§2.9). */
export const KVM_MMU_NOTIFIER_SEQ = 0;
/** mmu_notifier_count: > 0 while an invalidation is in progress (§2.9). */
export const KVM_MMU_NOTIFIER_COUNT = 1;
/** Memslot generation: odd while a memslot is being changed (a seqcount). */
export const KVM_MEMSLOTS_GEN = 2;
/** Highest used slot id + 1, so lookups scan only the used prefix. */
export const KVM_MEMSLOTS_USED = 3;
/** Head of the free shadow page list (SP_LIST_NEXT chain), or SP_NIL. */
export const KVM_SP_FREE_HEAD = 4;
export const KVM_SP_FREE_COUNT = 5;
/** n_used_mmu_pages: shadow pages allocated (valid or zapped but still pinned). */
export const KVM_N_USED_MMU_PAGES = 6;
/** Head of the free pte_list_desc list (RMAP_DESC_NEXT chain), or -1. */
export const KVM_DESC_FREE_HEAD = 7;
export const KVM_DESC_FREE_COUNT = 8;
/** Free host pages in the `ram` pool. */
export const KVM_POOL_FREE_COUNT = 9;
/** Word of the pool bitmap where the next allocation starts looking. */
export const KVM_POOL_HINT = 10;
/** Shadow pages created so far (stamps SP_SEQ, lets a UI spot new pages). */
export const KVM_SP_CREATED = 11;
/** kvm->manual_dirty_log_protect: KVM_DIRTY_LOG_* bits of KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (dirtylog.ts). */
export const KVM_MANUAL_DIRTY_LOG_PROTECT = 12;
/** kvm->dirty_ring_size, in entries (KVM_CAP_DIRTY_LOG_RING, dirty-ring.ts); 0: the VM uses bitmaps. */
export const KVM_DIRTY_RING_SIZE = 13;
/** Protections switched off on purpose (UNSAFE_* bits, src/kvm/unsafe.ts): torture and the race lab. */
export const KVM_UNSAFE = 14;
export const KVM_WORDS = 16;

// ── region 'locks': LOCK_SLOTS records of LOCK_WORDS (locks.ts) ──────────────
export const LOCK_STATE = 0; // 0 free, 1 held, 2 held and a waiter may sleep
export const LOCK_OWNER = 1; // owner tag of the holder (KVM_OWNER_*), 0 when free
export const LOCK_ACQUIRED = 2; // acquisitions
export const LOCK_CONTENDED = 3; // acquisitions that found the lock held
export const LOCK_WAIT_NS_LO = 4; // total time spent waiting, ns (uint64)
export const LOCK_WAIT_NS_HI = 5;
export const LOCK_HOLD_NS_LO = 6; // total time held, ns (uint64)
export const LOCK_HOLD_NS_HI = 7;
export const LOCK_MAX_WAIT_NS = 8; // longest single wait, ns (saturates at 2^31 - 1, ~2.1 s)
export const LOCK_MAX_HOLD_NS = 9; // longest single hold, ns (saturates likewise)
export const LOCK_WORDS = 16; // one 64-byte line per lock: no false sharing
export const LOCK_FREE = 0;
export const LOCK_HELD = 1;
export const LOCK_HELD_WAITERS = 2;
/** kvm->mmu_lock: shadow pages, rmaps, SPTE writes other than the fast path's. */
export const MMU_LOCK = 0;
/** kvm_lock: the VM list (one VM per `hv` here, kept for the locks panel). */
export const KVM_LOCK = 1;
/** kvm_arch::tsc_write_lock: the TSC offsets. */
export const TSC_WRITE_LOCK = 2;
/** slots_lock: serialises memslot changes (KVM_SET_USER_MEMORY_REGION). */
export const SLOTS_LOCK = 3;
export const LOCK_SLOTS = 8; // ids 4..7 are free for other modules
export const LOCK_NAMES: readonly string[] = ['mmu_lock', 'kvm_lock', 'tsc_write_lock', 'slots_lock'];
/** Owner tags written to LOCK_OWNER: vCPU n is n + 1; the VMM thread is 64. */
export const KVM_OWNER_VMM = 64;

// ── region 'kvm-vcpu': KVCPU_WORDS per vCPU, the KVM side of a vCPU ──────────
// (The run-control block of a vCPU is region 'vcpu', src/kvm/vcpu-ctl.ts.)
/** vcpu->mode: one of the *_MODE values below (§2.8). */
export const KVCPU_MODE = 0;
/** vcpu->requests: KVM_REQ_* bits, set with Atomics.or, taken with Atomics.exchange. */
export const KVCPU_REQUESTS = 1;
/** Incremented (then Atomics.notify) each time the vCPU has processed its requests. */
export const KVCPU_FLUSH_ACK = 2;
/** satp of the current paging root (for the UI). */
export const KVCPU_SATP = 3;
/** Index of the vCPU's paging root shadow page, or -1. */
export const KVCPU_ROOT = 4;
/** Index of the vCPU's nonpaging (bare / M-mode) root shadow page, or -1. */
export const KVCPU_NONPAGING_ROOT = 5;
// Per-vCPU counters, written only by that vCPU (plain increments).
export const KVCPU_STAT_TLB_MISS = 16; // translate() calls
export const KVCPU_STAT_PF_FIXED = 17; // slow-path faults that installed an SPTE
export const KVCPU_STAT_PF_GUEST = 18; // guest page/access faults injected
export const KVCPU_STAT_MMIO_EXITS = 19; // XLATE_MMIO results
export const KVCPU_STAT_PF_EMULATE = 20; // writes to shadowed page tables (XLATE_EMULATE)
export const KVCPU_STAT_FAST_PF_FIXED = 21; // fast path: cmpxchg set W
export const KVCPU_STAT_FAST_PF_FAILED = 22; // fast path: cmpxchg lost a race
export const KVCPU_STAT_FAST_PF_SPURIOUS = 23; // fast path: SPTE already writable
export const KVCPU_STAT_FAST_PF_TO_SLOW = 24; // fast path: not eligible, slow path taken
export const KVCPU_STAT_PF_RETRY = 25; // slow path: mmu_notifier_retry / memslot change
export const KVCPU_STAT_GPTE_CHANGED = 26; // slow path: guest PTE changed under us
export const KVCPU_STAT_TLB_FLUSH = 27; // hart TLB flushes done for requests
export const KVCPU_STAT_REQUESTS = 28; // request words processed
export const KVCPU_STAT_ROOT_LOAD = 29; // roots (re)loaded
export const KVCPU_STAT_MMIO_FAST = 30; // MMIO exits answered by an MMIO SPTE or a memslot miss, lock-free
export const KVCPU_WORDS = 64;

// vcpu->mode values (kvm_host.h of 3.6).
export const OUTSIDE_GUEST_MODE = 0;
export const IN_GUEST_MODE = 1;
export const EXITING_GUEST_MODE = 2;
export const READING_SHADOW_PAGE_TABLES = 3;
export const MODE_NAMES: readonly string[] = ['outside', 'in guest', 'exiting', 'reading spt'];

// vcpu->requests bits.
export const KVM_REQ_TLB_FLUSH = 1 << 0;
export const KVM_REQ_MMU_RELOAD = 1 << 1;
export const KVM_REQ_KICK = 1 << 2;
/** An interrupt may be deliverable (irq code sets it; the run loop handles it). */
export const KVM_REQ_EVENT = 1 << 3;
/** Steal time needs an update (msr code sets it; the run loop handles it). */
export const KVM_REQ_STEAL_UPDATE = 1 << 4;
/** The vCPU's dirty ring reached its soft limit: exit with KVM_EXIT_DIRTY_RING_FULL (dirty-ring.ts). */
export const KVM_REQ_DIRTY_RING_SOFT_FULL = 1 << 5;
/** Requests the MMU handles itself; the others go back to the run loop. */
export const KVM_REQ_MMU_MASK = KVM_REQ_TLB_FLUSH | KVM_REQ_MMU_RELOAD | KVM_REQ_KICK;

// ── region 'kvm-stats': VM-wide counters (Atomics.add, any thread) ───────────
export const STAT_REMOTE_TLB_FLUSH = 0; // kvmFlushRemoteTlbs calls
export const STAT_FLUSH_IPIS = 1; // vCPUs a requester waited for ("IPIs")
export const STAT_FLUSH_WAIT_US_TOTAL = 2; // time requesters spent waiting for acks, µs
export const STAT_FLUSH_WAIT_US_MAX = 3; // longest single wait, µs
export const STAT_FLUSH_WAIT_US_LAST = 4;
export const STAT_MMU_RELOAD = 5; // KVM_REQ_MMU_RELOAD broadcasts
/** Remote flushes by cause: STAT_FLUSH_CAUSE + FLUSH_CAUSE_*. */
export const STAT_FLUSH_CAUSE = 8;
export const STAT_MMU_CACHE_MISS = 16; // shadow pages created
export const STAT_MMU_SHADOW_ZAPPED = 17; // shadow pages zapped
export const STAT_MMU_PTE_WRITE = 18; // emulated writes to shadowed guest page tables
export const STAT_MMU_FLOODED = 19; // shadow pages zapped for write flooding
export const STAT_MMU_RECYCLED = 20; // zap-alls because a pool ran low
export const STAT_MMU_ZAP_ALL = 21; // kvmMmuZapAll calls
export const STAT_RMAP_WRITE_PROTECT = 22; // SPTEs write-protected by rmapWriteProtect
export const STAT_PFN_ALLOC = 23; // host pages allocated
export const STAT_PFN_FREE = 24; // host pages freed
export const STAT_DIRTY_MARKED = 25; // markPageDirty calls that set a new bit
export const STAT_NOTIFIER_INVALIDATE = 26; // mmu notifier invalidations
export const STAT_DIRTY_RING_FULL = 27; // dirty-ring pushes refused: the ring was completely full
export const STAT_DIRTY_COLLECT = 28; // GET/CLEAR_DIRTY_LOG and ring resets that did work (dirtylog.ts)
export const STAT_DIRTY_COLLECT_PAGES = 29; // pages they collected (GET) or cleared (CLEAR, ring reset)
export const STAT_DIRTY_COLLECT_US = 30; // time they took, µs
export const STAT_DIRTY_WRPROT_PAGES = 31; // pages dirty logging write-protected again
export const STATS_WORDS = 64;

// Remote TLB flush causes (index into STAT_FLUSH_CAUSE).
export const FLUSH_CAUSE_DIRTY_LOG = 0; // dirty-log write protection (GET/CLEAR_DIRTY_LOG)
export const FLUSH_CAUSE_SP_WRITE_PROTECT = 1; // a guest page table became shadowed
export const FLUSH_CAUSE_REMOTE_FENCE = 2; // sfence.vma broadcast / SBI remote fence
export const FLUSH_CAUSE_MMU_NOTIFIER = 3; // host invalidated a page (swap, KSM, migrate)
export const FLUSH_CAUSE_ZAP = 4; // shadow pages or SPTEs zapped
export const FLUSH_CAUSE_SPTE_UPDATE = 5; // set_spte replaced a writable SPTE
export const FLUSH_CAUSES = 8;
export const FLUSH_CAUSE_NAMES: readonly string[] = [
  'dirty log', 'sp write-protect', 'remote fence', 'mmu notifier', 'zap', 'spte update',
];

// ── region 'memslots': KVM_MEM_SLOTS_NUM records of MEMSLOT_WORDS ────────────
export const KVM_MEM_SLOTS_NUM = 32;
export const MEMSLOT_FLAGS = 0; // KVM_MEM_* flags
export const MEMSLOT_BASE_GFN = 1;
export const MEMSLOT_NPAGES = 2; // 0: the slot is empty
/** First index of this slot in 'gfn-table' and 'rmap-heads' (a multiple of 32). */
export const MEMSLOT_TABLE_BASE = 3;
/** First word of this slot's dirty bitmap in 'dirty-bitmap' (= 2 * TABLE_BASE / 32);
 *  the bitmap has ceil(npages / 32) words and is followed by a scratch copy of the
 *  same size, as KVM allocates it at twice the size (§2.2). */
export const MEMSLOT_DIRTY_BASE = 4;
export const MEMSLOT_WORDS = 8;
export const KVM_MEM_LOG_DIRTY_PAGES = 1;

// ── region 'dirty-ring': per vCPU, DRING_STRIDE words (dirty-ring.ts) ────────
// A header, then up to KVM_DIRTY_RING_MAX_ENTRIES struct kvm_dirty_gfn of
// KVM_DIRTY_GFN_WORDS words. Only the vCPU's own thread pushes (dirty_index);
// userspace sets F_RESET on harvested entries; KVM_RESET_DIRTY_RINGS zeroes
// them and advances reset_index.
export const DRING_DIRTY_INDEX = 0; // entries pushed (wraps; entry = index & (size - 1))
export const DRING_RESET_INDEX = 1; // entries reset
export const DRING_HDR_WORDS = 16;
export const KVM_DIRTY_GFN_FLAGS = 0;
export const KVM_DIRTY_GFN_SLOT = 1; // (address space << 16) | slot id
export const KVM_DIRTY_GFN_OFFSET_LO = 2; // page index in the slot (u64)
export const KVM_DIRTY_GFN_OFFSET_HI = 3;
export const KVM_DIRTY_GFN_WORDS = 4; // 16 bytes, as the kernel's struct
export const KVM_DIRTY_GFN_F_DIRTY = 1 << 0;
export const KVM_DIRTY_GFN_F_RESET = 1 << 1;
/** Our maximum (the kernel's is 65536); it bounds the region's size. */
export const KVM_DIRTY_RING_MAX_ENTRIES = 4096;
export const DRING_STRIDE = DRING_HDR_WORDS + KVM_DIRTY_RING_MAX_ENTRIES * KVM_DIRTY_GFN_WORDS;

// ── region 'gfn-table': one "host PTE" per memslot page ─────────────────────
// 0 = not yet backed (allocated on first touch), else pfn << 12 | flags.
export const HOST_PTE_PRESENT = 1 << 0;
/** The host page may be written (a later KSM merge makes shared pages read-only). */
export const HOST_PTE_WRITABLE = 1 << 1;
/** Swapped out (PRESENT clear): bits 12-31 hold the swap slot, not a pfn (swap-store.ts). */
export const HOST_PTE_SWAPPED = 1 << 2;
/** A swap-out or swap-in is copying this page right now: other threads wait for it. */
export const HOST_PTE_LOCKED = 1 << 3;

// ── region 'swap-map': the swap area's header and slot bitmap (swap-store.ts);
//    region 'swap' holds the slots, PAGE_WORDS words each ──────────────────────
export const SWAP_USED = 0; // slots in use
export const SWAP_OUTS = 1; // pages swapped out so far
export const SWAP_INS = 2; // pages swapped in so far
export const HOSTOP_KSM_MERGES = 3; // kvmKsmMergePages that merged (host-ops.ts)
export const HOSTOP_KSM_COW_COPIES = 4; // write faults that broke sharing with a private copy
export const HOSTOP_KSM_COW_REUSES = 5; // write faults on the last mapping: made writable in place
export const HOSTOP_MIGRATIONS = 6; // kvmMigratePage that moved a page
export const SWAP_MAP_HDR_WORDS = 16; // then the bitmap: bit set = slot in use

// ── regions 'pfn-refcount', 'pfn-flags' (one word per host page) and
//    'pfn-free' (a bitmap, bit set = page free) ───────────────────────────────
export const PFN_ACCESSED = 1 << 0; // kvm_set_pfn_accessed
export const PFN_DIRTY = 1 << 1; // kvm_set_pfn_dirty

// ── rmaps and parent_ptes: pte lists (rmap.ts) ───────────────────────────────
// A list head word is 0 (empty), loc + 1 (> 0: a single SPTE location), or
// -(desc + 1) (< 0: a chain of descriptors in 'rmap-desc'). An SPTE location
// ("loc") is spIndex * 1024 + index, an index into region 'spt'.
export const RMAP_DESC_NEXT = 0; // next descriptor, or -1
export const RMAP_DESC_SPTE = 1; // PTE_LIST_EXT locations follow, -1 = empty
export const PTE_LIST_EXT = 3;
export const RMAP_DESC_WORDS = 4;

// ── region 'sp-meta': SP_META_WORDS per shadow page (kvm_mmu_page) ───────────
export const SP_GFN = 0; // indirect: gfn of the guest table; direct: first gfn mapped
export const SP_ROLE = 1; // ROLE_* bits below
export const SP_ROOT_COUNT = 2; // vCPUs using this page as their root
export const SP_PARENT_PTES = 3; // pte list head: the non-leaf SPTEs pointing here
export const SP_HASH_NEXT = 4; // next page in the same hash bucket, or SP_NIL
export const SP_LIST_NEXT = 5; // free list / invalid (zap) list link, or SP_NIL
export const SP_WRITE_FLOODING = 6; // emulated writes since the page was last used
export const SP_FLAGS = 7; // SP_FLAG_* below
export const SP_META_WORDS = 8;
export const SP_NIL = -1;
export const SP_FLAG_IN_USE = 1 << 0;
export const SP_FLAG_ON_ZAP_LIST = 1 << 1;
// Role (kvm_mmu_page_role): a page is found again only with the same role.
export const ROLE_LEVEL_MASK = 0x3; // 1: 4 KiB SPTEs (leaves), 2: table of level-1 pages
/** Maps a fixed gfn range (gfn = SP_GFN + index); else shadows a guest page table. */
export const ROLE_DIRECT = 1 << 2;
/** Belongs to the guest-physical map used with paging off (satp bare, M-mode). */
export const ROLE_NONPAGING = 1 << 3;
/** Direct pages only: the guest's permissions (ACC_* >> 1, 4 bits) for the range. */
export const ROLE_ACCESS_SHIFT = 4;
export const ROLE_ACCESS_MASK = 0xf << ROLE_ACCESS_SHIFT;
/** Zapped: never found by lookups; freed when no vCPU uses it as root. */
export const ROLE_INVALID = 1 << 8;

/**
 * Live shadow pages by role: in use and not zapped. `meta` is region 'sp-meta'
 * (vm.spMeta, or the UI's view of it). Reads only; any thread, VM running.
 */
export function countShadowPages(meta: Int32Array): { direct: number; indirect: number } {
  let direct = 0;
  let indirect = 0;
  for (let m = 0; m + SP_META_WORDS <= meta.length; m += SP_META_WORDS) {
    if ((Atomics.load(meta, m + SP_FLAGS) & SP_FLAG_IN_USE) === 0) continue;
    const role = Atomics.load(meta, m + SP_ROLE);
    if ((role & ROLE_INVALID) !== 0) continue;
    if ((role & ROLE_DIRECT) !== 0) direct++;
    else indirect++;
  }
  return { direct, indirect };
}

// ── region 'race': the race lab's pause points (src/kvm/race/pause-points.ts) ──
/** Nonzero only in a race-lab VM: the one word every pause point loads (plain load + branch). */
export const RACE_ARMED = 0;
/** Words of region 'race' (global words, then per-lane blocks; layout in pause-points.ts). */
export const RACE_WORDS = 16 + 4 * 64 + 64;
