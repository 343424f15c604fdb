// vCPU requests, guest mode, and the remote TLB flush (§2.8, §6.3 T2/T3).
//
// Per vCPU, in region 'kvm-vcpu' (fields.ts):
//   KVCPU_MODE       OUTSIDE_GUEST_MODE, IN_GUEST_MODE, EXITING_GUEST_MODE or
//                    READING_SHADOW_PAGE_TABLES (vcpu->mode)
//   KVCPU_REQUESTS   KVM_REQ_* bits (vcpu->requests)
//   KVCPU_FLUSH_ACK  a counter the vCPU bumps, then Atomics.notify's, each time
//                    it has processed its requests: our stand-in for the
//                    completion of KVM's no-op IPI
//
// The requester (kvmMakeAllCpusRequest), for each vCPU:
//   1. snapshot its ack counter;
//   2. set the request bit (Atomics.or: a full barrier);
//   3. cmpxchg its mode IN_GUEST -> EXITING; if the old mode was anything but
//      OUTSIDE (in guest, exiting, or walking shadow pages locklessly), the vCPU
//      may hold stale TLB entries or be mid-walk, so:
//   4. wait until its ack counter moves (or it is seen OUTSIDE: then it is not
//      walking, and it will process the request before it next enters).
// The vCPU:
//   - enters guest mode by storing IN_GUEST, *then* loading its requests
//     (vcpuEnterGuest); if any are pending it leaves again and processes them.
//     Requester "store request, read mode" against vCPU "store mode, read
//     request", all seq-cst: at least one side sees the other (Dekker), so
//     no request is missed (T2);
//   - polls its request word at poll points (vcpuCheckRequests, every few
//     hundred instructions) while running guest code, which is when the
//     hardware would take the IPI;
//   - processes: exchange the word with 0, TLB_FLUSH or MMU_RELOAD -> flush the
//     hart's TLB, bump the ack counter and notify; then (MMU_RELOAD) drop its
//     roots, which takes mmu_lock: after the ack, because the requester may
//     hold mmu_lock while it waits for that ack.
// An ack counter that moved means: since the snapshot the vCPU passed a point
// with an empty TLB and no walk in progress. (A vCPU that acked another
// request in between still qualifies: it flushed and refilled nothing before
// the ack; our bit stays set and costs it one more flush.)
//
// A requester that is itself a vCPU must be OUTSIDE_GUEST_MODE while it waits
// (it is, in the fault path); two vCPUs waiting for each other in guest mode
// would deadlock, so that is refused.

import { KvmError } from './errors.ts';
import {
  EXITING_GUEST_MODE, FLUSH_CAUSES, IN_GUEST_MODE, KVCPU_FLUSH_ACK, KVCPU_MODE, KVCPU_REQUESTS,
  KVCPU_STAT_REQUESTS, KVCPU_STAT_TLB_FLUSH, KVCPU_WORDS, KVM_REQ_MMU_MASK, KVM_REQ_MMU_RELOAD,
  KVM_REQ_TLB_FLUSH, MODE_NAMES, OUTSIDE_GUEST_MODE, READING_SHADOW_PAGE_TABLES, STAT_FLUSH_CAUSE,
  STAT_FLUSH_IPIS, STAT_FLUSH_WAIT_US_LAST, STAT_FLUSH_WAIT_US_MAX, STAT_FLUSH_WAIT_US_TOTAL,
  STAT_REMOTE_TLB_FLUSH,
} from './fields.ts';
import type { Kvm } from './kvm-host.ts';
import { nowMs } from './locks.ts';
import { EV_TLB_FLUSH, eventsEnabled, flushEventA, kvmEvent } from './events.ts';
import type { VmShared } from './shm.ts';
import { VCPU_STRIDE, VCPU_WAKE } from './vcpu-ctl.ts';
import { kvmUnsafe, UNSAFE_NO_ENTRY_ORDER, UNSAFE_NO_MODE_ORDER, UNSAFE_NO_WALK_MODE } from './unsafe.ts';
import {
  RACE_ARMED, RP_ENTER_AFTER_MODE, RP_ENTER_BEFORE_MODE, RP_REQUEST_BETWEEN, racePoint,
} from './race/pause-points.ts';

