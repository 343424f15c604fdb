// One vCPU's memory system: the HartMemory the hart calls on a TLB miss.
//
// translate() plays the part of the MMU hardware running a shadow page table:
//   1. pick the root: the nonpaging (guest-physical) root when priv is M or
//      satp.MODE is bare, else the indirect root shadowing the table at
//      satp.PPN. Roots are cached per vCPU and (re)loaded under mmu_lock when
//      satp changes or a KVM_REQ_MMU_RELOAD dropped them. A guest-physical
//      address in no memslot is MMIO: answered at once, without the lock;
//   2. walk the two-level SPTE table, reading each SPTE once (Atomics.load);
//   3. a present leaf that permits the access (R/W/X, U with SUM/MXR, as the
//      guest's PTE would) gets A (and D on a write) set, if not set yet, and
//      its pfn goes to the hart's TLB; an MMIO SPTE that permits it is an MMIO
//      exit without a fault;
//   4. anything else is a "VM exit" into the KVM page-fault path (fault.ts),
//      outside guest mode, then a re-entry (pending requests processed) and
//      another walk, a bounded number of times.
// The walk sets A/D with a compareExchange of the value it read rather than a
// blind Atomics.or: if the SPTE was zapped or changed in between, the walk
// starts over instead of resurrecting a cleared word or losing the new value.
//
// Guest mode: while the hart runs guest code, and during this walk, the vCPU
// is IN_GUEST_MODE (requests.ts); a page table is freed only after every such
// vCPU acknowledged a TLB flush, which it does at a poll point, between walks.

import { ACC_WRITE, PRV_M, XLATE_MMIO, type HartMemory } from '../cpu/memory.ts';
import { KvmError } from './errors.ts';
import {
  KVCPU_NONPAGING_ROOT, KVCPU_ROOT, KVCPU_SATP, KVCPU_STAT_MMIO_EXITS, KVCPU_STAT_MMIO_FAST,
  KVCPU_STAT_ROOT_LOAD, KVCPU_STAT_TLB_MISS, KVCPU_WORDS, SP_NIL,
} from './fields.ts';
import { RET_PF_RETRY, kvmMmuPageFault } from './fault.ts';
import { kvmSetPfnDirty } from './hostmem.ts';
import type { Kvm } from './kvm-host.ts';
import { MemslotCache, kvmVcpuGfnToMemslot, markPageDirty } from './memslot.ts';
import { kvmMmuGetRoot, kvmMmuPteWrite, rootIsInvalid } from './mmu.ts';
import {
  NONPAGING_ROOT_ROLE, PAGING_ROOT_ROLE, kvmMmuCommitZapPage, kvmMmuPutRoot, makeMmuPagesAvailable,
} from './mmu-page.ts';
import { kvmFlushRemoteTlbs, type KvmVcpuRequests, type VcpuTlb } from './requests.ts';
import type { VmShared } from './shm.ts';
import { PAGE_WORDS } from './shm.ts';
import {
  SPTE_ACCESSED, SPTE_DIRTY, SPTE_EXEC, SPTE_MMIO, SPTE_PERM_MASK, SPTE_PRESENT, SPTE_READ,
  SPTE_WRITABLE,
} from './spte.ts';
import { GuestWalker, permitted } from './walk.ts';

/** The device side of a vCPU (src/devices/bus.ts implements it). */
export interface MmioBus {
  /** Read `size` bytes (1, 2, 4) at guest physical `paddr`; sets `error` if nothing answers. */
  load(paddr: number, size: number): number;
  store(paddr: number, size: number, value: number): void;
  /** Whether the last load/store failed (the hart then raises an access fault). */
  error: boolean;
}

// walkShadow() results besides a host page offset (>= 0) and XLATE_MMIO.
/** No usable SPTE: not present, or it denies more than write. */
const WALK_FAULT = -10;
/** A present SPTE that denies only write: a candidate for the fast page fault. */
const WALK_WRITE_PROTECT = -11;
/** The SPTE changed while we set A/D: walk again. */
const WALK_AGAIN = -12;

