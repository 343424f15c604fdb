// The vCPU run loop: KVM_RUN for one vCPU, in its own worker.
//
// Guest code runs in batches of BATCH instructions. Between batches is the
// poll point: pending vCPU requests (remote TLB flushes), interrupt lines,
// HTIF, the instruction limit and new commands from the VMM are looked at
// there, so a busy vCPU answers a flush within BATCH instructions (a few µs).
// Everything else, faults, MMIO and SBI calls, happens inside hart.run()
// through the HartMemory and HartEnv hooks, as VM exits.
import { Hart } from '../cpu/hart.ts';
import { RUN_STOP, RUN_TRAP_LOOP, RUN_WFI, RUN_YIELD } from '../cpu/exits.ts';
import { ACC_EXEC, PRV_M, PRV_S } from '../cpu/memory.ts';
import type { HartEnv } from '../cpu/env.ts';
import { attachVm, type VmShared } from './shm.ts';
import { Kvm } from './kvm-host.ts';
import { KvmVcpuRequests } from './requests.ts';
import { KvmVcpuMmu } from './vcpu-mmu.ts';
import { Platform } from '../devices/platform.ts';
import type { HtifMemory } from '../devices/htif.ts';
import { readGuestWord, writeGuestWord } from './guest-mem.ts';
import { MIP_SSIP, MIP_STIP } from '../devices/irq-lines.ts';
import { deadlineOf } from '../devices/timecmp.ts';
import { sbiEcall } from './sbi.ts';
import { kvmDirtyRingCheckRequest, kvmDirtyRingSoftFull, kvmSetRunningVcpu } from './dirty-ring.ts';
import { VcpuSbiHost, HSM_STARTED, HSM_STOPPED, HSM_STOP_PENDING, HSM_START_PENDING } from './vcpu-sbi-host.ts';
import {
  CMD_PAUSE, CMD_QUIT, CMD_RUN, CMD_STEP, EXITK_HTIF, EXITK_INTERNAL, EXITK_SHUTDOWN, EXITK_LIMIT, EXITK_TRAP, EXIT_DIRTY_RING_FULL, EXIT_HTIF, EXIT_PAUSE, EXIT_SBI,
  EXIT_WFI, VCPU_ACK_SEQ, VCPU_CMD, VCPU_CMD_SEQ, VCPU_CSR, VCPU_EXITS, VCPU_HSM, VCPU_INSTRET_HI, VCPU_INSTRET_LO,
  VCPU_PC, VCPU_PRIV, VCPU_SSIP, VCPU_START_ARG, VCPU_START_PC, VCPU_STATE, VCPU_STIMER_HI, VCPU_STIMER_LO,
  VCPU_STRIDE, VCPU_X, VM_BOOT_MODE, VM_ENTRY, VM_FROMHOST, VM_MAX_INSNS_HI, VM_MAX_INSNS_LO, VM_STATE, VM_EXITED,
  VM_TOHOST, VM_TRACE_WANT, VM_TRACE_LEN, VS_DONE, VS_HSM_STOPPED, VS_IDLE, VS_RUNNING, VS_WFI, SNAPSHOT_CSRS,
  CMD_RESET, recordVmExit, TRACE_ENTRY_WORDS, writeVmMessage,
} from './vcpu-ctl.ts';

/** Instructions between poll points. */
export const BATCH = 256;
/** Longest WFI sleep before the loop looks around again (console input is polled). */
const MAX_SLEEP_MS = 10;

/** Interrupts a hypervisor-provided SBI delegates to S-mode, as OpenSBI and KVM do. */
const SBI_MIDELEG = (1 << 1) | (1 << 5) | (1 << 9); // SSI, STI, SEI
/** Every exception but the ecalls from S and M, which are the SBI's. */
const SBI_MEDELEG = 0xb3ff & ~(1 << 9);

export interface VcpuInit {
  hv: SharedArrayBuffer;
  ram: SharedArrayBuffer;
  vcpuId: number;
}

export class VcpuRunner {
  readonly vm: VmShared;
  readonly kvm: Kvm;
  readonly req: KvmVcpuRequests;
  readonly ctlAll: Int32Array;
  readonly ctl: number; // first word of this vCPU's block in ctlAll
  readonly vmWords: Int32Array;
  readonly trace: Int32Array;
  platform: Platform;
  mmu: KvmVcpuMmu;
  readonly hart: Hart;
  private readonly sbiHost: VcpuSbiHost;
  /** How HTIF reads and writes tohost/fromhost (made once: poll runs every batch). */
  private readonly htifMem: HtifMemory;
  private seen = 0;
  private sbiMode = false;

