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

export type ProgramSource =
  | { kind: 'elf'; bytes: Uint8Array; name: string }
  | { kind: 'asm'; source: string; name: string }
  /** params: a built-in guest's documented words, set in its source before assembly. */
  | { kind: 'guest'; name: string; params?: Record<string, number> };

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

// The race lab's data model: mirrors src/kvm/race/types.ts field for field
// (test/ui/race-types.test.ts fails tsc if the two drift apart).
export type RaceLane = 'vcpu0' | 'vcpu1' | 'host' | 'guest';

export interface RaceScenarioInfo {
  name: string;
  title: string;
  source: string;
  protection: string;
  lanes: RaceLane[];
  expectSafe: string;
  expectUnsafe: string;
}

export interface RaceSpte {
  label: string;
  loc: number;
  value: number;
  flags: string[];
  pfn: number;
}

export interface RaceDirty {
  gfn: number;
  live: boolean;
  collected: boolean;
  hostDirty: boolean | null;
}

export interface RaceTlbEntry {
  vcpu: number;
  gva: number;
  pfn: number;
  writable: boolean;
}

export interface RaceSnapshot {
  sptes: RaceSpte[];
  dirty: RaceDirty[];
  tlb: RaceTlbEntry[];
  notes: Record<string, string | number>;
}

export interface RaceStep {
  index: number;
  lane: RaceLane;
  action: string;
  parkedAt: string | null;
  narrative: string;
  quote: string | null;
  snapshot: RaceSnapshot;
}

export interface RaceVerdict {
  checker: string;
  violations: string[];
  expected: boolean;
}

export interface RaceRun {
  scenario: string;
  unsafe: boolean;
  steps: RaceStep[];
  verdict: RaceVerdict;
}

// Free play, live: mirrors src/kvm/race/session.ts (checked the same way).
export type RaceLaneState = 'idle' | 'busy' | 'parked' | 'failed';

export interface RaceOpSpec {
  name: string;
  args: string[];
  help: string;
}

export type RaceAction =
  | { kind: 'arm'; lane: RaceLane; points: string[] }
  | { kind: 'op'; lane: RaceLane; op: string; args: number[] }
  | { kind: 'release'; lane: RaceLane }
  | { kind: 'join'; lane: RaceLane };

export interface RaceSessionLane {
  lane: RaceLane;
  points: string[];
  ops: RaceOpSpec[];
  state: RaceLaneState;
  parkedAt: string | null;
  armed: string[];
}

export interface RaceSessionState {
  scenario: string;
  unsafe: boolean;
  lanes: RaceSessionLane[];
  steps: number;
}

export interface RaceActResult {
  step: RaceStep | null;
  session: RaceSessionState;
}

export interface TortureStartOptions {
  mode: DirtyMode;
  pages: number;
  intervalMs: number;
  hostOps: boolean;
  /** '' for every protection on, else one of no-flush, indirect-fast, plain-clear, no-mode-order. */
  unsafe: string;
}

/** Mirrors src/kvm/torture-run.ts TortureCounters (structured-cloned across comlink; test/ui/vmm-api-types.test.ts). */
export interface TortureCounters {
  state: 'idle' | 'starting' | 'running' | 'stopped' | 'error';
  mode: DirtyMode;
  vcpus: number;
  pages: number;
  hostOps: boolean;
  unsafe: string;
  collections: number;
  passed: number;
  failed: number;
  lostPages: number;
  lost: { gfn: number; gpa: number; collection: number }[];
  reportedPages: number;
  host: { swapOut: number; ksmMerge: number; migrate: number; skipped: number };
  elapsedMs: number;
  error?: string;
}

export type DirtyMode = 'bitmap' | 'clear' | 'ring';

export interface BulkResult {
  done: number;
  considered: number;
  /** The error that stopped the loop (e.g. "ENOSPC: ..."), or ''. */
  stoppedBy: string;
}

/** Mirrors src/kvm/mmu-explain.ts (structured-cloned across comlink; test/ui/vmm-api-types.test.ts checks the shapes). */
export interface HostPageInfo {
  state: 'resident' | 'ksm' | 'swapped' | 'unbacked' | 'mmio';
  hostPte: number;
  pfn: number;
  swapSlot: number;
  slot: number;
  refcount: number;
}

export interface ShadowPageInfo {
  sp: number;
  level: number;
  direct: boolean;
  nonpaging: boolean;
  invalid: boolean;
  gfn: number;
}

export interface SpteView {
  page: ShadowPageInfo;
  index: number;
  loc: number;
  spte: number;
  present: boolean;
  leaf: boolean;
  mmio: boolean;
  target: number;
  gfn: number;
  bits: { R: boolean; W: boolean; X: boolean; U: boolean; A: boolean; D: boolean; HOST_WRITEABLE: boolean; MMU_WRITEABLE: boolean };
}

export interface PageInfo {
  gfn: number;
  gpa: number;
  host: HostPageInfo;
  sptes: SpteView[];
  /** The same as text lines. */
  lines: string[];
}

export interface GuestStepView {
  level: 1 | 0;
  tableGfn: number;
  index: number;
  pteGpa: number;
  pte: number;
  flags: string;
  kind: 'pointer' | 'leaf' | 'megapage' | 'invalid' | 'unreadable';
  source: string;
}

export interface AddressWalk {
  vcpu: number;
  gva: number;
  satp: number;
  priv: number;
  mode: 'bare' | 'sv32';
  guest: GuestStepView[];
  guestFault: string;
  gpa: number;
  gfn: number;
  root: number;
  rootNote: string;
  shadow: SpteView[];
  shadowNote: string;
  host: HostPageInfo | null;
  /** The same walk as text lines (what `webkvm explain` prints). */
  lines: string[];
}

export interface DirtyLog {
  bitmap: Uint32Array;
  /** Pages whose bit was set in the snapshot. */
  pages: number;
  /** Milliseconds KVM_GET_DIRTY_LOG took inside the VMM worker. */
  ms: number;
}
