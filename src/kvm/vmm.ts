// The VMM: "userspace" of this hypervisor, the part QEMU plays for KVM. It
// creates the VM (both shared buffers), starts one worker per vCPU, loads
// programs, and drives the vCPUs through their control blocks (vcpu-ctl.ts).
// It runs in the VMM worker in the browser and on the main thread of the
// `webkvm` command under Node; both may block in Atomics.wait briefly (while
// vCPUs acknowledge a command), which a browser main thread must never do.
import { createVm, type VmShared } from './shm.ts';
import { Kvm } from './kvm-host.ts';
import { Platform } from '../devices/platform.ts';
import { readElf } from '../asm/elf.ts';
import { checkImage, loadImage, type LoadedProgram, type LoadImage } from './loader.ts';
import { kvmWriteGuest } from './memslot.ts';
import { check, KvmError } from './errors.ts';
import type { VcpuInit } from './vcpu-run.ts';
import {
  CMD_PAUSE, CMD_QUIT, CMD_RESET, CMD_RUN, CMD_STEP, EXITK_INTERNAL, EXITK_NONE, EXITK_TRAP, SNAPSHOT_CSRS, TRACE_ENTRIES,
  TRACE_ENTRY_WORDS, VCPU_ACK_SEQ, VCPU_CMD, VCPU_CMD_SEQ, VCPU_CSR, VCPU_PC, VCPU_PRIV, VCPU_STRIDE, VCPU_WAKE,
  VCPU_X, VM_BOOT_MODE, VM_ENTRY, VM_EXITED, VM_EXIT_CAUSE, VM_EXIT_CODE, VM_EXIT_KIND, VM_EXIT_PC, VM_EXIT_TVAL,
  VM_EXIT_VCPU, VM_FROMHOST, VM_LOADED, VM_MAX_INSNS_HI, VM_MAX_INSNS_LO, VM_PAUSED, VM_RUNNING, VM_STATE,
  VM_TOHOST, VM_TRACE_LEN, VM_TRACE_WANT, VM_EMPTY, readVmMessage, recordVmExit,
} from './vcpu-ctl.ts';
import { collectStats, type VmStats } from './stats.ts';
import { kvmSetUserMemoryRegion } from './set-memory-region.ts';
import { kvmClearDirtyLog, kvmEnableCap, kvmGetDirtyLog, kvmResetDirtyRings, type KvmClearDirtyLog, type KvmEnableCap } from './dirtylog.ts';
import { KVM_MEM_LOG_DIRTY_PAGES } from './fields.ts';
import { kvmResetGuestMemory } from './vm-reset.ts';
import { kvmKsmMergePages, kvmMigratePage, kvmSwapOutPage } from './host-ops.ts';

export type { VcpuInit } from './vcpu-run.ts';

/** How the VMM starts a vCPU worker (Web Worker in the browser, worker_threads in Node). */
export type VcpuSpawner = (init: VcpuInit, onError: (message: string) => void) => VcpuThread;
export interface VcpuThread {
  terminate(): Promise<void>;
}

export interface ExitInfo {
  kind: number;
  code: number;
  vcpu: number;
  pc: number;
  cause: number;
  tval: number;
  message?: string;
}

export interface VmmConfig {
  memBytes: number;
  vcpus: number;
}

/** How long the VMM waits for a vCPU to acknowledge a command before it calls the vCPU dead. */
const ACK_TIMEOUT_MS = 10_000;

export class Vmm {
  readonly vm: VmShared;
  readonly kvm: Kvm;
  readonly platform: Platform;
  private readonly ctl: Int32Array;
  private readonly vmWords: Int32Array;
  private threads: VcpuThread[] = [];
  private image: LoadImage | undefined;
  private imageName = '';
  private program: LoadedProgram | undefined;

  private constructor(cfg: VmmConfig) {
    this.vm = createVm({ memBytes: cfg.memBytes, vcpus: cfg.vcpus });
    this.kvm = new Kvm(this.vm);
    this.ctl = this.vm.view('vcpu');
    this.vmWords = this.vm.view('vm');
    this.vmWords[VM_TOHOST] = -1;
    this.vmWords[VM_FROMHOST] = -1;
    this.platform = new Platform(this.vm.view('platform'), { nvcpus: cfg.vcpus }, { kick: (id) => this.kick(id) });
    this.platform.init();
  }

