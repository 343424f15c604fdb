// Word-sized guest physical accesses for hypervisor code that polls guest
// memory (HTIF's tohost/fromhost): kvm_read_guest/kvm_write_guest for one
// aligned word, without allocating.
import { gfnToPfnProt, markPageDirty, PFN_NOSLOT } from './memslot.ts';
import { kvmReleasePfnClean, kvmSetPfnDirty } from './hostmem.ts';
import type { VmShared } from './shm.ts';

/** The aligned word at guest physical `gpa`, or null if it is not RAM. */
export function readGuestWord(vm: VmShared, gpa: number): number | null {
  const pte = gfnToPfnProt(vm, Math.floor(gpa / 4096), false);
  if (pte === PFN_NOSLOT) return null;
  const pfn = pte >>> 12;
  const v = Atomics.load(vm.ramI32, pfn * 1024 + ((gpa & 0xfff) >>> 2));
  kvmReleasePfnClean(vm, pfn);
  return v;
}

/** Store an aligned word at guest physical `gpa`; false if it is not RAM. */
export function writeGuestWord(vm: VmShared, gpa: number, value: number): boolean {
  const gfn = Math.floor(gpa / 4096);
  const pte = gfnToPfnProt(vm, gfn, true);
  if (pte === PFN_NOSLOT) return false;
  const pfn = pte >>> 12;
  Atomics.store(vm.ramI32, pfn * 1024 + ((gpa & 0xfff) >>> 2), value);
  markPageDirty(vm, gfn);
  kvmSetPfnDirty(vm, pfn);
  kvmReleasePfnClean(vm, pfn);
  return true;
}
