// Short names for the SPTE bits, so expected SPTE values in the tests read
// like the tables of locking.txt (P|W|A|D|HW|MW).
import {
  SPTE_ACCESSED, SPTE_DIRTY, SPTE_HOST_WRITEABLE, SPTE_MMU_WRITEABLE, SPTE_PRESENT, SPTE_READ, SPTE_WRITABLE,
} from '../../src/kvm/spte.ts';

export const P = SPTE_PRESENT;
export const W = SPTE_WRITABLE;
export const A = SPTE_ACCESSED;
export const D = SPTE_DIRTY;
export const HW = SPTE_HOST_WRITEABLE;
export const MW = SPTE_MMU_WRITEABLE;
export const R = SPTE_READ;
