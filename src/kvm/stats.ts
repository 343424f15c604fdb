// kvm_stat for one VM: the counters the vCPUs and the MMU keep in `hv`,
// gathered into one plain object (the CLI's --stats line, the bench, tests).
// Reads only; safe from any thread while the VM runs (figures are a moment's
// snapshot, not a consistent cut).
import type { VmShared } from './shm.ts';
import {
  FLUSH_CAUSE_NAMES, KVCPU_STAT_FAST_PF_FAILED, KVCPU_STAT_FAST_PF_FIXED, KVCPU_STAT_FAST_PF_SPURIOUS,
  KVCPU_STAT_MMIO_EXITS, KVCPU_STAT_PF_EMULATE, KVCPU_STAT_PF_FIXED, KVCPU_STAT_PF_GUEST, KVCPU_STAT_REQUESTS,
  KVCPU_STAT_TLB_FLUSH, KVCPU_STAT_TLB_MISS, KVCPU_WORDS, LOCK_NAMES, countShadowPages, STAT_FLUSH_CAUSE,
  STAT_FLUSH_IPIS, STAT_FLUSH_WAIT_US_MAX, STAT_FLUSH_WAIT_US_TOTAL, STAT_MMU_CACHE_MISS, STAT_MMU_PTE_WRITE,
  STAT_MMU_SHADOW_ZAPPED, STAT_REMOTE_TLB_FLUSH,
  KVCPU_STAT_FAST_PF_TO_SLOW, KVCPU_STAT_GPTE_CHANGED, KVCPU_STAT_MMIO_FAST, KVCPU_STAT_PF_RETRY,
  KVCPU_STAT_ROOT_LOAD, STAT_DIRTY_COLLECT, STAT_DIRTY_COLLECT_PAGES, STAT_DIRTY_COLLECT_US, STAT_DIRTY_MARKED,
  STAT_DIRTY_RING_FULL, STAT_DIRTY_WRPROT_PAGES, STAT_MMU_FLOODED, STAT_MMU_RECYCLED, STAT_MMU_RELOAD,
  STAT_MMU_ZAP_ALL, STAT_NOTIFIER_INVALIDATE, STAT_PFN_ALLOC, STAT_PFN_FREE, STAT_RMAP_WRITE_PROTECT,
} from './fields.ts';
import { EV_CAPACITY, EV_HEAD, eventsEnabled } from './event-format.ts';
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
  /** kvm_stat's per-VM view: every counter by its kernel-style name, vCPU counters summed. */
  kvm_stat: Record<string, number>;
  /** The event ring: records written so far (mod 2^32), capacity, recording on. */
  events: { recorded: number; capacity: number; enabled: boolean };
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
    shadow_pages: { ...countShadowPages(vm.spMeta), created: u(s[STAT_MMU_CACHE_MISS]), zapped: u(s[STAT_MMU_SHADOW_ZAPPED]) },
    emulated_pt_writes: u(s[STAT_MMU_PTE_WRITE]),
    mmu_lock: locks['mmu_lock'],
    locks,
    kvm_stat: kvmStatSummary(vm, locks),
    events: eventRingStats(vm),
  };
}

/** Per-VM counters, kvm_stat style (names as debugfs /sys/kernel/debug/kvm has them where one exists). */
export function kvmStatSummary(vm: VmShared, locks: Record<string, LockStats>): Record<string, number> {
  const s = vm.stats;
  const out: Record<string, number> = {
    remote_tlb_flush: u(s[STAT_REMOTE_TLB_FLUSH]),
    remote_tlb_flush_ipis: u(s[STAT_FLUSH_IPIS]),
    remote_tlb_flush_wait_us: u(s[STAT_FLUSH_WAIT_US_TOTAL]),
    mmu_cache_miss: u(s[STAT_MMU_CACHE_MISS]),
    mmu_shadow_zapped: u(s[STAT_MMU_SHADOW_ZAPPED]),
    mmu_pte_write: u(s[STAT_MMU_PTE_WRITE]),
    mmu_flooded: u(s[STAT_MMU_FLOODED]),
    mmu_recycled: u(s[STAT_MMU_RECYCLED]),
    mmu_zap_all: u(s[STAT_MMU_ZAP_ALL]),
    mmu_reload: u(s[STAT_MMU_RELOAD]),
    rmap_write_protect: u(s[STAT_RMAP_WRITE_PROTECT]),
    pfn_alloc: u(s[STAT_PFN_ALLOC]),
    pfn_free: u(s[STAT_PFN_FREE]),
    mmu_notifier_invalidate: u(s[STAT_NOTIFIER_INVALIDATE]),
    dirty_pages_marked: u(s[STAT_DIRTY_MARKED]),
    dirty_ring_full: u(s[STAT_DIRTY_RING_FULL]),
    dirty_log_collect: u(s[STAT_DIRTY_COLLECT]),
    dirty_log_collect_pages: u(s[STAT_DIRTY_COLLECT_PAGES]),
    dirty_log_collect_us: u(s[STAT_DIRTY_COLLECT_US]),
    dirty_log_write_protect_pages: u(s[STAT_DIRTY_WRPROT_PAGES]),
  };
  const perVcpu: [string, number][] = [
    ['fast_pf_fixed', KVCPU_STAT_FAST_PF_FIXED], ['fast_pf_failed', KVCPU_STAT_FAST_PF_FAILED],
    ['fast_pf_spurious', KVCPU_STAT_FAST_PF_SPURIOUS], ['fast_pf_to_slow', KVCPU_STAT_FAST_PF_TO_SLOW],
    ['pf_fixed', KVCPU_STAT_PF_FIXED], ['pf_guest', KVCPU_STAT_PF_GUEST], ['pf_emulate', KVCPU_STAT_PF_EMULATE],
    ['pf_retry', KVCPU_STAT_PF_RETRY], ['gpte_changed', KVCPU_STAT_GPTE_CHANGED], ['tlb_miss', KVCPU_STAT_TLB_MISS],
    ['tlb_flush', KVCPU_STAT_TLB_FLUSH], ['requests', KVCPU_STAT_REQUESTS], ['mmu_root_load', KVCPU_STAT_ROOT_LOAD],
    ['mmio_exits', KVCPU_STAT_MMIO_EXITS], ['mmio_fast', KVCPU_STAT_MMIO_FAST],
  ];
  for (const [name, word] of perVcpu) {
    let sum = 0;
    for (let v = 0; v < vm.config.vcpus; v++) sum += u(vm.kvmVcpu[v * KVCPU_WORDS + word]);
    out[name] = sum;
  }
  for (const [name, l] of Object.entries(locks)) {
    out[`${name}_acquired`] = l.acquired;
    out[`${name}_contended`] = l.contended;
    out[`${name}_wait_ns`] = l.waitNs;
  }
  return out;
}

function eventRingStats(vm: VmShared): { recorded: number; capacity: number; enabled: boolean } {
  const ev = vm.view('events');
  return { recorded: Atomics.load(ev, EV_HEAD) >>> 0, capacity: EV_CAPACITY, enabled: eventsEnabled(ev) };
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

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