  /** KVM_CREATE_VM + KVM_CREATE_VCPU for each vCPU. */
  static async create(cfg: VmmConfig, spawn: VcpuSpawner): Promise<Vmm> {
    const vmm = new Vmm(cfg);
    try {
      for (let id = 0; id < cfg.vcpus; id++) {
        const init: VcpuInit = { hv: vmm.vm.hv, ram: vmm.vm.ram, vcpuId: id };
        vmm.threads.push(spawn(init, (message) => vmm.vcpuDied(id, message)));
      }
      // Wait, without blocking, until every vCPU thread has answered once. A
      // browser does not start a nested worker while its parent is blocked in
      // Atomics.wait, so the first blocking wait must come after this.
      for (let id = 0; id < cfg.vcpus; id++) await vmm.waitAckAsync(id, vmm.command(id, CMD_PAUSE, false));
    } catch (e) {
      // No half-made VM keeps threads alive: stop whatever was started.
      await Promise.all(vmm.threads.map((t) => t.terminate()));
      vmm.threads = [];
      throw e;
    }
    return vmm;
  }

  private async waitAckAsync(v: number, seq: number): Promise<void> {
    const i = v * VCPU_STRIDE + VCPU_ACK_SEQ;
    const t0 = Date.now();
    for (;;) {
      const got = Atomics.load(this.ctl, i);
      if (got - seq >= 0) return;
      if (this.deathMessage) throw new KvmError('EFAULT', this.deathMessage);
      if (Date.now() - t0 > ACK_TIMEOUT_MS) throw new KvmError('EBUSY', `vCPU ${v} did not start within ${ACK_TIMEOUT_MS / 1000} s`);
      await waitChange(this.ctl, i, got, 50);
    }
  }

  get vcpus(): number {
    return this.vm.config.vcpus;
  }

  private vcpuDied(id: number, message: string): void {
    recordVmExit(this.vmWords, EXITK_INTERNAL, 0, id, 0);
    this.deathMessage = `vCPU ${id} worker failed: ${message}`;
  }
  private deathMessage = '';

  // ── programs ────────────────────────────────────────────────────────────────

  /** Validate an ELF, then load it (nothing changes if it is bad). */
  loadElf(bytes: Uint8Array, name: string): LoadedProgram {
    const elf = readElf(bytes, name);
    return this.loadProgramImage({ entry: elf.entry, segments: elf.segments, symbols: elf.symbols }, name);
  }

  loadProgramImage(img: LoadImage, name: string): LoadedProgram {
    const ram = { base: this.vm.config.ramBase >>> 0, size: this.vm.config.memBytes };
    check(this.vm.config.ramBase !== -1, 'ENXIO', 'load: the VM has no RAM memslot');
    checkImage(img, ram, name); // a bad image changes nothing, not even the running guest
    this.stopAll();
    kvmResetGuestMemory(this.kvm);
    const prog = loadImage(img, ram, name, (gpa, data) => {
      if (!kvmWriteGuest(this.vm, gpa, data)) throw new KvmError('EFAULT', `${name}: could not write 0x${gpa.toString(16)}`);
    });
    this.image = img;
    this.imageName = name;
    this.program = prog;
    const w = this.vmWords;
    w[VM_ENTRY] = prog.entry;
    w[VM_BOOT_MODE] = prog.bootMode === 'S' ? 1 : 0;
    w[VM_TOHOST] = prog.tohost === undefined ? -1 : prog.tohost;
    w[VM_FROMHOST] = prog.fromhost === undefined ? -1 : prog.fromhost;
    this.resetRunState();
    return prog;
  }

  /** Back to the state right after the load: memory reloaded, every vCPU at reset. */
  reset(): void {
    check(this.image !== undefined, 'ENOENT', 'reset: no program is loaded');
    this.loadProgramImage(this.image, this.imageName);
  }

  private resetRunState(): void {
    const w = this.vmWords;
    w[VM_EXIT_KIND] = EXITK_NONE;
    w[VM_EXIT_CODE] = 0;
    w[VM_TRACE_LEN] = 0;
    this.deathMessage = '';
    this.platform.init();
    Atomics.store(w, VM_STATE, VM_LOADED);
    this.commandAll(CMD_RESET, true);
  }

  // ── run control ─────────────────────────────────────────────────────────────

  setLimits(l: { maxInsns?: number; trace?: number }): void {
    const n = l.maxInsns ?? 0;
    this.vmWords[VM_MAX_INSNS_LO] = n % 2 ** 32 | 0;
    this.vmWords[VM_MAX_INSNS_HI] = Math.floor(n / 2 ** 32);
    this.vmWords[VM_TRACE_WANT] = Math.min(l.trace ?? 0, TRACE_ENTRIES);
  }

  run(): void {
    const s = Atomics.load(this.vmWords, VM_STATE);
    check(s !== VM_EMPTY, 'ENOENT', 'run: no program is loaded');
    if (s === VM_EXITED) throw new KvmError('EINVAL', 'run: the guest has exited; reset it first');
    this.writeClock('resume');
    Atomics.store(this.vmWords, VM_STATE, VM_RUNNING);
    this.commandAll(CMD_RUN, false);
  }

