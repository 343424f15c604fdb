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
  | { kind: 'guest'; name: string };

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
}

export interface DirtyLog {
  bitmap: Uint32Array;
  /** Pages whose bit was set in the snapshot. */
  pages: number;
  /** Milliseconds KVM_GET_DIRTY_LOG took inside the VMM worker. */
  ms: number;
}