/** Fault-path rounds before translate() gives up; after SLEEP_AFTER, each waits 1 ms. */
const MAX_FAULT_ROUNDS = 2000;
const SLEEP_AFTER = 64;

/** SPTE permission a guest-physical access needs, by access type. */
const NONPAGING_NEED = [SPTE_READ, SPTE_WRITABLE, SPTE_EXEC];

const SATP_MODE_SV32 = 0x80000000 | 0;
const SATP_PPN_MASK = 0x3fffff;

export class KvmVcpuMmu implements HartMemory {
  readonly ram: SharedArrayBuffer;
  faultCause = 0;
  mmioAddr = 0;
  hostAddr = 0;
  busError = false;

  /** struct kvm as this vCPU's thread sees it (its locks are owned by this vCPU). */
  readonly kvm: Kvm;
  readonly requests: KvmVcpuRequests;
  /** The guest walker's result of the last slow paging fault. */
  readonly walker = new GuestWalker();

  /** Indirect root shadowing the guest table at rootPpn, or SP_NIL. */
  root = SP_NIL;
  rootPpn = -1;
  /** Direct root of the guest-physical map, or SP_NIL. */
  nonpagingRoot = SP_NIL;

  /** Pending emulated write (set with XLATE_EMULATE, consumed by afterEmulatedWrite). */
  emulateGfn = -1;
  emulatePfn = 0;
  emulateOffset = 0;

  private readonly vm: VmShared;
  private readonly spt: Int32Array;
  private readonly words: Int32Array;
  private readonly base: number;
  /**
   * The memslot this vCPU last hit (vcpu->last_used_slot): the MMIO check of
   * every guest-physical TLB miss and the fast page fault's markPageDirty use
   * it instead of scanning the slots.
   */
  readonly slotCache = new MemslotCache();
  private readonly sleepWord = new Int32Array(new SharedArrayBuffer(4));

  /**
   * @param kvm      this vCPU thread's struct kvm: `new Kvm(vm, vcpuId)` (kvm.self is the vCPU id)
   * @param requests this vCPU's request/mode words: `new KvmVcpuRequests(vm, vcpuId)`; the run
   *                 loop drives it too, and sets its `hart` (or call attachHart)
   * @param bus      this vCPU's MMIO bus (mmioLoad/mmioStore forward to it; may be replaced)
   */
  constructor(kvm: Kvm, requests: KvmVcpuRequests, public bus: MmioBus) {
    const vm = kvm.vm;
    const vcpuId = kvm.self;
    if (!(Number.isInteger(vcpuId) && vcpuId >= 0 && vcpuId < vm.config.vcpus) || requests.vcpuId !== vcpuId) {
      throw new KvmError('EINVAL', `KvmVcpuMmu: kvm.self (${vcpuId}) and requests.vcpuId (${requests.vcpuId}) must be the same vCPU in 0..${vm.config.vcpus - 1}`);
    }
    this.vcpuId = vcpuId;
    this.kvm = kvm;
    this.vm = vm;
    this.ram = vm.ram;
    this.spt = vm.spt;
    this.words = vm.kvmVcpu;
    this.base = vcpuId * KVCPU_WORDS;
    this.requests = requests;
    requests.onMmuReload = () => this.mmuFreeRoots();
  }

  readonly vcpuId: number;

  /** Give the requests machinery the hart whose TLB it flushes. */
  attachHart(hart: VcpuTlb): void {
    this.requests.hart = hart;
  }

  /** Count one event in this vCPU's KVCPU_STAT_* word. */
  stat(field: number): void {
    this.words[this.base + field]++;
  }

