// Instruction fetch when the interpreter leaves its current page: translate
// the pc through the execute TLB and find (or create) the page's decode-cache
// slot. The result is the "fetch window" h.fetchVA/fetchBase/fetchHost.
//
// Trap-loop detection costs nothing on the hot path: it is checked here, when
// a fetch faults. If the trap taken for the fault sends the hart back to the
// very same address in the same privilege mode (e.g. mtvec outside RAM), the
// next fetch will fault the same way forever, so run() returns RUN_TRAP_LOOP.

import type { Hart } from './hart.ts';
import { ACC_EXEC, ACC_WRITE, XLATE_EMULATE, XLATE_MMIO } from './memory.ts';
import { SLOT_SHIFT } from './decode-cache.ts';
import { CAUSE_FETCH_ACCESS, CAUSE_MISALIGNED_FETCH } from './causes.ts';
import { RUN_TRAP_LOOP } from './exits.ts';
import { raiseException } from './trap.ts';
import { xlate } from './mem-access.ts';

function fetchFault(h: Hart, pc: number, cause: number): void {
  const priv = h.priv;
  raiseException(h, cause, pc);
  if (h.pc === pc && h.priv === priv) h.exitReq = RUN_TRAP_LOOP;
}

/** Set up the fetch window for h.pc = pc. Returns false if a trap was taken instead. */
export function fetchSlow(h: Hart, pc: number): boolean {
  if ((pc & 3) !== 0) {
    // Only reachable if the pc was set from outside: jumps check their targets.
    raiseException(h, CAUSE_MISALIGNED_FETCH, pc);
    return false;
  }
  const r = xlate(h, pc, ACC_EXEC);
  const dc = h.dcache;
  let host: number;
  let slot: number;
  if (r >= 0) {
    host = r & -4096;
    slot = dc.lookup(host);
    if (slot < 0) {
      slot = dc.allocate(host);
      h.tlb.dropHostPage(ACC_WRITE, host); // code and write-TLB entries are exclusive
    } else {
      dc.referenced[slot] = 1;
    }
    h.fetchVA = pc & -4096;
  } else if (r === XLATE_EMULATE) {
    // RAM that must not be cached: decode this one instruction in the scratch
    // slot and leave the window closed, so the next fetch translates again.
    host = h.mem.hostAddr & -4096;
    slot = dc.scratchSlot;
    dc.code[(slot << SLOT_SHIFT) + ((pc & 4095) >> 1)] = 0;
    h.fetchVA = -1;
  } else {
    fetchFault(h, pc, r === XLATE_MMIO ? CAUSE_FETCH_ACCESS : h.mem.faultCause);
    return false;
  }
  h.fetchBase = slot << SLOT_SHIFT;
  h.fetchHost = host;
  return true;
}
