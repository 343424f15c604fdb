// One RISC-V hart: RV32IMA + Zicsr + Zifencei with M, S and U modes.
//
// This file holds the architectural state and the public API; the pieces of
// behaviour live next to it, one concept per file:
//   interp.ts       the run loop (fetch, dispatch, the hot loads/stores)
//   decode.ts       word -> compact decoded form; decode-cache.ts keeps it per page
//   tlb.ts          the software TLB; mem-access.ts the slow paths behind it
//   amo.ts          LR/SC and AMOs (Atomics on the shared RAM)
//   csr-file.ts     CSR reads/writes and their access rules
//   trap.ts         exceptions, interrupts, delegation, mret/sret
// The memory system behind the TLB is a HartMemory (memory.ts).

import { RUN_BUDGET, RUN_STOP } from './exits.ts';
import type { HartEnv } from './env.ts';
import { PRV_M, type HartMemory } from './memory.ts';
import { SoftTlb } from './tlb.ts';
import { DecodeCache } from './decode-cache.ts';
import { MIP_LINES, MIP_SW_WRITABLE, MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_MPRV, MSTATUS_MXR, MSTATUS_SUM } from './csr-defs.ts';
import { CSR_NAMES } from './isa.ts';
import { csrReadRaw, csrWriteRaw } from './csr-file.ts';
import { checkInterrupts } from './trap.ts';
import { runLoop } from './interp.ts';

export interface HartOptions {
  /** Decode-cache capacity in 4 KiB pages (default 512, i.e. 4 MiB of decoded code). */
  decodePages?: number;
}

export interface HartRegs {
  /** All values unsigned 32-bit. */
  pc: number;
  priv: number;
  x: number[];
  csrs: Record<string, number>;
}

/** CSRs included in a register snapshot (getRegs/setRegs), by number. */
const SNAPSHOT_CSRS = [
  0x300, 0x301, 0x302, 0x303, 0x304, 0x305, 0x306, 0x340, 0x341, 0x342, 0x343, 0x344,
  0x100, 0x104, 0x105, 0x106, 0x140, 0x141, 0x142, 0x143, 0x144, 0x180, 0xf14,
];
/** The subset setRegs writes back (the rest are views or read-only). */
const RESTORE_CSRS = [
  0x300, 0x302, 0x303, 0x304, 0x305, 0x306, 0x340, 0x341, 0x342, 0x343, 0x344,
  0x105, 0x106, 0x140, 0x141, 0x142, 0x143, 0x180,
];

export class Hart {
  readonly hartId: number;
  readonly mem: HartMemory;
  readonly env: HartEnv;

  /**
   * x0..x31 as int32. A view of regFile; never write x[0] (the decoder sends
   * writes to x0 into the sink register regFile[32], so x[0] stays 0).
   */
  readonly x: Int32Array;
  /** 33 registers: x0..x31 and the write sink. The interpreter uses this. */
  readonly regFile: Int32Array;
  /** Program counter as int32 (use `>>> 0` to print). */
  pc = 0;
  /** Current privilege: PRV_U, PRV_S or PRV_M. */
  priv = PRV_M;

  // --- CSR state (int32). Views (sstatus, sie, sip) are computed from these.
  mstatus = 0;
  medeleg = 0;
  mideleg = 0;
  mie = 0;
  /** Software-writable pending bits (SSIP, STIP, SEIP). mip = mipSw | irqLines. */
  mipSw = 0;
  /** Level-sensitive lines driven by devices / the hypervisor (setIrqLines). */
  irqLines = 0;
  mtvec = 0;
  mscratch = 0;
  mepc = 0;
  mcause = 0;
  mtval = 0;
  mcounteren = 0;
  stvec = 0;
  sscratch = 0;
  sepc = 0;
  scause = 0;
  stval = 0;
  satp = 0;
  scounteren = 0;
  /** Retired instructions and cycles (one per instruction slot, traps included), up to 2^53. */
  instret = 0;
  cycle = 0;
  /** cause, epc, tval of the last trap [0..2] and of the one before it [3..5] (trap.ts). */
  readonly trapLog = new Int32Array(6);
  /** 64-bit offsets (lo, hi) guest writes put on mcycle [0,1] and minstret [2,3] (csr-file.ts). */
  readonly counterBias = new Int32Array(4);