export {
  EXITING_GUEST_MODE, FLUSH_CAUSE_DIRTY_LOG, FLUSH_CAUSE_MMU_NOTIFIER, FLUSH_CAUSE_NAMES, FLUSH_CAUSE_REMOTE_FENCE,
  FLUSH_CAUSE_SPTE_UPDATE, FLUSH_CAUSE_SP_WRITE_PROTECT, FLUSH_CAUSE_ZAP, IN_GUEST_MODE, KVM_REQ_EVENT, KVM_REQ_KICK,
  KVM_REQ_MMU_RELOAD, KVM_REQ_STEAL_UPDATE, KVM_REQ_TLB_FLUSH, OUTSIDE_GUEST_MODE, READING_SHADOW_PAGE_TABLES,
} from './fields.ts';

/** While waiting for an ack, re-check the vCPU's mode at least this often (ms). */
const WAIT_SLICE_MS = 20;

/** The part of the hart a request needs. */
export interface VcpuTlb {
  tlbFlush(): void;
}

/**
 * make_all_cpus_request for the vCPUs in `mask` (bit i = vCPU i): set `req`
 * on each and wait for those that were in guest mode. Returns how many were
 * waited for. Throws EBUSY if one never answers within kvm.flushTimeoutMs.
 */
export function kvmMakeVcpusRequestMask(kvm: Kvm, mask: number, req: number): number {
  const v = kvm.vm.kvmVcpu;
  const n = kvm.vm.config.vcpus;
  const self = kvm.self;
  if (self >= 0) {
    const m = Atomics.load(v, self * KVCPU_WORDS + KVCPU_MODE);
    if (m === IN_GUEST_MODE || m === EXITING_GUEST_MODE) {
      throw new KvmError('EINVAL', `vCPU ${self}: requests of other vCPUs must be made outside guest mode (mode is ${MODE_NAMES[m]}), or two vCPUs could wait for each other forever`);
    }
  }
  let waits = 0;
  const modeOrder = kvmUnsafe(kvm.vm) & UNSAFE_NO_MODE_ORDER;
  for (let i = 0; i < n; i++) {
    kvm.mustWait[i] = 0;
    if (((mask >>> i) & 1) === 0) continue;
    const b = i * KVCPU_WORDS;
    kvm.ackSnapshot[i] = Atomics.load(v, b + KVCPU_FLUSH_ACK);
    const old = modeOrder === 0 ? requestThenMode(kvm.vm, b, i, req) : modeThenRequest(kvm.vm, b, i, req);
    if (old !== OUTSIDE_GUEST_MODE && i !== self) {
      kvm.mustWait[i] = 1;
      waits++;
    }
  }
  if (waits > 0) waitForAcks(kvm, n, req);
  return waits;
}

/**
 * Race-lab hook (null in normal runs, per thread): called between the two
 * halves of the requester's handshake with vCPU `vcpuId` (publishing the
 * request and reading/kicking its mode, in whichever order is in force).
 * Tests use it to let that vCPU enter guest mode at exactly that point.
 */
export const requestRaceHooks: { betweenRequestAndMode: ((vcpuId: number) => void) | null } = { betweenRequestAndMode: null };

/** T2: publish the request (a full barrier), then read the mode; returns the old mode. */
function requestThenMode(vm: VmShared, b: number, i: number, req: number): number {
  const v = vm.kvmVcpu;
  Atomics.or(v, b + KVCPU_REQUESTS, req);
  if (requestRaceHooks.betweenRequestAndMode !== null) requestRaceHooks.betweenRequestAndMode(i);
  if (vm.race[RACE_ARMED] !== 0) racePoint(vm, RP_REQUEST_BETWEEN, i); // race lab
  return Atomics.compareExchange(v, b + KVCPU_MODE, IN_GUEST_MODE, EXITING_GUEST_MODE);
}

/**
 * The 'no-mode-order' switch: read (and kick) the mode first, publish the
 * request afterwards. A vCPU seen outside guest mode that enters in between
 * loads its request word before our store lands: it runs guest code with the
 * request pending, unkicked, and we do not wait for it (T2 broken).
 */
function modeThenRequest(vm: VmShared, b: number, i: number, req: number): number {
  const v = vm.kvmVcpu;
  const old = Atomics.compareExchange(v, b + KVCPU_MODE, IN_GUEST_MODE, EXITING_GUEST_MODE);
  if (requestRaceHooks.betweenRequestAndMode !== null) requestRaceHooks.betweenRequestAndMode(i);
  if (vm.race[RACE_ARMED] !== 0) racePoint(vm, RP_REQUEST_BETWEEN, i); // race lab
  Atomics.or(v, b + KVCPU_REQUESTS, req);
  return old;
}