  constructor(readonly init: VcpuInit) {
    this.vcpuId = init.vcpuId;
    this.vm = attachVm(init.hv, init.ram);
    this.kvm = new Kvm(this.vm, this.vcpuId);
    this.req = new KvmVcpuRequests(this.vm, this.vcpuId);
    this.ctlAll = this.vm.view('vcpu');
    this.ctl = this.vcpuId * VCPU_STRIDE;
    this.vmWords = this.vm.view('vm');
    this.trace = this.vm.view('trace');
    this.platform = this.makePlatform();
    this.mmu = new KvmVcpuMmu(this.kvm, this.req, this.platform.createBus(this.vcpuId));
    const env: HartEnv = { ecall: (h) => this.ecall(h), readTime: () => this.platform.clock.mtime() };
    this.hart = new Hart(this.vcpuId, this.mmu, env);
    this.req.hart = this.hart;
    // markPageDirty finds this thread's dirty ring through it (kvm_get_running_vcpu).
    kvmSetRunningVcpu(this.vcpuId);
    // A request for the run loop made inside a batch (the dirty ring filling
    // up during a fault) ends the batch after the current instruction.
    this.req.onDeferred = () => {
      this.hart.exitReq = RUN_YIELD;
    };
    this.sbiHost = new VcpuSbiHost(this);
    this.htifMem = {
      readWord: (gpa) => readGuestWord(this.vm, gpa),
      writeWord: (gpa, v) => writeGuestWord(this.vm, gpa, v),
    };
  }

  readonly vcpuId: number;

  private makePlatform(): Platform {
    const w = this.vmWords;
    const tohost = w[VM_TOHOST] === -1 ? undefined : w[VM_TOHOST] >>> 0;
    const fromhost = w[VM_FROMHOST] === -1 ? undefined : w[VM_FROMHOST] >>> 0;
    return new Platform(this.vm.view('platform'), { nvcpus: this.vm.config.vcpus }, {
      kick: (id) => this.kick(id),
      tohost,
      fromhost,
    });
  }

  private kick(id: number): void {
    const i = id * VCPU_STRIDE + 9; // VCPU_WAKE
    Atomics.add(this.ctlAll, i, 1);
    Atomics.notify(this.ctlAll, i);
  }

  // ── the command loop ───────────────────────────────────────────────────────

  /** Serve VMM commands until CMD_QUIT. Never returns to the event loop before that. */
  main(): void {
    const ctl = this.ctlAll;
    const c = this.ctl;
    for (;;) {
      const seq = Atomics.load(ctl, c + VCPU_CMD_SEQ);
      if (seq === this.seen) {
        Atomics.wait(ctl, c + VCPU_CMD_SEQ, seq, 1000);
        continue;
      }
      this.seen = seq;
      const cmd = ctl[c + VCPU_CMD];
      if (cmd === CMD_QUIT) {
        this.ack();
        return;
      }
      this.command(cmd);
    }
  }

  private command(cmd: number): void {
    try {
      this.commandUnsafe(cmd);
    } catch (e) {
      // A failure here must not kill the worker: the VMM would wait for an
      // ack that never comes. Record it as the VM's exit and answer.
      this.internalError(e);
      this.ack();
    }
  }

  private commandUnsafe(cmd: number): void {
    if (cmd === CMD_RESET) this.reset();
    else if (cmd === CMD_STEP) this.step();
    else if (cmd === CMD_RUN) {
      this.ack(); // RUN is acknowledged at once; it ends with the next command
      this.runGuest();
      return;
    } else if (cmd === CMD_PAUSE) this.ctlAll[this.ctl + VCPU_EXITS + EXIT_PAUSE]++;
    this.snapshot();
    this.ack();
  }

  private ack(): void {
    Atomics.store(this.ctlAll, this.ctl + VCPU_STATE, this.isDone() ? VS_DONE : VS_IDLE);
    Atomics.store(this.ctlAll, this.ctl + VCPU_ACK_SEQ, this.seen);
    Atomics.notify(this.ctlAll, this.ctl + VCPU_ACK_SEQ);
  }

  private isDone(): boolean {
    return Atomics.load(this.vmWords, VM_STATE) === VM_EXITED;
  }

  private newCommand(): boolean {
    return Atomics.load(this.ctlAll, this.ctl + VCPU_CMD_SEQ) !== this.seen;
  }

