// The control API of the VMM worker (workers/vmm.worker.ts), as the UI sees it
// through comlink. Control only: nothing per instruction, fault or frame goes
// through here (ARCHITECTURE §1); live figures are read from shared memory.
//
// Contract details the UI relies on (see also shared-layout.ts):
// - createVm() tears down any previous VM and returns fresh handles; the UI
//   re-creates its shared-memory views from them every time.
// - run() resolves once the vCPUs have been started, not when the guest exits;
//   the UI learns about the exit by polling status().
// - Failures are thrown as KvmError (comlink turns it into an Error whose
//   message is "ERRNO: text") or as a plain { code, message } object.
//
// The data the worker answers with is typed where src/kvm builds it and only
// re-exported here, type-only: `import type` is erased by the build, so no
// hypervisor code reaches the page (docs/design.md, "What the UI may import")
// and the UI cannot drift from what it is sent. What is written out below is
// the UI's own: the API, its arguments and the answers the service shapes
// itself; test/ui/vmm-api-types.test.ts checks them against VmmService.

import type { RaceDirty, RaceLane, RaceRun, RaceScenarioInfo, RaceSnapshot, RaceSpte, RaceStep, RaceTlbEntry, RaceVerdict } from '../kvm/race/types.ts';
import type { RaceLaneState } from '../kvm/race/engine.ts';
import type { RaceActResult, RaceAction, RaceOpSpec, RaceSessionLane, RaceSessionState } from '../kvm/race/session.ts';
import type { TortureCounters } from '../kvm/torture-run.ts';
import type { BulkResult } from '../kvm/host-bulk.ts';
import type { DirtyLogMode as DirtyMode } from '../kvm/dirty-collector.ts';
import type {
  AddressExplanation, GuestStep as GuestStepView, HostPage as HostPageInfo, PageDescription,
  ShadowPage as ShadowPageInfo, SpteInfo as SpteView,
} from '../kvm/mmu-explain.ts';
import type { ProgramSource } from '../kvm/vmm-service.ts';

export type {
  // The race lab (src/kvm/race/): a run, its steps and verdict; free play, live.
  RaceDirty, RaceLane, RaceRun, RaceScenarioInfo, RaceSnapshot, RaceSpte, RaceStep, RaceTlbEntry, RaceVerdict,
  RaceActResult, RaceAction, RaceLaneState, RaceOpSpec, RaceSessionLane, RaceSessionState,
  // Torture, dirty-log mode, bulk host operations.
  TortureCounters, DirtyMode, BulkResult,
  // The shadow-MMU explorer and page details.
  HostPageInfo, ShadowPageInfo, SpteView, GuestStepView,
  ProgramSource,
};

export type VmState = 'empty' | 'loaded' | 'running' | 'paused' | 'exited' | 'error';

export interface VmHandles {
  /** Hypervisor state: memslots, SPTEs, rings, per-vCPU words... */
  hv: SharedArrayBuffer;
  /** The host page pool that backs guest RAM. */
  ram: SharedArrayBuffer;
  /** Named regions of `hv`: byte offset (4-aligned) and length in 32-bit words. */
  layout: Record<string, { offset: number; words: number }>;
  vcpus: number;
}

export interface LoadedProgram {
  entry: number;
  symbols: [string, number][];
  bootMode: 'M' | 'S';
}

export interface VcpuRegs {
  pc: number;
  priv: number;
  x: number[];
  csrs: Record<string, number>;
}

export interface VmStatus {
  state: VmState;
  exitCode?: number;
  message?: string;
}

