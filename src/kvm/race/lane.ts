// One lane of the race lab: a worker thread that runs real KVM code on
// command from the engine (engine.ts) and parks at armed pause points
// (pause-points.ts).
//
//   vCPU lane  a real Hart on a real KvmVcpuMmu: each guest store or load is
//              one access through the hart's own software TLB (hit: straight
//              to ram, as the interpreter does; miss: the hardware walk and
//              the KVM fault paths). While idle in guest mode it answers a
//              kick (mode EXITING_GUEST_MODE) at once, as a CPU takes the IPI;
//              an unkicked request waits, as in guest mode on real hardware.
//   host lane  `new Kvm(vm)` running host operations: swap-out, KSM merge,
//              migrate, an MMU-notifier zap, GET_DIRTY_LOG, a remote flush.
//
// Commands arrive through the lane's block of region 'race' (op + args, then
// LANE_CMD_SEQ bumped); the lane answers with LANE_DONE_SEQ, LANE_STATE and
// LANE_RESULT, or LANE_ERROR with the message in LANE_MSG. No postMessage:
// the lane never needs its event loop, so it may sleep in Atomics.wait.
import { ACC_READ, ACC_WRITE, PRV_M, PRV_S } from '../../cpu/memory.ts';
import { Hart } from '../../cpu/hart.ts';
import { NULL_ENV } from '../../cpu/env.ts';
import { loadSlow, storeSlow } from '../../cpu/mem-access.ts';
import { kvmGetDirtyLog } from '../dirtylog.ts';
import { kvmSetRunningVcpu } from '../dirty-ring.ts';
import { KvmError } from '../errors.ts';
import { EXITING_GUEST_MODE, FLUSH_CAUSE_ZAP, KVCPU_MODE, KVCPU_WORDS } from '../fields.ts';
import { kvmKsmMergePages, kvmMigratePage, kvmSwapOutPage } from '../host-ops.ts';
import { Kvm } from '../kvm-host.ts';
import { kvmMmuNotifierInvalidateRangeEnd, kvmMmuNotifierInvalidateRangeStart } from '../mmu-notifier.ts';
import { kvmFlushRemoteTlbs, KvmVcpuRequests } from '../requests.ts';
import { attachVm, type VmShared } from '../shm.ts';
import { KvmVcpuMmu, type MmioBus } from '../vcpu-mmu.ts';
import {
  LANE_ARGS, LANE_BUSY, LANE_CMD_SEQ, LANE_DONE, LANE_DONE_SEQ, LANE_ERROR, LANE_IDLE, LANE_KICK, LANE_MSG, LANE_MSG_WORDS,
  LANE_OP, LANE_RESULT, LANE_STATE, LANE_TLB_READ, LANE_TLB_WRITE, LANE_WATCH, LANE_WATCH_N, RACE_ARMED,
  RACE_COLLECT, RACE_COLLECT_WORDS, laneBase, raceBell, raceSetLane,
} from './pause-points.ts';
import { raceZapDirectPageOf } from './zap-page.ts';

export interface RaceLaneInit {
  hv: SharedArrayBuffer;
  ram: SharedArrayBuffer;
  /** Index of the lane block in region 'race'. */
  lane: number;
  /** The vCPU this lane runs, or -1 for the host lane. */
  vcpu: number;
}

// ── commands ────────────────────────────────────────────────────────────────
export const OP_QUIT = 1;
/** vCPU: set privilege and satp (args: priv, satp). */
export const OP_CONTEXT = 2;
/** vCPU: vcpu_enter_guest (mode IN_GUEST_MODE, pending requests processed). */
export const OP_ENTER = 3;
/** vCPU: leave guest mode (pending requests processed). */
export const OP_EXIT = 4;
/** vCPU: one 32-bit guest store (args: va, value). Result: host byte offset, TLB hit (1/0). */
export const OP_STORE = 5;
/** vCPU: one 32-bit guest load (args: va). Result: value, host byte offset, TLB hit. */
export const OP_LOAD = 6;
/** vCPU: a poll point (vcpuCheckRequests): the IPI arrives. */
export const OP_POLL = 7;
/** Host: swap gfn out (args: gfn). Result: 1 if it was resident. */
export const OP_SWAP_OUT = 10;
/** Host: KSM-merge two gfns (args: gfnA, gfnB). */
export const OP_KSM_MERGE = 11;
/** Host: migrate gfn (args: gfn). Result: new pfn. */
export const OP_MIGRATE = 12;
/** Host: MMU-notifier zap of [gfn, gfn+1): invalidate_range_start then _end, nothing else changes. */
export const OP_ZAP = 13;
/** Host: KVM_GET_DIRTY_LOG of slot 0; the snapshot goes to RACE_COLLECT. Result: pages reported. */
export const OP_GET_LOG = 14;
/** Host: kvm_flush_remote_tlbs. */
export const OP_FLUSH = 15;
/** Host: zap the direct shadow page mapping gfn: unlink, flush (waiting for walkers), free (args: gfn). Result: its index or -1. */
export const OP_ZAP_SP = 16;