  /** Set from anywhere (SBI shutdown, pause); run() then returns RUN_STOP. */
  stopRequested = false;

  // --- Memory views over mem.ram (host is little-endian, as RISC-V).
  readonly ramI8: Int8Array;
  readonly ramU8: Uint8Array;
  readonly ramI16: Int16Array;
  readonly ramU16: Uint16Array;
  readonly ram32: Int32Array;
  readonly tlb = new SoftTlb();
  readonly dcache: DecodeCache;
  /** Privilege used for loads/stores: MPP when MPRV=1 in M-mode, else priv. */
  effPriv = PRV_M;

  // --- LR/SC reservation: host byte offset and the value LR read (amo.ts).
  resValid = false;
  resAddr = 0;
  resValue = 0;

  // --- Fetch window: the page the interpreter is executing from (interp.ts).
  /** Virtual page of the current fetch window, or -1 (none). */
  fetchVA = -1;
  /** Index of the window's slot in dcache.code. */
  fetchBase = 0;
  /** Host page byte offset of the window. */
  fetchHost = 0;

  // --- Bookkeeping of the current run() (interp.ts, trap.ts, csr-file.ts).
  /** Set by a slow path that took a trap; the loop reloads pc. */
  trapped = false;
  /** Nonzero: the loop must return this exit code after the current instruction. */
  exitReq = RUN_BUDGET;
  runBudget = 0;
  /** Budget left, synced by the loop before calls that read the counters. */
  runLeft = 0;
  /** Exceptions taken in this run (they use a slot but retire nothing). */
  runTraps = 0;

  // Translation context the TLB contents belong to (see xlateContextChanged).
  private ctxPriv = -1;
  private ctxEff = -1;
  private ctxBits = -1;
  private ctxSatp = -1;

  /** Scratch for misaligned accesses (mem-access.ts): per byte, host offset or -1. */
  readonly byteHost = new Int32Array(4);

  constructor(hartId: number, mem: HartMemory, env: HartEnv, opts: HartOptions = {}) {
    this.hartId = hartId;
    this.mem = mem;
    this.env = env;
    this.regFile = new Int32Array(33);
    this.x = this.regFile.subarray(0, 32);
    this.ramI8 = new Int8Array(mem.ram);
    this.ramU8 = new Uint8Array(mem.ram);
    this.ramI16 = new Int16Array(mem.ram, 0, mem.ram.byteLength >> 1);
    this.ramU16 = new Uint16Array(mem.ram, 0, mem.ram.byteLength >> 1);
    this.ram32 = new Int32Array(mem.ram, 0, mem.ram.byteLength >> 2);
    this.dcache = new DecodeCache(mem.ram.byteLength, opts.decodePages ?? 512);
    this.xlateContextChanged();
  }

  /**
   * Execute up to `budget` instructions (trapping ones included) and return
   * why it stopped (exits.ts). Pending enabled interrupts are taken first.
   */
  run(budget: number): number {
    if (this.stopRequested) return RUN_STOP;
    return runLoop(this, budget);
  }

  /** Reset as the spec's reset state: M-mode, MIE=MPRV=0, pc = `pc`; registers and CSRs cleared. */
  reset(pc: number): void {
    this.regFile.fill(0);
    this.pc = pc | 0;
    this.priv = PRV_M;
    this.mstatus = this.medeleg = this.mideleg = this.mie = this.mipSw = 0;
    this.mtvec = this.mscratch = this.mepc = this.mcause = this.mtval = this.mcounteren = 0;
    this.stvec = this.sscratch = this.sepc = this.scause = this.stval = this.satp = 0;
    this.scounteren = 0;
    this.instret = this.cycle = 0;
    this.counterBias.fill(0);
    this.resValid = false;
    this.stopRequested = false;
    this.exitReq = RUN_BUDGET;
    this.trapped = false;
    this.tlbFlush();
    this.xlateContextChanged();
  }