  pause(): void {
    this.stopAll();
    if (Atomics.load(this.vmWords, VM_STATE) === VM_RUNNING) Atomics.store(this.vmWords, VM_STATE, VM_PAUSED);
  }

  /** Execute one instruction on one vCPU (the VM must be paused). */
  step(vcpu: number): void {
    check(Number.isInteger(vcpu) && vcpu >= 0 && vcpu < this.vcpus, 'EINVAL', `step: no vCPU ${vcpu}`);
    const s = Atomics.load(this.vmWords, VM_STATE);
    check(s === VM_LOADED || s === VM_PAUSED, 'EBUSY', 'step: pause the VM first');
    this.command(vcpu, CMD_STEP, true);
    // The step may have ended the guest (VM_EXITED): keep that.
    Atomics.compareExchange(this.vmWords, VM_STATE, VM_LOADED, VM_PAUSED);
  }

  private stopAll(): void {
    this.commandAll(CMD_PAUSE, true);
    this.writeClock('pause');
  }

  private commandAll(cmd: number, wait: boolean): void {
    const seqs = [];
    for (let v = 0; v < this.vcpus; v++) seqs.push(this.command(v, cmd, false));
    if (wait) for (let v = 0; v < this.vcpus; v++) this.waitAck(v, seqs[v]);
  }

  /** Post a command to a vCPU's control block and kick it; optionally wait for the ack. */
  private command(v: number, cmd: number, wait: boolean): number {
    const c = v * VCPU_STRIDE;
    this.ctl[c + VCPU_CMD] = cmd;
    const seq = Atomics.add(this.ctl, c + VCPU_CMD_SEQ, 1) + 1;
    Atomics.notify(this.ctl, c + VCPU_CMD_SEQ);
    this.kick(v);
    if (wait) this.waitAck(v, seq);
    return seq;
  }

  private waitAck(v: number, seq: number): void {
    const i = v * VCPU_STRIDE + VCPU_ACK_SEQ;
    const t0 = Date.now();
    for (;;) {
      const got = Atomics.load(this.ctl, i);
      if (got - seq >= 0) return;
      if (this.deathMessage) throw new KvmError('EFAULT', this.deathMessage); // a dead worker never answers
      if (Date.now() - t0 > ACK_TIMEOUT_MS) {
        throw new KvmError('EBUSY', `vCPU ${v} did not answer within ${ACK_TIMEOUT_MS / 1000} s (${this.deathMessage || 'no reason given'})`);
      }
      Atomics.wait(this.ctl, i, got, 50);
    }
  }

  private kick(v: number): void {
    const i = v * VCPU_STRIDE + VCPU_WAKE;
    Atomics.add(this.ctl, i, 1);
    Atomics.notify(this.ctl, i);
  }

  // ── dirty logging (the VMM is the "userspace" collector) ──────────────────

  /** KVM_SET_USER_MEMORY_REGION on the RAM slot with KVM_MEM_LOG_DIRTY_PAGES on or off. */
  setDirtyLogging(on: boolean): void {
    const c = this.vm.config;
    check(c.ramBase !== -1, 'ENXIO', 'dirty logging: the VM has no RAM memslot');
    kvmSetUserMemoryRegion(this.kvm, { slot: 0, flags: on ? KVM_MEM_LOG_DIRTY_PAGES : 0, guestPhysAddr: c.ramBase >>> 0, memorySize: c.memBytes });
  }

  /** KVM_GET_DIRTY_LOG: bit i = page i of the slot; may run while the vCPUs run. */
  getDirtyLog(slot: number): Uint32Array {
    return kvmGetDirtyLog(this.kvm, slot);
  }

  /** KVM_CLEAR_DIRTY_LOG (manual protect). */
  clearDirtyLog(log: KvmClearDirtyLog): void {
    kvmClearDirtyLog(this.kvm, log);
  }

  /** KVM_ENABLE_CAP: manual dirty-log protect (168) or the dirty ring (192). */
  enableCap(cap: KvmEnableCap): void {
    kvmEnableCap(this.kvm, cap);
  }

  /** KVM_RESET_DIRTY_RINGS: re-protect harvested ring entries; returns how many. */
  resetDirtyRings(): number {
    const n = kvmResetDirtyRings(this.kvm);
    for (let v = 0; v < this.vcpus; v++) this.kick(v); // a vCPU waiting on a full ring may go on
    return n;
  }

  // ── host memory: what the host kernel does behind KVM's back (host-ops.ts) ──

  /** Swap gfn's page out; false if it was not resident. EFAULT outside every slot, ENOSPC. */
  swapOutPage(gfn: number): boolean {
    return kvmSwapOutPage(this.kvm, gfn);
  }