function waitForAcks(kvm: Kvm, n: number, req: number): void {
  const v = kvm.vm.kvmVcpu;
  const t0 = nowMs();
  const deadline = t0 + kvm.flushTimeoutMs;
  for (let i = 0; i < n; i++) {
    if (kvm.mustWait[i] === 0) continue;
    const ack = i * KVCPU_WORDS + KVCPU_FLUSH_ACK;
    const snap = kvm.ackSnapshot[i]!;
    for (;;) {
      if (Atomics.load(v, ack) !== snap) break;
      const mode = Atomics.load(v, i * KVCPU_WORDS + KVCPU_MODE);
      if (mode === OUTSIDE_GUEST_MODE) break;
      const left = deadline - nowMs();
      if (left <= 0) {
        throw new KvmError('EBUSY', `vCPU ${i} did not acknowledge request 0x${req.toString(16)} within ${kvm.flushTimeoutMs} ms ` +
          `(its mode is ${MODE_NAMES[mode] ?? mode}): its worker must call vcpuCheckRequests() while it runs guest code, and vcpuExitGuest() when it stops`);
      }
      Atomics.wait(v, ack, snap, Math.min(left, WAIT_SLICE_MS));
    }
  }
  const us = Math.round((nowMs() - t0) * 1000);
  const s = kvm.vm.stats;
  Atomics.add(s, STAT_FLUSH_WAIT_US_TOTAL, us);
  Atomics.store(s, STAT_FLUSH_WAIT_US_LAST, us);
  for (let m = Atomics.load(s, STAT_FLUSH_WAIT_US_MAX); us > m;) {
    const seen = Atomics.compareExchange(s, STAT_FLUSH_WAIT_US_MAX, m, us);
    if (seen === m) break;
    m = seen;
  }
}

/** make_all_cpus_request: `req` on every vCPU, waiting for those in guest mode. */
export function kvmMakeAllCpusRequest(kvm: Kvm, req: number): number {
  return kvmMakeVcpusRequestMask(kvm, -1, req);
}

/**
 * kvm_flush_remote_tlbs: every vCPU flushes its TLB before it next uses one;
 * returns when every vCPU that was in guest mode has done so. `cause` is a
 * FLUSH_CAUSE_* for the statistics. `mask` limits it to some vCPUs (SBI
 * remote fences name a hart mask); the default is all. `extraReq` rides
 * along in the same round: kvmMmuCommitZapPage passes KVM_REQ_MMU_RELOAD
 * (kvm_reload_remote_mmus) when it zapped a root.
 */
export function kvmFlushRemoteTlbs(kvm: Kvm, cause: number, mask = -1, extraReq = 0): void {
  const s = kvm.vm.stats;
  // One event per flush, with its latency: the requests plus the wait for acks.
  const ev = kvm.events;
  const t0 = eventsEnabled(ev) ? nowMs() : -1;
  const waited = kvmMakeVcpusRequestMask(kvm, mask, KVM_REQ_TLB_FLUSH | extraReq);
  Atomics.add(s, STAT_REMOTE_TLB_FLUSH, 1);
  if (cause >= 0 && cause < FLUSH_CAUSES) Atomics.add(s, STAT_FLUSH_CAUSE + cause, 1);
  Atomics.add(s, STAT_FLUSH_IPIS, waited);
  // Word a = cause | untargeted vCPUs << 8 (events.ts flushEventA; a = cause when all
  // are targeted): the TLB timeline draws the flush on the lanes it hit. (panels helper)
  if (t0 >= 0) kvmEvent(ev, EV_TLB_FLUSH, kvm.self, flushEventA(cause, mask), waited, Math.round((nowMs() - t0) * 1000));
}

/**
 * kvm_make_request: set a request bit; the vCPU sees it at its next poll or
 * entry. Follow it with kvmVcpuKick to wake a vCPU sleeping in WFI.
 */
export function kvmMakeRequest(vm: VmShared, vcpuId: number, req: number): void {
  Atomics.or(vm.kvmVcpu, vcpuId * KVCPU_WORDS + KVCPU_REQUESTS, req);
}