  /**
   * Forget every cached translation and all decoded code. Used for remote TLB
   * flush requests: the hypervisor may have moved or reused host pages, which
   * the decode cache (keyed by host page) must not outlive.
   */
  tlbFlush(): void {
    this.tlb.flushAll();
    this.dcache.flushAll();
    this.fetchVA = -1;
  }

  /** Forget the translations of the page holding `vaddr` (all three banks). */
  tlbFlushPage(vaddr: number): void {
    this.tlb.flushPage(vaddr | 0);
    this.fetchVA = -1;
  }

  /** Forget decoded code only (the host wrote guest RAM behind the hart's back). */
  flushDecodeCache(): void {
    this.dcache.flushAll();
    this.fetchVA = -1;
  }

  /**
   * Set the level-sensitive interrupt lines: any of MSIP(3) MTIP(7) MEIP(11)
   * from CLINT/PLIC, SEIP(9) from the PLIC's S context, and STIP(5) for a
   * hypervisor that implements the SBI timer (like KVM's hvip). The pending bit
   * the guest sees is line OR software bit. Taken at the next run() start.
   */
  setIrqLines(mask: number): void {
    this.irqLines = mask & MIP_LINES;
  }

  /**
   * Set software-writable pending bits (SSIP, STIP, SEIP) as M-mode software
   * could, e.g. SSIP for an SBI IPI; the guest clears them itself.
   */
  raiseInterrupt(bits: number): void {
    this.mipSw |= bits & MIP_SW_WRITABLE;
  }

  /** mip as software reads it. */
  get mip(): number {
    return this.mipSw | this.irqLines;
  }

  /** Take a pending, enabled interrupt now (between instructions). Returns true if one was taken. */
  pollInterrupts(): boolean {
    return checkInterrupts(this);
  }

  /**
   * Recompute the effective data privilege and flush the TLB if the context
   * the entries were filled under (priv, effective priv, SUM/MXR, satp) changed.
   * Called after every privilege change, mstatus write and satp write.
   */
  xlateContextChanged(): void {
    const s = this.mstatus;
    this.effPriv = this.priv === PRV_M && (s & MSTATUS_MPRV) !== 0
      ? (s & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT
      : this.priv;
    const bits = s & (MSTATUS_SUM | MSTATUS_MXR);
    if (this.ctxPriv === this.priv && this.ctxEff === this.effPriv &&
        this.ctxBits === bits && this.ctxSatp === this.satp) return;
    this.ctxPriv = this.priv;
    this.ctxEff = this.effPriv;
    this.ctxBits = bits;
    this.ctxSatp = this.satp;
    this.tlb.flushAll();
    this.fetchVA = -1;
  }

  /** Change privilege (trap entry, mret, sret) and keep the TLB consistent. */
  setPriv(p: number): void {
    this.priv = p;
    this.xlateContextChanged();
  }

  /** Snapshot of pc, privilege, x0..x31 and the main CSRs, all unsigned. */
  getRegs(): HartRegs {
    const csrs: Record<string, number> = {};
    for (const n of SNAPSHOT_CSRS) csrs[CSR_NAMES[n]] = csrReadRaw(this, n) >>> 0;
    csrs['instret'] = this.instret;
    csrs['cycle'] = this.cycle;
    return { pc: this.pc >>> 0, priv: this.priv, x: Array.from(this.x, (v) => v >>> 0), csrs };
  }

  /** Restore a getRegs() snapshot (CSRs through their normal WARL rules). */
  setRegs(r: HartRegs): void {
    for (let i = 1; i < 32; i++) this.x[i] = r.x[i] | 0;
    this.pc = r.pc | 0;
    for (const n of RESTORE_CSRS) {
      const v = r.csrs[CSR_NAMES[n]];
      if (v !== undefined) csrWriteRaw(this, n, v | 0);
    }
    if (r.csrs['instret'] !== undefined) this.instret = r.csrs['instret'];
    if (r.csrs['cycle'] !== undefined) this.cycle = r.csrs['cycle'];
    this.priv = r.priv;
    this.resValid = false;
    this.tlbFlush();
    this.xlateContextChanged();
  }
}