  /** Back to reset state for the program described in region 'vm' (after a load). */
  private reset(): void {
    this.req.resetState();
    this.platform = this.makePlatform();
    this.mmu.bus = this.platform.createBus(this.vcpuId);
    const w = this.vmWords;
    const entry = w[VM_ENTRY];
    this.hart.reset(entry);
    this.hart.x[10] = this.vcpuId; // a0 = hart id, as firmware leaves it
    this.sbiMode = w[VM_BOOT_MODE] === 1;
    const ctl = this.ctlAll;
    const c = this.ctl;
    ctl[c + VCPU_STIMER_LO] = -1;
    ctl[c + VCPU_STIMER_HI] = -1;
    Atomics.store(ctl, c + VCPU_SSIP, 0);
    Atomics.store(ctl, c + VCPU_INSTRET_LO, 0);
    Atomics.store(ctl, c + VCPU_INSTRET_HI, 0);
    if (this.sbiMode) {
      this.enterSupervisor(entry, 0);
      // Only the boot hart runs; the others wait for SBI HSM hart_start.
      Atomics.store(ctl, c + VCPU_HSM, this.vcpuId === 0 ? HSM_STARTED : HSM_STOPPED);
    } else {
      Atomics.store(ctl, c + VCPU_HSM, HSM_STARTED);
    }
  }

  /** Start in S-mode at `pc` with a0 = hart id, a1 = `arg`, as SBI firmware hands over. */
  private enterSupervisor(pc: number, arg: number): void {
    const h = this.hart;
    h.reset(pc);
    h.x[10] = this.vcpuId;
    h.x[11] = arg;
    h.medeleg = SBI_MEDELEG;
    h.mideleg = SBI_MIDELEG;
    h.mcounteren = 7; // cycle, time, instret readable from S
    h.setPriv(PRV_S);
  }

  // ── running guest code ─────────────────────────────────────────────────────

  private runGuest(): void {
    const ctl = this.ctlAll;
    const c = this.ctl;
    Atomics.store(ctl, c + VCPU_STATE, VS_RUNNING);
    this.req.vcpuEnterGuest();
    try {
      while (!this.newCommand() && !this.isDone()) {
        if (Atomics.load(ctl, c + VCPU_HSM) !== HSM_STARTED) {
          this.waitForHsmStart();
          continue;
        }
        if (!this.runBatch()) break;
      }
    } catch (e) {
      this.internalError(e);
    } finally {
      this.req.vcpuExitGuest();
      this.publishInstret();
      this.snapshot();
      Atomics.store(ctl, c + VCPU_STATE, this.isDone() ? VS_DONE : VS_IDLE);
    }
  }

  /** One batch and its poll point. Returns false when the vCPU must stop running. */
  private runBatch(): boolean {
    const h = this.hart;
    const reqs = this.req.vcpuCheckRequests();
    if (reqs !== 0 && kvmDirtyRingCheckRequest(this.vm, this.vcpuId, reqs)) this.waitDirtyRingRoom();
    this.platform.poll();
    this.updateIrqLines();
    const r = Atomics.load(this.vmWords, VM_TRACE_WANT) > 0 && this.vcpuId === 0 ? this.traceStep() : h.run(BATCH);
    this.publishInstret();
    if (this.platform.htif.enabled && this.pollHtif()) return false;
    if (this.overLimit()) return false;
    if (r === RUN_WFI) {
      // An interrupt already pending but masked in mie would never wake a
      // sleeper; WFI may return at any time, so it returns at once then.
      if (h.mip !== 0) return true;
      this.ctlAll[this.ctl + VCPU_EXITS + EXIT_WFI]++;
      this.sleepUntilInterrupt(false);
    } else if (r === RUN_STOP) {
      return this.stopped();
    } else if (r === RUN_TRAP_LOOP) {
      this.recordTrapLoop();
      return false;
    }
    return true; // RUN_BUDGET, RUN_YIELD: the next poll point looks at what is pending
  }

  /**
   * A trap with no working handler: trapLog[3..5] is the trap that sent the
   * guest to the handler that cannot be fetched; [0..2] is that fetch fault.
   */
  private recordTrapLoop(): void {
    const t = this.hart.trapLog;
    writeVmMessage(this.vmWords, this.vm.view('vm-msg'),
      `its handler at 0x${(t[1] >>> 0).toString(16)} cannot be fetched (cause ${t[0]})`);
    recordVmExit(this.vmWords, EXITK_TRAP, 0, this.vcpuId, t[4], t[3], t[5]);
  }