  translate(vaddr: number, access: number, priv: number, satp: number, mstatus: number): number {
    const va = vaddr >>> 0;
    this.stat(KVCPU_STAT_TLB_MISS);
    const nonpaging = priv === PRV_M || (satp & SATP_MODE_SV32) === 0;
    if (nonpaging && !this.isRam(va >>> 12)) {
      this.mmioAddr = va;
      this.stat(KVCPU_STAT_MMIO_EXITS);
      this.stat(KVCPU_STAT_MMIO_FAST);
      return XLATE_MMIO;
    }
    for (let round = 0; ; round++) {
      if (round >= SLEEP_AFTER) this.backOff(round, va);
      const root = nonpaging ? this.nonpagingRoot : this.rootPpn === (satp & SATP_PPN_MASK) ? this.root : SP_NIL;
      if (rootIsInvalid(this.vm, root)) {
        this.requests.vmExit();
        this.kvmMmuLoad(nonpaging, satp);
        this.requests.vmEntry();
        continue;
      }
      const r = this.walkShadow(root, va, access, priv, mstatus, nonpaging);
      if (r >= 0) return r;
      if (r === XLATE_MMIO) {
        this.stat(KVCPU_STAT_MMIO_EXITS);
        this.stat(KVCPU_STAT_MMIO_FAST);
        return r;
      }
      if (r === WALK_AGAIN) continue;
      this.requests.vmExit();
      let f: number;
      try {
        // Pass the caller's number when it is already the unsigned address: an
        // address >= 2^31 (all of RAM) is a heap number in V8, and handing on
        // the one we were given costs nothing where `va` would be boxed anew.
        f = kvmMmuPageFault(this, vaddr === va ? vaddr : va, access, priv, satp, mstatus, nonpaging, r === WALK_WRITE_PROTECT);
      } finally {
        this.requests.vmEntry();
      }
      if (f !== RET_PF_RETRY) {
        if (f === XLATE_MMIO) this.stat(KVCPU_STAT_MMIO_EXITS);
        return f;
      }
    }
  }

  /** The "hardware" walk of the shadow table. See the file comment. */
  private walkShadow(root: number, va: number, access: number, priv: number, mstatus: number, nonpaging: boolean): number {
    const spt = this.spt;
    const l2 = Atomics.load(spt, root * PAGE_WORDS + (va >>> 22));
    if ((l2 & (SPTE_PRESENT | SPTE_PERM_MASK)) !== SPTE_PRESENT) return WALK_FAULT;
    const loc = (l2 >>> 12) * PAGE_WORDS + ((va >>> 12) & 0x3ff);
    const spte = Atomics.load(spt, loc);
    if ((spte & SPTE_PRESENT) === 0) {
      if ((spte & SPTE_MMIO) === 0 || !permitted(spte, access, priv, mstatus)) return WALK_FAULT;
      this.mmioAddr = (spte >>> 12) * 4096 + (va & 0xfff);
      return XLATE_MMIO;
    }
    const ok = nonpaging ? (spte & NONPAGING_NEED[access]!) !== 0 : permitted(spte, access, priv, mstatus);
    if (!ok) {
      const onlyWrite = access === ACC_WRITE && (nonpaging || permitted(spte | SPTE_WRITABLE, access, priv, mstatus));
      return onlyWrite ? WALK_WRITE_PROTECT : WALK_FAULT;
    }
    const want = access === ACC_WRITE ? SPTE_ACCESSED | SPTE_DIRTY : SPTE_ACCESSED;
    if ((spte & want) !== want && Atomics.compareExchange(spt, loc, spte, spte | want) !== spte) return WALK_AGAIN;
    return (spte >>> 12) * 4096;
  }

  /** Is gfn guest RAM? A per-vCPU cache of the last memslot hit, checked against the generation. */
  private isRam(gfn: number): boolean {
    return kvmVcpuGfnToMemslot(this.vm, this.slotCache, gfn);
  }

  /** kvm_mmu_load: (re)load the root this access needs. Outside guest mode; takes mmu_lock. */
  private kvmMmuLoad(nonpaging: boolean, satp: number): void {
    const kvm = this.kvm;
    kvm.mmuLock.lock();
    try {
      makeMmuPagesAvailable(kvm);
      if (nonpaging) {
        if (this.nonpagingRoot !== SP_NIL) kvmMmuPutRoot(kvm, this.nonpagingRoot);
        this.nonpagingRoot = kvmMmuGetRoot(kvm, 0, NONPAGING_ROOT_ROLE);
      } else {
        if (this.root !== SP_NIL) kvmMmuPutRoot(kvm, this.root);
        this.rootPpn = satp & SATP_PPN_MASK;
        this.root = kvmMmuGetRoot(kvm, this.rootPpn, PAGING_ROOT_ROLE);
      }
      kvmMmuCommitZapPage(kvm);
    } finally {
      kvm.mmuLock.unlock();
    }
    this.publishRoots(satp);
    this.stat(KVCPU_STAT_ROOT_LOAD);
  }

