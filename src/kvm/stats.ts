// kvm_stat for one VM: the counters the vCPUs and the MMU keep in `hv`,
// gathered into one plain object (the CLI's --stats line, the bench, tests).
// Reads only; safe from any thread while the VM runs (figures are a moment's
// snapshot, not a consistent cut).
import type { VmShared } from './shm.ts';
import {
  FLUSH_CAUSE_NAMES, KVCPU_STAT_FAST_PF_FAILED, KVCPU_STAT_FAST_PF_FIXED, KVCPU_STAT_FAST_PF_SPURIOUS,
  KVCPU_STAT_MMIO_EXITS, KVCPU_STAT_PF_EMULATE, KVCPU_STAT_PF_FIXED, KVCPU_STAT_PF_GUEST, KVCPU_STAT_REQUESTS,
  KVCPU_STAT_TLB_FLUSH, KVCPU_STAT_TLB_MISS, KVCPU_WORDS, LOCK_NAMES, ROLE_DIRECT, ROLE_INVALID, SP_FLAGS,
  SP_FLAG_IN_USE, SP_META_WORDS, SP_ROLE, STAT_FLUSH_CAUSE, STAT_FLUSH_IPIS, STAT_FLUSH_WAIT_US_MAX,
  STAT_FLUSH_WAIT_US_TOTAL, STAT_MMU_CACHE_MISS, STAT_MMU_PTE_WRITE, STAT_MMU_SHADOW_ZAPPED, STAT_REMOTE_TLB_FLUSH,
} from './fields.ts';
import { readLockStats, type LockStats } from './locks.ts';
import { EXIT_REASONS, VCPU_EXITS, VCPU_INSTRET_HI, VCPU_INSTRET_LO, VCPU_STRIDE } from './vcpu-ctl.ts';

export interface VcpuStats {
  instructions: number;
  mips: number;
  exits: Record<string, number>;
  faults: { fast_fixed: number; fast_failed: number; fast_spurious: number; slow: number; guest: number; emulated_pt_writes: number };
  tlb_misses: number;
  tlb_flushes: number;
}

export interface VmStats {
  seconds: number;
  vcpus: VcpuStats[];
  total_mips: number;
  remote_tlb_flushes: { total: number; by_cause: Record<string, number>; vcpus_waited_for: number; wait_us_total: number; wait_us_max: number };
  shadow_pages: { direct: number; indirect: number; created: number; zapped: number };
  emulated_pt_writes: number;
  mmu_lock: LockStats;
  locks: Record<string, LockStats>;
}

const u = (n: number | undefined) => (n ?? 0) >>> 0;

export function collectStats(vm: VmShared, seconds: number): VmStats {
  const vcpus: VcpuStats[] = [];
  for (let v = 0; v < vm.config.vcpus; v++) vcpus.push(vcpuStats(vm, v, seconds));
  const s = vm.stats;
  const byCause: Record<string, number> = {};
  FLUSH_CAUSE_NAMES.forEach((n, i) => (byCause[n] = u(s[STAT_FLUSH_CAUSE + i])));
  const locks: Record<string, LockStats> = {};
  LOCK_NAMES.forEach((n, i) => (locks[n] = readLockStats(vm.locks, i)));
  return {
    seconds,
    vcpus,
    total_mips: round(vcpus.reduce((a, v) => a + v.mips, 0)),
    remote_tlb_flushes: {
      total: u(s[STAT_REMOTE_TLB_FLUSH]),
      by_cause: byCause,
      vcpus_waited_for: u(s[STAT_FLUSH_IPIS]),
      wait_us_total: u(s[STAT_FLUSH_WAIT_US_TOTAL]),
      wait_us_max: u(s[STAT_FLUSH_WAIT_US_MAX]),
    },
    shadow_pages: { ...countShadowPages(vm), created: u(s[STAT_MMU_CACHE_MISS]), zapped: u(s[STAT_MMU_SHADOW_ZAPPED]) },
    emulated_pt_writes: u(s[STAT_MMU_PTE_WRITE]),
    mmu_lock: locks['mmu_lock'],
    locks,
  };
}

function vcpuStats(vm: VmShared, v: number, seconds: number): VcpuStats {
  const ctl = vm.view('vcpu');
  const c = v * VCPU_STRIDE;
  const k = vm.kvmVcpu;
  const b = v * KVCPU_WORDS;
  const instructions = u(ctl[c + VCPU_INSTRET_HI]) * 2 ** 32 + u(ctl[c + VCPU_INSTRET_LO]);
  const exits: Record<string, number> = {};
  EXIT_REASONS.forEach((n, i) => (exits[n] = u(ctl[c + VCPU_EXITS + i])));
  exits['mmio'] = u(k[b + KVCPU_STAT_MMIO_EXITS]);
  exits['requests'] = u(k[b + KVCPU_STAT_REQUESTS]);
  const faults = {
    fast_fixed: u(k[b + KVCPU_STAT_FAST_PF_FIXED]),
    fast_failed: u(k[b + KVCPU_STAT_FAST_PF_FAILED]),
    fast_spurious: u(k[b + KVCPU_STAT_FAST_PF_SPURIOUS]),
    slow: u(k[b + KVCPU_STAT_PF_FIXED]),
    guest: u(k[b + KVCPU_STAT_PF_GUEST]),
    emulated_pt_writes: u(k[b + KVCPU_STAT_PF_EMULATE]),
  };
  exits['page_fault'] = faults.fast_fixed + faults.fast_failed + faults.fast_spurious + faults.slow + faults.guest + faults.emulated_pt_writes;
  return {
    instructions,
    mips: seconds > 0 ? round(instructions / seconds / 1e6) : 0,
    exits,
    faults,
    tlb_misses: u(k[b + KVCPU_STAT_TLB_MISS]),
    tlb_flushes: u(k[b + KVCPU_STAT_TLB_FLUSH]),
  };
}

/** Live shadow pages by role, read from the kvm_mmu_page metadata. */
export function countShadowPages(vm: VmShared): { direct: number; indirect: number } {
  let direct = 0;
  let indirect = 0;
  for (let i = 0; i < vm.config.shadowPages; i++) {
    const m = i * SP_META_WORDS;
    if ((vm.spMeta[m + SP_FLAGS] & SP_FLAG_IN_USE) === 0) continue;
    const role = vm.spMeta[m + SP_ROLE];
    if ((role & ROLE_INVALID) !== 0) continue;
    if ((role & ROLE_DIRECT) !== 0) direct++;
    else indirect++;
  }
  return { direct, indirect };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