  /**
   * KVM_EXIT_DIRTY_RING_FULL: the ring is soft-full, so the vCPU leaves the
   * guest until userspace has harvested and reset it (KVM_RESET_DIRTY_RINGS
   * kicks us), as KVM_RUN returns to userspace in the kernel.
   */
  private waitDirtyRingRoom(): void {
    this.ctlAll[this.ctl + VCPU_EXITS + EXIT_DIRTY_RING_FULL]++;
    while (kvmDirtyRingSoftFull(this.vm, this.vcpuId) && !this.newCommand() && !this.isDone()) {
      this.req.vcpuBlock(this.req.wakeSequence(), MAX_SLEEP_MS);
    }
  }

  /** hart.stopRequested was set: an SBI hart_stop, or a shutdown already recorded. */
  private stopped(): boolean {
    this.hart.stopRequested = false;
    const hsm = this.ctl + VCPU_HSM;
    if (Atomics.compareExchange(this.ctlAll, hsm, HSM_STOP_PENDING, HSM_STOPPED) === HSM_STOP_PENDING) {
      // The last running hart stopped: nothing can ever start one again, so
      // the machine has powered itself off (docs/guest-abi.md §10).
      if (this.allHartsStopped()) recordVmExit(this.vmWords, EXITK_SHUTDOWN, 0, this.vcpuId, this.hart.pc);
      return true;
    }
    return !this.isDone();
  }

  private allHartsStopped(): boolean {
    for (let v = 0; v < this.vm.config.vcpus; v++) {
      if (Atomics.load(this.ctlAll, v * VCPU_STRIDE + VCPU_HSM) !== HSM_STOPPED) return false;
    }
    return true;
  }

  /** An S-mode secondary hart, stopped until another hart calls HSM hart_start. */
  private waitForHsmStart(): void {
    const ctl = this.ctlAll;
    const c = this.ctl;
    Atomics.store(ctl, c + VCPU_STATE, VS_HSM_STOPPED);
    const seq = this.req.wakeSequence();
    if (Atomics.load(ctl, c + VCPU_HSM) === HSM_START_PENDING) {
      this.enterSupervisor(ctl[c + VCPU_START_PC], ctl[c + VCPU_START_ARG]);
      Atomics.store(ctl, c + VCPU_HSM, HSM_STARTED);
      Atomics.store(ctl, c + VCPU_STATE, VS_RUNNING);
      return;
    }
    this.req.vcpuBlock(seq, 100);
  }

  /**
   * Drive the hart's interrupt lines from the devices (PLIC, CLINT), the SBI
   * timer deadline (STIP) and SBI IPIs (SSIP, a software bit the guest clears).
   */
  updateIrqLines(): void {
    const h = this.hart;
    const ctl = this.ctlAll;
    const c = this.ctl;
    let lines = this.platform.irqLines(this.vcpuId);
    if (this.sbiMode) {
      const deadline = deadlineOf(ctl[c + VCPU_STIMER_LO], ctl[c + VCPU_STIMER_HI]);
      if (deadline !== Infinity && this.platform.clock.mtime() >= deadline) lines |= MIP_STIP;
      if (ctl[c + VCPU_SSIP] !== 0 && Atomics.exchange(ctl, c + VCPU_SSIP, 0) !== 0) h.raiseInterrupt(MIP_SSIP);
    }
    h.setIrqLines(lines);
  }

  /**
   * WFI (or SBI suspend): sleep outside guest mode until an interrupt is
   * pending and enabled in mie (whatever mstatus.xIE says, as WFI requires),
   * a new command arrives, or the VM ends. Returns false if it gave up.
   */
  sleepUntilInterrupt(fromSbi: boolean): boolean {
    const ctl = this.ctlAll;
    const c = this.ctl;
    Atomics.store(ctl, c + VCPU_STATE, VS_WFI);
    for (;;) {
      const seq = this.req.wakeSequence();
      this.platform.poll();
      this.updateIrqLines();
      if ((this.hart.mip & this.hart.mie) !== 0) break;
      if (this.newCommand() || this.isDone()) {
        Atomics.store(ctl, c + VCPU_STATE, VS_RUNNING);
        return false;
      }
      this.req.vcpuBlock(seq, Math.min(MAX_SLEEP_MS, this.msUntilTimer()));
    }
    if (fromSbi) this.ctlAll[c + VCPU_EXITS + EXIT_WFI]++;
    Atomics.store(ctl, c + VCPU_STATE, VS_RUNNING);
    return true;
  }

  private msUntilTimer(): number {
    const ctl = this.ctlAll;
    const c = this.ctl;
    const clint = this.platform.nextTimerDeadline(this.vcpuId);
    const sbi = this.sbiMode ? deadlineOf(ctl[c + VCPU_STIMER_LO], ctl[c + VCPU_STIMER_HI]) : Infinity;
    return this.platform.clock.msUntil(Math.min(clint, sbi));
  }