/**
 * kvm_vcpu_kick: wake the vCPU if it sleeps in WFI (the wake word VCPU_WAKE of
 * its run-control block, region 'vcpu'). A running vCPU notices requests at
 * its next poll point, a few hundred instructions away, so it needs no IPI.
 */
export function kvmVcpuKick(vm: VmShared, vcpuId: number): void {
  const ctl = vm.view('vcpu');
  const i = vcpuId * VCPU_STRIDE + VCPU_WAKE;
  Atomics.add(ctl, i, 1);
  Atomics.notify(ctl, i);
}

/**
 * The vCPU side of requests and guest mode, for one vCPU. The run loop calls
 * vcpuEnterGuest() when it starts running guest code, vcpuCheckRequests() at
 * poll points, vcpuBlock() for WFI, and vcpuExitGuest() when it stops. The
 * MMU (vcpu-mmu.ts) brackets its fault handling with vmExit()/vmEntry().
 */
export class KvmVcpuRequests {
  /** The hart whose TLB a request flushes (set once the hart exists). */
  hart: VcpuTlb | null = null;
  /** Called, outside guest mode and after the ack, on KVM_REQ_MMU_RELOAD. */
  onMmuReload: (() => void) | null = null;
  /**
   * Called when a request the run loop must handle arrives (e.g. the dirty
   * ring's soft-full request, made by this vCPU's own fault path): the run
   * loop ends the current batch early so it sees the request at once.
   */
  onDeferred: (() => void) | null = null;

  private readonly words: Int32Array;
  private readonly base: number;
  private readonly mode: number;
  private readonly req: number;
  private readonly ack: number;
  private readonly ctl: Int32Array;
  private readonly wake: number;
  private readonly vm: VmShared;
  /** Request bits taken from the word that the run loop still has to handle. */
  private deferred = 0;
  /** The run loop runs guest code (between vcpuEnterGuest and vcpuExitGuest). */
  private running = false;
  /** Nesting of vmExit() (an SBI call that flushes remote TLBs exits twice). */
  private exitDepth = 0;

  constructor(vm: VmShared, readonly vcpuId: number) {
    this.vm = vm;
    this.words = vm.kvmVcpu;
    const b = vcpuId * KVCPU_WORDS;
    this.base = b;
    this.mode = b + KVCPU_MODE;
    this.req = b + KVCPU_REQUESTS;
    this.ack = b + KVCPU_FLUSH_ACK;
    this.ctl = vm.view('vcpu');
    this.wake = vcpuId * VCPU_STRIDE + VCPU_WAKE;
  }

  /**
   * vCPU reset: forget nesting and deferred requests left by a run that
   * ended abnormally (an exception between vmExit and vmEntry), so the next
   * run starts outside guest mode with a clean slate.
   */
  resetState(): void {
    this.exitDepth = 0;
    this.deferred = 0;
    this.running = false;
    Atomics.store(this.words, this.mode, OUTSIDE_GUEST_MODE);
  }

  /** Current vcpu->mode. */
  get currentMode(): number {
    return Atomics.load(this.words, this.mode);
  }

  /**
   * vcpu_enter_guest: store IN_GUEST_MODE, then load the requests; while any
   * are pending, leave, process them and try again. Returns the request bits
   * the run loop must handle itself (KVM_REQ_EVENT, KVM_REQ_STEAL_UPDATE...).
   */
  vcpuEnterGuest(): number {
    this.running = true;
    this.enter();
    return this.takeDeferred();
  }

  /** The run loop stops running guest code (pause, quit, a blocking exit). */
  vcpuExitGuest(): void {
    this.running = false;
    Atomics.store(this.words, this.mode, OUTSIDE_GUEST_MODE);
    if (Atomics.load(this.words, this.req) !== 0) this.processRequests();
  }

  /**
   * Poll point. One atomic load when nothing is pending. Returns the request
   * bits the run loop must handle (0 almost always).
   */
  vcpuCheckRequests(): number {
    if (Atomics.load(this.words, this.req) === 0) return this.deferred === 0 ? 0 : this.takeDeferred();
    this.vmExit();
    this.processRequests();
    this.vmEntry();
    return this.takeDeferred();
  }