  /** KSM: merge two identical pages into one read-only pfn; false if already shared. */
  ksmMergePages(gfnA: number, gfnB: number): boolean {
    return kvmKsmMergePages(this.kvm, gfnA, gfnB);
  }

  /** Move gfn's page to a fresh pfn; returns it, or -1 if the page was not resident. */
  migratePage(gfn: number): number {
    return kvmMigratePage(this.kvm, gfn);
  }

  // ── what the guest did ──────────────────────────────────────────────────────

  /** How the guest ended, once it has. */
  exitInfo(): ExitInfo | undefined {
    const w = this.vmWords;
    if (Atomics.load(w, VM_STATE) !== VM_EXITED) return undefined;
    const info: ExitInfo = {
      kind: w[VM_EXIT_KIND], code: w[VM_EXIT_CODE], vcpu: w[VM_EXIT_VCPU],
      pc: w[VM_EXIT_PC], cause: w[VM_EXIT_CAUSE], tval: w[VM_EXIT_TVAL],
    };
    if (info.kind === EXITK_INTERNAL) info.message = this.deathMessage || readVmMessage(w, this.vm.view('vm-msg'));
    if (info.kind === EXITK_TRAP) info.message = readVmMessage(w, this.vm.view('vm-msg'));
    return info;
  }

  /** Resolve when the guest exits or after `ms`, without blocking the event loop. */
  async waitForExit(ms: number): Promise<void> {
    await waitChange(this.vmWords, VM_STATE, Atomics.load(this.vmWords, VM_STATE), ms);
  }

  getRegs(v: number): { pc: number; priv: number; x: number[]; csrs: Record<string, number> } {
    check(Number.isInteger(v) && v >= 0 && v < this.vcpus, 'EINVAL', `getRegs: no vCPU ${v}`);
    const c = v * VCPU_STRIDE;
    const x = Array.from(this.ctl.subarray(c + VCPU_X, c + VCPU_X + 32), (n) => n >>> 0);
    const csrs: Record<string, number> = {};
    SNAPSHOT_CSRS.forEach((name, i) => (csrs[name] = this.ctl[c + VCPU_CSR + i] >>> 0));
    return { pc: this.ctl[c + VCPU_PC] >>> 0, priv: this.ctl[c + VCPU_PRIV], x, csrs };
  }

  readConsole(): Uint8Array {
    return this.platform.consoleOut.consume();
  }

  /** Keystrokes for the guest's UART (and SBI getchar). Returns the bytes accepted. */
  writeConsole(bytes: Uint8Array): number {
    const n = this.platform.consoleIn.produce(bytes);
    for (let v = 0; v < this.vcpus; v++) this.kick(v);
    return n;
  }

  traceEntries(): { pc: number; insn: number; priv: number }[] {
    const t = this.vm.view('trace');
    const n = Atomics.load(this.vmWords, VM_TRACE_LEN);
    const out = [];
    for (let i = 0; i < n; i++) {
      const at = i * TRACE_ENTRY_WORDS;
      out.push({ pc: t[at] >>> 0, insn: t[at + 1] >>> 0, priv: t[at + 2] });
    }
    return out;
  }

  symbols(): Map<string, number> {
    return this.program?.symbols ?? new Map();
  }

  /** kvm_stat: read under kvm_lock, as 3.6's vm_stat_get walks vm_list under it. */
  stats(seconds: number): VmStats {
    this.kvm.kvmLock.lock();
    try {
      return collectStats(this.vm, seconds);
    } finally {
      this.kvm.kvmLock.unlock();
    }
  }

  /**
   * Guest time is a VM-wide offset (the clock region) that vCPUs read without
   * a lock, as a guest reads its TSC; writers serialize on the TSC write lock,
   * as kvm_write_tsc does for the TSC offset.
   */
  private writeClock(op: 'pause' | 'resume'): void {
    this.kvm.tscWriteLock.lock();
    try {
      this.platform.clock[op]();
    } finally {
      this.kvm.tscWriteLock.unlock();
    }
  }

  /** Stop every vCPU worker. The VM cannot be used afterwards. */
  async destroy(): Promise<void> {
    try {
      this.commandAll(CMD_QUIT, false);
    } finally {
      await Promise.all(this.threads.map((t) => t.terminate()));
      this.threads = [];
    }
  }
}

/** Resolve when a[i] is no longer `value`, or after `ms`, without blocking the thread. */
async function waitChange(a: Int32Array, i: number, value: number, ms: number): Promise<void> {
  const r = Atomics.waitAsync(a, i, value, ms);
  if (!r.async) return;
  // A pending waitAsync does not keep Node's event loop alive (the vCPU
  // workers are unref'd), so a timer of the same length does.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([r.value, new Promise<void>((res) => (timer = setTimeout(res, ms)))]);
  clearTimeout(timer);
}