  // ── exits handled here ─────────────────────────────────────────────────────

  /** ECALL: SBI for an S-mode kernel when the hypervisor is its firmware. */
  private ecall(h: Hart): boolean {
    if (!this.sbiMode || h.priv !== PRV_S) return false;
    this.ctlAll[this.ctl + VCPU_EXITS + EXIT_SBI]++;
    this.req.vmExit();
    try {
      return sbiEcall(h.x, this.sbiHost);
    } finally {
      this.req.vmEntry();
    }
  }

  /** HTIF: look at tohost. Returns true if the guest asked to exit. */
  private pollHtif(): boolean {
    const htif = this.platform.htif;
    const before = htif.commands;
    htif.poll(this.htifMem);
    this.ctlAll[this.ctl + VCPU_EXITS + EXIT_HTIF] += htif.commands - before;
    if (!htif.exited) return false;
    recordVmExit(this.vmWords, EXITK_HTIF, htif.exitCode, this.vcpuId, this.hart.pc);
    return true;
  }

  private overLimit(): boolean {
    const lo = this.vmWords[VM_MAX_INSNS_LO];
    const hi = this.vmWords[VM_MAX_INSNS_HI];
    if (lo === 0 && hi === 0) return false;
    if (this.hart.instret < hi * 2 ** 32 + (lo >>> 0)) return false;
    recordVmExit(this.vmWords, EXITK_LIMIT, 0, this.vcpuId, this.hart.pc);
    return true;
  }

  /** --trace: execute one instruction, recording pc, the instruction word and the privilege. */
  private traceStep(): number {
    const h = this.hart;
    const w = this.vmWords;
    const n = w[VM_TRACE_LEN];
    const at = n * TRACE_ENTRY_WORDS;
    if (at + TRACE_ENTRY_WORDS <= this.trace.length) {
      this.trace[at] = h.pc;
      this.trace[at + 1] = this.fetchForTrace(h.pc);
      this.trace[at + 2] = h.priv;
      Atomics.store(w, VM_TRACE_LEN, n + 1);
    }
    Atomics.sub(w, VM_TRACE_WANT, 1);
    return h.run(1);
  }

  private fetchForTrace(pc: number): number {
    const h = this.hart;
    const page = this.mmu.translate(pc & ~0xfff, ACC_EXEC, h.priv, h.satp, h.mstatus);
    return page >= 0 ? this.vm.ramI32[(page + (pc & 0xfff)) >>> 2] : 0;
  }

  /**
   * Single-step: one instruction, with every exit handled as in a batch. A
   * hart HSM has stopped does not run; one with a start pending starts first.
   */
  private step(): void {
    if (this.isDone()) return;
    const hsm = Atomics.load(this.ctlAll, this.ctl + VCPU_HSM);
    if (hsm === HSM_START_PENDING) this.waitForHsmStart();
    else if (hsm !== HSM_STARTED) return;
    this.req.vcpuEnterGuest();
    try {
      this.updateIrqLines();
      const r = this.hart.run(1);
      this.publishInstret();
      if (this.platform.htif.enabled) this.pollHtif();
      if (r === RUN_STOP) this.stopped();
      else if (r === RUN_TRAP_LOOP) this.recordTrapLoop();
    } finally {
      this.req.vcpuExitGuest();
    }
  }

  private publishInstret(): void {
    const n = this.hart.instret;
    Atomics.store(this.ctlAll, this.ctl + VCPU_INSTRET_LO, n | 0);
    Atomics.store(this.ctlAll, this.ctl + VCPU_INSTRET_HI, Math.floor(n / 2 ** 32));
  }

  /** Registers into the control block, for getRegs and the UI. */
  private snapshot(): void {
    const r = this.hart.getRegs();
    const ctl = this.ctlAll;
    const c = this.ctl;
    ctl[c + VCPU_PC] = r.pc;
    ctl[c + VCPU_PRIV] = r.priv;
    for (let i = 0; i < 32; i++) ctl[c + VCPU_X + i] = r.x[i];
    SNAPSHOT_CSRS.forEach((name, i) => (ctl[c + VCPU_CSR + i] = r.csrs[name] ?? 0));
  }

  private internalError(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    writeVmMessage(this.vmWords, this.vm.view('vm-msg'), msg);
    recordVmExit(this.vmWords, EXITK_INTERNAL, 0, this.vcpuId, this.hart.pc);
  }
}

/** Entry point of a vCPU worker (browser or Node). */
export function runVcpuThread(init: VcpuInit): void {
  new VcpuRunner(init).main();
}
