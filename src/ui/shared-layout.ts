// Where the UI finds live figures in the `hv` SharedArrayBuffer.
//
// THE ONE PLACE TO ALIGN WITH src/kvm's real layout. The UI never imports
// hypervisor internals (ARCHITECTURE §1); it only knows these names and numbers.
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
// Re-exported from src/kvm/fields.ts, which holds constants only and imports
// nothing, so the UI reads the hypervisor's own numbers and cannot drift.
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