  /**
   * WFI: sleep outside guest mode until kicked, a request arrives, or
   * `timeoutMs` passes. `wakeSeq` is wakeSequence() read *before* the caller
   * decided to sleep, so a kick in between is not lost. Returns false on timeout.
   */
  vcpuBlock(wakeSeq: number, timeoutMs: number): boolean {
    this.vmExit();
    if (Atomics.load(this.words, this.req) !== 0) this.processRequests();
    let woke = true;
    if (this.deferred === 0 && Atomics.load(this.words, this.req) === 0) {
      woke = Atomics.wait(this.ctl, this.wake, wakeSeq, timeoutMs) !== 'timed-out';
    }
    this.vmEntry();
    return woke;
  }

  /** The wake counter, to pass to vcpuBlock. */
  wakeSequence(): number {
    return Atomics.load(this.ctl, this.wake);
  }

  /**
   * A VM exit into KVM code on this thread (the page-fault path, an SBI call):
   * outside guest mode until the matching vmEntry(). Calls may nest.
   */
  vmExit(): void {
    if (this.exitDepth++ === 0 && this.running) Atomics.store(this.words, this.mode, OUTSIDE_GUEST_MODE);
  }

  /** Back to the guest after the outermost vmExit(): pending requests are processed first. */
  vmEntry(): void {
    if (--this.exitDepth > 0) return;
    this.exitDepth = 0;
    if (this.running) this.enter();
    else if (Atomics.load(this.words, this.req) !== 0) this.processRequests();
  }

  /** walk_shadow_page_lockless_begin: a lockless walk is about to read shadow pages. */
  walkShadowPageLocklessBegin(): void {
    // 'no-walk-mode' (unsafe.ts): the walk is not announced, so a zapper's flush does not wait for it.
    if ((kvmUnsafe(this.vm) & UNSAFE_NO_WALK_MODE) !== 0) return;
    Atomics.store(this.words, this.mode, READING_SHADOW_PAGE_TABLES);
  }

  /** walk_shadow_page_lockless_end. */
  walkShadowPageLocklessEnd(): void {
    Atomics.store(this.words, this.mode, OUTSIDE_GUEST_MODE);
  }

  private enter(): void {
    if ((kvmUnsafe(this.vm) & UNSAFE_NO_ENTRY_ORDER) !== 0) {
      this.enterRequestsFirst();
      return;
    }
    for (;;) {
      Atomics.store(this.words, this.mode, IN_GUEST_MODE);
      if (this.vm.race[RACE_ARMED] !== 0) racePoint(this.vm, RP_ENTER_AFTER_MODE, this.vcpuId); // race lab
      if (Atomics.load(this.words, this.req) === 0) return;
      Atomics.store(this.words, this.mode, OUTSIDE_GUEST_MODE);
      this.processRequests();
    }
  }

  /**
   * The 'no-entry-order' switch (unsafe.ts): check the requests first, store
   * IN_GUEST_MODE after. A request published in between finds the vCPU
   * OUTSIDE_GUEST_MODE, so its requester neither kicks nor waits, and the vCPU
   * runs guest code with the request pending (T2 broken from the vCPU's side).
   */
  private enterRequestsFirst(): void {
    while (Atomics.load(this.words, this.req) !== 0) this.processRequests();
    if (this.vm.race[RACE_ARMED] !== 0) racePoint(this.vm, RP_ENTER_BEFORE_MODE, this.vcpuId); // race lab
    Atomics.store(this.words, this.mode, IN_GUEST_MODE);
  }

  /** Take the request word and act on it. Outside guest mode. */
  private processRequests(): void {
    const w = this.words;
    const r = Atomics.exchange(w, this.req, 0);
    if (r === 0) return;
    w[this.base + KVCPU_STAT_REQUESTS]++;
    if ((r & (KVM_REQ_TLB_FLUSH | KVM_REQ_MMU_RELOAD)) !== 0 && this.hart !== null) {
      this.hart.tlbFlush();
      w[this.base + KVCPU_STAT_TLB_FLUSH]++;
    }
    this.deferred |= r & ~KVM_REQ_MMU_MASK;
    if ((r & ~KVM_REQ_MMU_MASK) !== 0 && this.onDeferred !== null) this.onDeferred();
    Atomics.add(w, this.ack, 1);
    Atomics.notify(w, this.ack);
    if ((r & KVM_REQ_MMU_RELOAD) !== 0 && this.onMmuReload !== null) this.onMmuReload();
  }

  private takeDeferred(): number {
    const d = this.deferred;
    this.deferred = 0;
    return d;
  }
}