  /**
   * mmu_free_roots: let go of both roots (KVM_REQ_MMU_RELOAD, or the vCPU is
   * going away). A zapped root whose last user this was is freed here, after
   * a flush. Outside guest mode; takes mmu_lock.
   */
  mmuFreeRoots(): void {
    if (this.root === SP_NIL && this.nonpagingRoot === SP_NIL) return;
    const kvm = this.kvm;
    kvm.mmuLock.lock();
    try {
      if (this.root !== SP_NIL) kvmMmuPutRoot(kvm, this.root);
      if (this.nonpagingRoot !== SP_NIL) kvmMmuPutRoot(kvm, this.nonpagingRoot);
      this.root = SP_NIL;
      this.rootPpn = -1;
      this.nonpagingRoot = SP_NIL;
      kvmMmuCommitZapPage(kvm);
    } finally {
      kvm.mmuLock.unlock();
    }
    this.publishRoots(0);
  }

  private publishRoots(satp: number): void {
    const w = this.words;
    Atomics.store(w, this.base + KVCPU_ROOT, this.root);
    Atomics.store(w, this.base + KVCPU_NONPAGING_ROOT, this.nonpagingRoot);
    if (satp !== 0) Atomics.store(w, this.base + KVCPU_SATP, satp);
  }

  private backOff(round: number, va: number): void {
    if (round >= MAX_FAULT_ROUNDS) {
      throw new KvmError('EAGAIN', `vCPU ${this.vcpuId}: the page fault at 0x${va.toString(16)} made no progress in ${MAX_FAULT_ROUNDS} rounds ` +
        '(an MMU-notifier invalidation that never ends, or a shadow MMU bug)');
    }
    Atomics.wait(this.sleepWord, 0, 0, 1);
  }

  mmioLoad(paddr: number, size: number): number {
    const v = this.bus.load(paddr, size);
    this.busError = this.bus.error;
    return v;
  }

  mmioStore(paddr: number, size: number, value: number): void {
    this.bus.store(paddr, size, value);
    this.busError = this.bus.error;
  }

  /**
   * The hart stored to a shadowed guest page table at hostAddr (an emulated
   * write): zap the SPTEs derived from the guest PTE it changed
   * (kvm_mmu_pte_write), then log the page as written, as the emulator's
   * kvm_write_guest would.
   */
  afterEmulatedWrite(): void {
    const gfn = this.emulateGfn;
    if (gfn < 0) return;
    this.emulateGfn = -1;
    const kvm = this.kvm;
    this.requests.vmExit();
    kvm.mmuLock.lock();
    try {
      kvmMmuPteWrite(kvm, gfn, this.emulateOffset, 1);
    } finally {
      kvm.mmuLock.unlock();
    }
    markPageDirty(this.vm, gfn);
    kvmSetPfnDirty(this.vm, this.emulatePfn);
    this.requests.vmEntry();
  }

  /**
   * A remote TLB flush asked by this vCPU (sfence.vma broadcast, SBI remote
   * fence): leaves guest mode while it waits for the others, so two vCPUs
   * fencing each other cannot deadlock. `mask`: bit i = vCPU i (default all).
   */
  flushRemoteTlbs(cause: number, mask = -1): void {
    this.requests.vmExit();
    try {
      kvmFlushRemoteTlbs(this.kvm, cause, mask);
    } finally {
      this.requests.vmEntry();
    }
  }

  /** Poll point for the run loop: see KvmVcpuRequests.vcpuCheckRequests. */
  vcpuCheckRequests(): number {
    return this.requests.vcpuCheckRequests();
  }
}