export const OP_NAMES: Record<number, string> = {
  [OP_QUIT]: 'quit', [OP_CONTEXT]: 'context', [OP_ENTER]: 'enter guest', [OP_EXIT]: 'exit guest',
  [OP_STORE]: 'store', [OP_LOAD]: 'load', [OP_POLL]: 'poll requests', [OP_SWAP_OUT]: 'swap out',
  [OP_KSM_MERGE]: 'KSM merge', [OP_MIGRATE]: 'migrate', [OP_ZAP]: 'MMU-notifier zap',
  [OP_GET_LOG]: 'GET_DIRTY_LOG', [OP_FLUSH]: 'kvm_flush_remote_tlbs', [OP_ZAP_SP]: 'zap shadow page',
};

/** A bus with no devices: the scenarios touch RAM only. */
const NO_DEVICES: MmioBus = {
  error: false,
  load(): number {
    this.error = true;
    return 0;
  },
  store(): void {
    this.error = true;
  },
};

class VcpuLane {
  readonly kvm: Kvm;
  readonly mmu: KvmVcpuMmu;
  readonly hart: Hart;

  constructor(vm: VmShared, readonly vcpu: number) {
    this.kvm = new Kvm(vm, vcpu);
    const req = new KvmVcpuRequests(vm, vcpu);
    this.mmu = new KvmVcpuMmu(this.kvm, req, NO_DEVICES);
    this.hart = new Hart(vcpu, this.mmu, NULL_ENV);
    this.mmu.attachHart(this.hart);
    kvmSetRunningVcpu(vcpu);
  }

  /** One guest access the way the interpreter does it: TLB hit inline, else the slow path. */
  access(write: boolean, va: number, value: number, res: Int32Array, at: number): void {
    const h = this.hart;
    const acc = write ? ACC_WRITE : ACC_READ;
    let off = h.tlb.lookup(acc, va);
    const hit = off >= 0;
    h.trapped = false;
    let v = 0;
    if (hit) {
      if (write) h.ram32[off >> 2] = value;
      else v = h.ram32[off >> 2]!;
    } else {
      if (write) storeSlow(h, va, 4, value);
      else v = loadSlow(h, va, 4, false);
      if (h.trapped) {
        throw new KvmError('EFAULT', `vCPU ${this.vcpu}: guest ${write ? 'store to' : 'load from'} 0x${(va >>> 0).toString(16)} faulted (cause ${h.mem.faultCause})`);
      }
      off = h.tlb.lookup(acc, va);
      if (off < 0) off = this.mmu.hostAddr; // an emulated write: not cached
    }
    Atomics.store(res, at, off);
    Atomics.store(res, at + 1, hit ? 1 : 0);
    Atomics.store(res, at + 2, v);
  }

  /** Publish the hart's TLB entries for the watched addresses (for the snapshots). */
  publish(r: Int32Array, b: number): void {
    const tlb = this.hart.tlb;
    for (let i = 0; i < LANE_WATCH_N; i++) {
      const va = Atomics.load(r, b + LANE_WATCH + i);
      const rd = va === -1 ? -1 : tlb.lookup(ACC_READ, va);
      const wr = va === -1 ? -1 : tlb.lookup(ACC_WRITE, va);
      Atomics.store(r, b + LANE_TLB_READ + i, rd < 0 ? -1 : rd >>> 12);
      Atomics.store(r, b + LANE_TLB_WRITE + i, wr < 0 ? -1 : wr >>> 12);
    }
  }
}

function writeMessage(r: Int32Array, b: number, text: string): void {
  const bytes = new Uint8Array(LANE_MSG_WORDS * 4);
  for (let i = 0; i < Math.min(text.length, bytes.length - 1); i++) bytes[i] = text.charCodeAt(i) & 0x7f;
  const words = new Int32Array(bytes.buffer);
  for (let i = 0; i < LANE_MSG_WORDS; i++) Atomics.store(r, b + LANE_MSG + i, words[i]!);
}

