// Shadow-MMU costs measured on one thread, without workers: a fault is a call
// of translate() on a TLB miss, as the hart makes it, by a vCPU that is in
// guest mode (vcpuEnterGuest), so each fault pays the VM exit and re-entry
// (the mode stores) a real vCPU pays. Every figure is the median of ROUNDS
// rounds of `pages` faults each, one fault per page, timed with stats.ts
// workMs (the smaller of wall and CPU time: a shared machine inflates both).
//   fault.refill_ns  translate() of a present, writable SPTE: the "hardware"
//                    walk alone, part of both fault figures (the retried
//                    access walks again after the fix)
//   fault.fast_ns    write fault on a dirty-log write-protected SPTE: exit,
//                    fastPageFault (lock-free cmpxchg of W, markPageDirty),
//                    entry, walk again
//   fault.slow_ns    write fault with no SPTE: exit, mmu_lock, gfn->pfn,
//                    install the SPTE and its rmap entry, entry, walk again
//   .events_off      the same with the event ring switched off: every fault,
//                    fast or slow, records one event (~0.15-0.2 us here), which
//                    the app does by default and the kernel (tracepoints) does not
//   fault.part.*     pieces of the fast path timed alone, to show where its
//                    time goes: the mode stores of the exit/entry and of the
//                    lockless walk, markPageDirty of a clean page through the
//                    vCPU's memslot cache, and one event-ring record
//   dirtylog.get_ms  KVM_GET_DIRTY_LOG of a slot with a given dirty fraction
import { createVm, type VmShared } from '../src/kvm/shm.ts';
import { Kvm } from '../src/kvm/kvm-host.ts';
import { KvmVcpuRequests } from '../src/kvm/requests.ts';
import { KvmVcpuMmu, type MmioBus } from '../src/kvm/vcpu-mmu.ts';
import { ACC_WRITE, PRV_M } from '../src/cpu/memory.ts';
import { kvmMmuZapAll } from '../src/kvm/mmu-page.ts';
import { kvmSetUserMemoryRegion } from '../src/kvm/set-memory-region.ts';
import { kvmGetDirtyLog } from '../src/kvm/dirtylog.ts';
import { setEventsEnabled } from '../src/kvm/event-format.ts';
import { EV_FAST_PF_FIXED, kvmEvent } from '../src/kvm/events.ts';
import { kvmVcpuMarkPageDirty } from '../src/kvm/memslot.ts';
import { KVCPU_STAT_FAST_PF_FIXED, KVCPU_STAT_PF_FIXED, KVM_MEM_LOG_DIRTY_PAGES } from '../src/kvm/fields.ts';
import type { Row } from './bench.ts';
import { median, workMs } from './stats.ts';

const RAM = 0x8000_0000;
const ROUNDS = 7;
const WARMUP = 2;
const noBus: MmioBus = { error: true, load: () => 0, store: () => {} };

function vcpuOn(memBytes: number) {
  const vm = createVm({ memBytes });
  const kvm = new Kvm(vm, 0);
  const req = new KvmVcpuRequests(vm, 0);
  const mmu = new KvmVcpuMmu(kvm, req, noBus);
  mmu.attachHart({ tlbFlush() {} });
  return { vm, kvm, req, mmu, vmm: new Kvm(vm) };
}

/** Write one word in each of `pages` pages, each a TLB miss; ns per page. */
function writeAll(mmu: KvmVcpuMmu, pages: number): number {
  const ms = workMs(() => {
    for (let i = 0; i < pages; i++) mmu.translate(RAM + i * 4096, ACC_WRITE, PRV_M, 0, 0);
  });
  return (ms * 1e6) / pages;
}

/** Run a round and check that it made exactly `pages` faults of the kind it claims to time. */
function timed(vm: VmShared, pages: number, stat: number, what: string, round: () => number): number {
  const before = vm.kvmVcpu[stat]!; // vCPU 0's counters start at word 0
  const ns = round();
  const made = vm.kvmVcpu[stat]! - before;
  if (made !== pages) throw new Error(`fault bench: the ${what} round made ${made} ${what} faults for ${pages} pages: it does not measure what it says`);
  return ns;
}

interface FaultCosts {
  refill: number;
  fast: number;
  slow: number;
}

