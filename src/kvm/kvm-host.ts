// struct kvm, as one thread sees it: the shared VM (VmShared) plus this
// thread's handles on the VM's locks and a little per-thread scratch state.
// Every MMU function takes one, as KVM's functions take `struct kvm *`.
//
// Make one per thread: `new Kvm(vm)` in the VMM worker, and one per vCPU (the
// vCPU's KvmVcpuMmu makes its own with `self` = the vCPU id, which tells the
// remote-flush code who is asking).

import type { VmShared } from './shm.ts';
import { KVM_LOCK, KVM_OWNER_VMM, MMU_LOCK, SLOTS_LOCK, SP_NIL, TSC_WRITE_LOCK } from './fields.ts';
import { KvmLock } from './locks.ts';
import { MAX_VCPUS } from './shm.ts';

/** `self` of a Kvm that belongs to no vCPU (the VMM worker, a test). */
export const KVM_SELF_VMM = -1;

/** Default time a remote TLB flush waits for a vCPU's acknowledgement. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 5000;

export class Kvm {
  readonly mmuLock: KvmLock;
  readonly kvmLock: KvmLock;
  readonly tscWriteLock: KvmLock;
  readonly slotsLock: KvmLock;
  /** Region 'events': the event ring kvmEvent() records into (events.ts). */
  readonly events: Int32Array;

  /** How long kvmFlushRemoteTlbs waits for a vCPU before it reports an error. */
  flushTimeoutMs = DEFAULT_FLUSH_TIMEOUT_MS;

  /**
   * Shadow pages prepared for zapping and not yet freed (linked through
   * SP_LIST_NEXT): KVM's local `invalid_list`. Only meaningful while this
   * thread holds mmu_lock, between kvmMmuPrepareZapPage and kvmMmuCommitZapPage.
   */
  invalidList = SP_NIL;
  /** A zapped page was some vCPU's root: commit must broadcast KVM_REQ_MMU_RELOAD. */
  reloadRemoteMmus = false;

  /** Scratch for kvmMakeAllCpusRequest: each vCPU's ack counter before the request. */
  readonly ackSnapshot = new Int32Array(MAX_VCPUS);
  readonly mustWait = new Uint8Array(MAX_VCPUS);

  /**
   * Race-lab hooks (null in normal runs): called on the slow page-fault path
   * after gfn_to_pfn and before mmu_lock, and on the fast path between reading
   * the SPTE and the cmpxchg. A UI replays locking.txt's races with them, and
   * tests use them to run an MMU notifier at exactly that point.
   */
  hookAfterGfnToPfn: ((gfn: number) => void) | null = null;
  hookBeforeFastCmpxchg: ((loc: number) => void) | null = null;

  /**
   * @param vm   the shared VM
   * @param self the vCPU this thread runs, or KVM_SELF_VMM
   */
  constructor(
    readonly vm: VmShared,
    readonly self: number = KVM_SELF_VMM,
  ) {
    const owner = self >= 0 ? self + 1 : KVM_OWNER_VMM;
    this.events = vm.view('events');
    this.mmuLock = new KvmLock(vm.locks, MMU_LOCK, owner, this.events);
    this.kvmLock = new KvmLock(vm.locks, KVM_LOCK, owner, this.events);
    this.tscWriteLock = new KvmLock(vm.locks, TSC_WRITE_LOCK, owner, this.events);
    this.slotsLock = new KvmLock(vm.locks, SLOTS_LOCK, owner, this.events);
  }
}
