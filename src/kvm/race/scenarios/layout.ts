// Guest layout shared by the scenarios: RAM at 0x8000_0000 (gfn 0x80000), an
// Sv32 table for the paging scenarios, and a few data pages.
import { PRV_M, PRV_S } from '../../../cpu/memory.ts';
import { RACE_RAM, RACE_RAM_GFN, type RaceEngine } from '../engine.ts';
import type { RaceLane } from '../types.ts';

export const ROOT_PA = RACE_RAM + 0x1000;
export const L1_PA = RACE_RAM + 0x2000;
/** The guest virtual page of the paging scenarios. */
export const VA = 0x4000_0000;
export const GFN1 = RACE_RAM_GFN + 0x10;
export const GFN2 = RACE_RAM_GFN + 0x11;
export const SATP = (0x8000_0000 | (ROOT_PA >>> 12)) | 0;
/** Sv32 PTE bits V R W A D: a kernel data page. */
export const GPTE_RW = 0x1 | 0x2 | 0x4 | 0x40 | 0x80;
/** The guest PTE of VA, in the level-1 table. */
export const GPTE_OF_VA = L1_PA + ((VA >>> 12) & 0x3ff) * 4;

export const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

export function gpte(pa: number, flags: number): number {
  return (((pa >>> 12) << 10) | flags) | 0;
}

/** vCPU lanes with paging on (S-mode, satp = SATP), in guest mode. */
export async function pagingVcpus(e: RaceEngine, ...lanes: RaceLane[]): Promise<void> {
  for (const l of lanes) await e.setupVcpu(l, PRV_S, SATP);
}

/** vCPU lanes with guest-physical accesses (M-mode: the direct map), in guest mode. */
export async function physVcpus(e: RaceEngine, ...lanes: RaceLane[]): Promise<void> {
  for (const l of lanes) await e.setupVcpu(l, PRV_M, 0);
}

/**
 * The page a guest-physical scenario races on: watch its SPTE (in vCPU 0's
 * direct map, labelled "SPTE of gpa ... (`what`)"), its dirty bits and each
 * lane's TLB entry for it; then set the lanes up guest-physical, in guest mode.
 */
export async function physPage(e: RaceEngine, gfn: number, what: string, ...lanes: RaceLane[]): Promise<void> {
  const gpa = gfn * 4096;
  e.watchSpte({ label: `SPTE of gpa ${hex(gpa)} (${what})`, vcpu: 0, va: gpa, nonpaging: true });
  e.watchGfn(gfn);
  for (const l of lanes) e.watchTlb(l, gpa);
  await physVcpus(e, ...lanes);
}

export { PRV_M, PRV_S };