export interface VmmApi {
  createVm(cfg: { memMiB: number; vcpus: number }): Promise<VmHandles>;
  loadProgram(p: ProgramSource): Promise<LoadedProgram>;
  run(): Promise<void>;
  pause(): Promise<void>;
  step(vcpu: number): Promise<void>;
  reset(): Promise<void>;
  getRegs(vcpu: number): Promise<VcpuRegs>;
  consoleInput(bytes: Uint8Array): Promise<void>;
  status(): Promise<VmStatus>;
  /** KVM_SET_USER_MEMORY_REGION on slot 0 with KVM_MEM_LOG_DIRTY_PAGES on or off. */
  setDirtyLogging(on: boolean): Promise<void>;
  /** KVM_GET_DIRTY_LOG: the snapshot (bit i = page i of the slot), its set bits, and the call's time in the worker. */
  getDirtyLog(slot: number): Promise<DirtyLog>;
  /** Collection mode: bitmap (GET), clear (manual protect: GET copies, CLEAR re-protects), ring (before the first run only). */
  setDirtyMode(mode: DirtyMode): Promise<void>;
  /** One collection in the current mode: GET; GET + CLEAR of what it got; or ring harvest + KVM_RESET_DIRTY_RINGS. */
  collectDirty(): Promise<DirtyLog & { mode: DirtyMode }>;
  /** KVM_CLEAR_DIRTY_LOG of pages [firstPage, firstPage + numPages) of slot 0 (EINVAL if misaligned). */
  clearDirtyLog(firstPage: number, numPages: number): Promise<{ ms: number }>;
  /** A gfn's host page and the SPTEs that map it (its rmap), read under mmu_lock. Once per click. */
  describePage(gfn: number): Promise<PageInfo>;
  /** The walk gva -> guest PTEs -> SPTEs -> host pfn for a vCPU (src/kvm/mmu-explain.ts). */
  explainAddress(vcpu: number, gva: number): Promise<AddressWalk>;
  /** Host memory operations (src/kvm/host-ops.ts); EFAULT for a gfn in no memslot. */
  swapOutPage(gfn: number): Promise<boolean>;
  ksmMergePages(gfnA: number, gfnB: number): Promise<boolean>;
  /** The new pfn, or -1 if the page was not resident. */
  migratePage(gfn: number): Promise<number>;
  swapOutRandom(count: number): Promise<BulkResult>;
  ksmMergeIdentical(): Promise<BulkResult>;
  /**
   * Torture (src/kvm/torture-run.ts) on the current VM: reloads the dirty guest
   * with `pages` per vCPU, runs it and collects/checks until stopTorture().
   * EBUSY while one runs; an unknown `unsafe` name is EINVAL.
   */
  startTorture(opts: TortureStartOptions): Promise<TortureCounters>;
  /** The live counters (poll at a low rate, ~4 Hz); null if none was started on this VM. */
  tortureStatus(): Promise<TortureCounters | null>;
  /** End the loop after its current round and pause the vCPUs; the final counters. */
  stopTorture(): Promise<TortureCounters | null>;
  /** The race lab's scenarios (src/kvm/race/), as `webkvm race list` prints them. */
  raceList(): Promise<RaceScenarioInfo[]>;
  /** One whole run of a scenario on the real workers, protection off if `unsafe`: every step and the verdict. */
  raceRun(name: string, unsafe: boolean): Promise<RaceRun>;
  /** Free play, live: a scenario's lab VM and lanes after its setup; ends the previous session. */
  raceSessionStart(name: string, unsafe: boolean): Promise<RaceSessionState>;
  /** One free-play action on the live lanes: the step it produced (null for arm) and the session after it. */
  raceSessionAct(action: RaceAction): Promise<RaceActResult>;
  /** The checkers over the live session's state now. */
  raceSessionVerdict(): Promise<RaceVerdict>;
  raceSessionEnd(): Promise<void>;
}

export interface TortureStartOptions {
  mode: DirtyMode;
  pages: number;
  intervalMs: number;
  hostOps: boolean;
  /** '' for every protection on, else one of no-flush, indirect-fast, plain-clear, no-mode-order. */
  unsafe: string;
}

/** describePage's answer: the page as src/kvm/mmu-explain.ts describes it, plus the same as text lines. */
export interface PageInfo extends PageDescription {
  lines: string[];
}

/** explainAddress's answer: the walk of src/kvm/mmu-explain.ts plus the same as text lines (what `webkvm explain` prints). */
export interface AddressWalk extends AddressExplanation {
  lines: string[];
}

export interface DirtyLog {
  bitmap: Uint32Array;
  /** Pages whose bit was set in the snapshot. */
  pages: number;
  /** Milliseconds KVM_GET_DIRTY_LOG took inside the VMM worker. */
  ms: number;
}