/** Read a lane's error text (the controller side of writeMessage). */
export function readLaneMessage(r: Int32Array, b: number): string {
  const words = new Int32Array(LANE_MSG_WORDS);
  for (let i = 0; i < LANE_MSG_WORDS; i++) words[i] = Atomics.load(r, b + LANE_MSG + i);
  const bytes = new Uint8Array(words.buffer);
  let s = '';
  for (const c of bytes) {
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

function hostOp(kvm: Kvm, op: number, a: Int32Array, res: Int32Array, r: Int32Array): void {
  switch (op) {
    case OP_SWAP_OUT:
      res[0] = kvmSwapOutPage(kvm, a[0]!) ? 1 : 0;
      return;
    case OP_KSM_MERGE:
      res[0] = kvmKsmMergePages(kvm, a[0]!, a[1]!) ? 1 : 0;
      return;
    case OP_MIGRATE:
      res[0] = kvmMigratePage(kvm, a[0]!);
      return;
    case OP_ZAP:
      kvmMmuNotifierInvalidateRangeStart(kvm, a[0]!, a[0]! + 1);
      kvmMmuNotifierInvalidateRangeEnd(kvm);
      return;
    case OP_GET_LOG: {
      const bm = kvmGetDirtyLog(kvm, 0);
      let pages = 0;
      for (let i = 0; i < RACE_COLLECT_WORDS; i++) {
        const w = i < bm.length ? bm[i]! | 0 : 0;
        Atomics.store(r, RACE_COLLECT + i, w);
        for (let m = w; m !== 0; m &= m - 1) pages++;
      }
      res[0] = pages;
      return;
    }
    case OP_FLUSH:
      kvmFlushRemoteTlbs(kvm, FLUSH_CAUSE_ZAP);
      return;
    case OP_ZAP_SP:
      res[0] = raceZapDirectPageOf(kvm, a[0]!);
      return;
    default:
      throw new KvmError('EINVAL', `host lane: unknown command ${op}`);
  }
}

function vcpuOp(v: VcpuLane, op: number, a: Int32Array, res: Int32Array): void {
  switch (op) {
    case OP_CONTEXT: {
      const h = v.hart;
      h.satp = a[1]!;
      h.setPriv(a[0] === PRV_M ? PRV_M : PRV_S);
      return;
    }
    case OP_ENTER:
      v.mmu.requests.vcpuEnterGuest();
      return;
    case OP_EXIT:
      v.mmu.requests.vcpuExitGuest();
      return;
    case OP_STORE:
      v.access(true, a[0]!, a[1]!, res, 0);
      return;
    case OP_LOAD:
      v.access(false, a[0]!, 0, res, 0);
      return;
    case OP_POLL:
      v.mmu.vcpuCheckRequests();
      return;
    default:
      throw new KvmError('EINVAL', `vCPU lane: unknown command ${op}`);
  }
}

/** The lane's thread body: returns on OP_QUIT or when the lab VM is torn down. */
export function runRaceLane(init: RaceLaneInit): void {
  const vm = attachVm(init.hv, init.ram);
  const r = vm.race;
  const b = laneBase(init.lane);
  const vcpu = init.vcpu >= 0 ? new VcpuLane(vm, init.vcpu) : null;
  const kvm = vcpu !== null ? vcpu.kvm : new Kvm(vm);
  const publish = vcpu !== null ? () => vcpu.publish(r, b) : null;
  raceSetLane(init.lane, init.vcpu, publish);
  const args = new Int32Array(6);
  const res = new Int32Array(4);
  const modeAt = init.vcpu * KVCPU_WORDS + KVCPU_MODE;
  let last = Atomics.load(r, b + LANE_CMD_SEQ);
  Atomics.store(r, b + LANE_STATE, LANE_IDLE);
  raceBell(r);
  for (;;) {
    const seq = Atomics.load(r, b + LANE_CMD_SEQ);
    if (seq === last) {
      if (Atomics.load(r, RACE_ARMED) === 0) return; // the lab VM is gone
      // Kicked while "in guest mode": take the IPI now. LANE_KICK is up from
      // before the ack (vmExit) until the flushed TLB is published, so the
      // engine's snapshot after the requester's step never sees it half done.
      if (vcpu !== null && Atomics.load(vm.kvmVcpu, modeAt) === EXITING_GUEST_MODE) {
        Atomics.store(r, b + LANE_KICK, 1);
        vcpu.mmu.vcpuCheckRequests();
        publish!();
        Atomics.store(r, b + LANE_KICK, 0);
        raceBell(r);
      }
      Atomics.wait(r, b + LANE_CMD_SEQ, seq, 2);
      continue;
    }
    last = seq;
    const op = Atomics.load(r, b + LANE_OP);
    if (op === OP_QUIT) return;
    for (let i = 0; i < 6; i++) args[i] = Atomics.load(r, b + LANE_ARGS + i);
    res.fill(0);
    Atomics.store(r, b + LANE_STATE, LANE_BUSY);
    let state = LANE_DONE;
    try {
      if (vcpu !== null) vcpuOp(vcpu, op, args, res);
      else hostOp(kvm, op, args, res, r);
    } catch (e) {
      state = LANE_ERROR;
      writeMessage(r, b, e instanceof Error ? e.message : String(e));
    }
    if (publish !== null) publish();
    for (let i = 0; i < 4; i++) Atomics.store(r, b + LANE_RESULT + i, res[i]!);
    Atomics.store(r, b + LANE_STATE, state);
    Atomics.store(r, b + LANE_DONE_SEQ, seq);
    raceBell(r);
  }
}
