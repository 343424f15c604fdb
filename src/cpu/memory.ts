// The contract between the hart (src/cpu) and the memory system behind it
// (the shadow MMU in src/kvm, or a flat test memory).
//
// The hart keeps a private software TLB (three banks: read, write, execute)
// that maps a guest virtual page to the byte offset of a host page in the
// `ram` SharedArrayBuffer. Only on a TLB miss does it call translate(); that
// is where the "hardware" walk of the shadow page table and, behind it, the
// KVM page-fault paths run. Nothing here is on the per-instruction hot path.

/** Access types; also the index of the TLB bank. */
export const ACC_READ = 0;
export const ACC_WRITE = 1;
export const ACC_EXEC = 2;

/** The page is reachable: the result is the byte offset of the host page in `ram` (>= 0). */
/** Translation failed: raise `faultCause` with tval = the virtual address. */
export const XLATE_FAULT = -1;
/** Device memory: perform the access with mmioLoad/mmioStore at `mmioAddr`; never cache it. */
export const XLATE_MMIO = -2;
/**
 * The page is RAM but must not enter the TLB (a write to a shadowed guest page
 * table, which KVM emulates): do the access at byte offset `hostAddr` (the exact
 * byte, not the page), then call afterEmulatedWrite().
 */
export const XLATE_EMULATE = -3;

/** RISC-V privilege levels. */
export const PRV_U = 0;
export const PRV_S = 1;
export const PRV_M = 3;

/** mstatus bits the memory system needs. */
export const MSTATUS_SUM = 1 << 18;
export const MSTATUS_MXR = 1 << 19;

export interface HartMemory {
  /** The guest RAM pool the returned offsets index (the `ram` SharedArrayBuffer). */
  readonly ram: SharedArrayBuffer | ArrayBuffer;

  /**
   * Translate a virtual address for one access.
   * @param vaddr    guest virtual address (unsigned 32-bit, as a JS number >= 0 or an int32)
   * @param access   ACC_READ, ACC_WRITE or ACC_EXEC (an AMO or SC asks for ACC_WRITE)
   * @param priv     effective privilege for this access (MPRV already applied by the hart)
   * @param satp     current satp value (MODE bit 31: 0 bare, 1 Sv32)
   * @param mstatus  current mstatus (SUM and MXR are read from it)
   * @returns page byte offset in `ram` (>= 0), or XLATE_FAULT / XLATE_MMIO / XLATE_EMULATE
   */
  translate(vaddr: number, access: number, priv: number, satp: number, mstatus: number): number;

  /** Exception cause to raise after XLATE_FAULT (12/13/15 page fault, 1/5/7 access fault). */
  faultCause: number;
  /** Guest physical address after XLATE_MMIO. */
  mmioAddr: number;
  /** Exact byte offset in `ram` after XLATE_EMULATE. */
  hostAddr: number;

  /** Device access; size is 1, 2 or 4. Returns the value read (zero-extended). */
  mmioLoad(paddr: number, size: number): number;
  mmioStore(paddr: number, size: number, value: number): void;
  /** Set by mmioLoad/mmioStore when no device answers: the hart raises an access fault. */
  busError: boolean;

  /** Called after the hart performed a store (or AMO) at an XLATE_EMULATE address. */
  afterEmulatedWrite(): void;
}