function faultCosts(pages: number, events: boolean): FaultCosts {
  const { vm, req, mmu, vmm } = vcpuOn(64 << 20);
  setEventsEnabled(vmm.events, events);
  writeAll(mmu, pages); // back the pages and warm the code up
  // The VMM side (memslot changes, zaps) runs with the vCPU outside guest
  // mode: it is one thread here, so it cannot answer a flush request itself.
  const vmmSide = (f: () => void) => {
    req.vcpuExitGuest();
    f();
    req.vcpuEnterGuest();
  };
  const log = (on: boolean) => kvmSetUserMemoryRegion(vmm, { slot: 0, flags: on ? KVM_MEM_LOG_DIRTY_PAGES : 0, guestPhysAddr: RAM, memorySize: vm.config.memBytes });
  const refill: number[] = [];
  const fast: number[] = [];
  const slow: number[] = [];
  req.vcpuEnterGuest();
  // WARMUP rounds first, unrecorded: until the JIT has optimized the fault
  // paths the figures measure the compiler, not the MMU.
  for (let round = -WARMUP; round < ROUNDS; round++) {
    // Enabling logging write-protects every SPTE (W clear, MMU_WRITEABLE
    // kept) and starts a zeroed bitmap, as after a GET_DIRTY_LOG: the next
    // writes take the fast path and set a new bit each.
    vmmSide(() => {
      log(false);
      log(true);
    });
    const f = timed(vm, pages, KVCPU_STAT_FAST_PF_FIXED, 'fast', () => writeAll(mmu, pages));
    const r = writeAll(mmu, pages); // now writable: the walk alone
    vmmSide(() => {
      vmm.mmuLock.lock();
      kvmMmuZapAll(vmm);
      vmm.mmuLock.unlock();
    });
    const sl = timed(vm, pages, KVCPU_STAT_PF_FIXED, 'slow', () => writeAll(mmu, pages)); // no SPTE: the slow path
    if (round < 0) continue;
    fast.push(f);
    refill.push(r);
    slow.push(sl);
  }
  req.vcpuExitGuest();
  return { refill: median(refill), fast: median(fast), slow: median(slow) };
}

/** ns per call of `f(i)`, median of ROUNDS rounds of n calls. */
function perCall(n: number, f: (i: number) => void, before?: () => void): number {
  const ns: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    before?.();
    const ms = workMs(() => {
      for (let i = 0; i < n; i++) f(i);
    });
    ns.push((ms * 1e6) / n);
  }
  return median(ns);
}

/** The fast path's pieces, each timed alone on a vCPU in guest mode. */
function faultParts(pages: number): Row[] {
  const { vm, req, mmu, vmm } = vcpuOn(64 << 20);
  kvmSetUserMemoryRegion(vmm, { slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM, memorySize: vm.config.memBytes });
  req.vcpuEnterGuest();
  const mode = perCall(pages, () => {
    req.vmExit();
    req.walkShadowPageLocklessBegin();
    req.walkShadowPageLocklessEnd();
    req.vmEntry();
  });
  req.vcpuExitGuest();
  const mark = perCall(pages, (i) => kvmVcpuMarkPageDirty(vm, mmu.slotCache, RAM / 4096 + i), () => vm.dirtyBitmap.fill(0));
  const ev = perCall(pages, (i) => kvmEvent(vmm.events, EV_FAST_PF_FIXED, 0, i, i, 0));
  return [
    { name: 'fault.part.mode_stores_ns', value: mode, unit: 'ns', note: 'vmExit, lockless begin/end, vmEntry' },
    { name: 'fault.part.mark_page_dirty_ns', value: mark, unit: 'ns', note: 'a clean page, memslot cache hit' },
    { name: 'fault.part.event_ns', value: ev, unit: 'ns', note: 'one event-ring record' },
  ];
}

export function benchFaults(): Row[] {
  const pages = 8192; // short already (~0.1 s a round); fewer would time the JIT
  const on = faultCosts(pages, true);
  const off = faultCosts(pages, false);
  const target = { op: '<=', value: 0.2 } as const;
  return [
    { name: 'fault.refill_ns', value: on.refill, unit: 'ns', note: 'walk of a present SPTE, inside both figures below' },
    { name: 'fault.fast_ns', value: on.fast, unit: 'ns' },
    { name: 'fault.slow_ns', value: on.slow, unit: 'ns' },
    { name: 'fault.fast_over_slow', value: on.fast / on.slow, unit: 'ratio', target },
    { name: 'fault.fast_ns.events_off', value: off.fast, unit: 'ns' },
    { name: 'fault.slow_ns.events_off', value: off.slow, unit: 'ns' },
    { name: 'fault.fast_over_slow.events_off', value: off.fast / off.slow, unit: 'ratio', target },
    ...faultParts(pages),
  ];
}

export function benchGetDirtyLog(): Row[] {
  const rows: Row[] = [];
  for (const [mib, fraction] of [[64, 0.1], [1024, 0.01], [1024, 0.1]] as const) {
    const { vm, mmu, vmm } = vcpuOn(mib << 20);
    const pages = vm.config.memPages;
    kvmSetUserMemoryRegion(vmm, { slot: 0, flags: KVM_MEM_LOG_DIRTY_PAGES, guestPhysAddr: RAM, memorySize: mib << 20 });
    const step = Math.round(1 / fraction);
    // The guest's writes: the first round backs and maps the pages (slow
    // faults), later ones are fast faults on the SPTEs the previous GET
    // write-protected, so every GET has bits to take and SPTEs to protect.
    const dirty = (): void => {
      for (let i = 0; i < pages; i += step) mmu.translate(RAM + i * 4096, ACC_WRITE, PRV_M, 0, 0);
    };
    const ms: number[] = [];
    for (let r = -1; r < 7; r++) {
      dirty();
      const t = workMs(() => kvmGetDirtyLog(vmm, 0));
      if (r >= 0) ms.push(t); // round -1 warms the code up
    }
    rows.push({
      name: `dirtylog.get_ms.${mib}MiB.${fraction * 100}pct`, value: median(ms), unit: 'ms',
      target: mib === 1024 && fraction === 0.1 ? { op: '<=', value: 10 } : undefined,
    });
  }
  return rows;
}
