// The per-vCPU control block and the VM-wide run state, in `hv`.
//
// A vCPU worker never returns to its event loop while the guest runs (it
// either executes instructions or sleeps in Atomics.wait), so it cannot take
// postMessage/comlink calls. Everything the VMM asks of a running vCPU (run,
// pause, single-step, quit, publish registers) therefore goes through these
// shared words: the VMM writes a command and bumps CMD_SEQ, kicks the vCPU,
// and waits for ACK_SEQ to catch up. The UI reads INSTRET and the register
// snapshot from here too (src/ui/shared-layout.ts mirrors these offsets).

/** Words per vCPU in region 'vcpu'. */
export const VCPU_STRIDE = 96;

// Published by the vCPU.
export const VCPU_INSTRET_LO = 0;
export const VCPU_INSTRET_HI = 1;
export const VCPU_STATE = 2;
// Written by the VMM.
export const VCPU_CMD = 3;
export const VCPU_CMD_SEQ = 4;
// Written by the vCPU when it has carried out command CMD_SEQ.
export const VCPU_ACK_SEQ = 5;
// SBI HSM: state and the start request another hart made.
export const VCPU_HSM = 6;
export const VCPU_START_PC = 7;
export const VCPU_START_ARG = 8;
/** Incremented to wake a vCPU sleeping in WFI or while stopped (the kick). */
export const VCPU_WAKE = 9;
/** SBI set_timer deadline in mtime ticks, as two uint32 halves; all ones = no timer. */
export const VCPU_STIMER_LO = 10;
export const VCPU_STIMER_HI = 11;
/** Supervisor software interrupt pending, raised by SBI send_ipi from any hart. */
export const VCPU_SSIP = 12;
// Register snapshot, written when the vCPU stops (pause, step, exit).
export const VCPU_PC = 13;
export const VCPU_PRIV = 14;
export const VCPU_X = 15; // 32 words
export const VCPU_CSR = 47; // SNAPSHOT_CSRS.length words
export const SNAPSHOT_CSRS = [
  'mstatus', 'misa', 'medeleg', 'mideleg', 'mie', 'mip', 'mtvec', 'mepc',
  'mcause', 'mtval', 'stvec', 'sepc', 'scause', 'stval', 'satp', 'mscratch',
] as const;
/** Exit counters, by reason (EXIT_* below), each one word. */
export const VCPU_EXITS = 64;

// VCPU_STATE values.
export const VS_IDLE = 0; // created, paused or waiting for a command
export const VS_RUNNING = 1;
export const VS_WFI = 2; // sleeping in WFI
export const VS_HSM_STOPPED = 3; // an S-mode secondary hart not yet started by HSM
export const VS_DONE = 4; // the VM has exited

// Commands (VCPU_CMD).
export const CMD_NONE = 0;
export const CMD_RUN = 1;
export const CMD_PAUSE = 2;
export const CMD_STEP = 3;
export const CMD_QUIT = 4;
/** Back to the reset state of the loaded program (sent after every load and reset). */
export const CMD_RESET = 5;

// Exits counted here, by reason (VCPU_EXITS + reason). Faults, MMIO exits and
// request processing are counted by the MMU in region 'kvm-vcpu' (fields.ts).
export const EXIT_SBI = 0; // an SBI call handled by the hypervisor
export const EXIT_WFI = 1; // WFI with nothing pending: the vCPU slept
export const EXIT_HTIF = 2; // a tohost command handled
export const EXIT_PAUSE = 3; // stopped by the VMM
export const EXIT_DIRTY_RING_FULL = 4; // KVM_EXIT_DIRTY_RING_FULL: waited for userspace to harvest
export const EXIT_REASONS = ['sbi', 'wfi', 'htif', 'pause', 'dirty_ring_full'] as const;

// Region 'vm': the VM-wide run state.
export const VM_WORDS = 32;
export const VM_STATE = 0;
export const VM_EXIT_KIND = 1;
export const VM_EXIT_CODE = 2;
export const VM_EXIT_VCPU = 3;
export const VM_EXIT_PC = 4;
export const VM_EXIT_CAUSE = 5;
export const VM_EXIT_TVAL = 6;
export const VM_BOOT_MODE = 7; // 0 = M, 1 = S (SBI provided by the hypervisor)
export const VM_ENTRY = 8; // entry point of the loaded program
export const VM_TOHOST = 9; // guest physical address of `tohost`, or -1
export const VM_FROMHOST = 10; // guest physical address of `fromhost`, or -1
/** Per-vCPU instruction limit (--max-insns) as uint32 halves; 0 = none. */
export const VM_MAX_INSNS_LO = 11;
export const VM_MAX_INSNS_HI = 12;
/** Instructions vCPU 0 still has to record in region 'trace' (--trace). */
export const VM_TRACE_WANT = 13;
/** Entries recorded in region 'trace'. */
export const VM_TRACE_LEN = 14;
/** Bytes of UTF-8 text in region 'vm-msg' (why a vCPU failed). */
export const VM_MSG_LEN = 15;

/** Region 'trace': TRACE_ENTRIES records of pc, instruction word, privilege. */
export const TRACE_ENTRY_WORDS = 3;
export const TRACE_ENTRIES = 16384;
/** Region 'vm-msg': a short UTF-8 message, e.g. the error that stopped a vCPU. */
export const VM_MSG_WORDS = 256;

// VM_STATE values.
export const VM_EMPTY = 0;
export const VM_LOADED = 1;
export const VM_RUNNING = 2;
export const VM_PAUSED = 3;
export const VM_EXITED = 4;

// VM_EXIT_KIND values: how the guest ended.
export const EXITK_NONE = 0;
export const EXITK_HTIF = 1; // tohost exit; code = value >> 1
export const EXITK_SHUTDOWN = 2; // SBI system reset (shutdown); code 0 or 1 (system failure)
export const EXITK_REBOOT = 3; // SBI cold/warm reboot request
export const EXITK_TRAP = 4; // a trap with no working handler
export const EXITK_INTERNAL = 5; // webkvm failed in this vCPU
export const EXITK_LIMIT = 6; // --max-insns reached (or the CLI's --timeout)
export const EXIT_KIND_NAMES = ['none', 'htif', 'shutdown', 'reboot', 'trap', 'internal', 'limit'] as const;

/** A view of one vCPU's block. */
export function vcpuBlock(region: Int32Array, vcpu: number): Int32Array {
  return region.subarray(vcpu * VCPU_STRIDE, (vcpu + 1) * VCPU_STRIDE);
}

/** Record the first exit only: later vCPUs that stop because of it must not overwrite it. */
export function recordVmExit(vm: Int32Array, kind: number, code: number, vcpu: number, pc: number, cause = 0, tval = 0): boolean {
  if (Atomics.compareExchange(vm, VM_EXIT_KIND, EXITK_NONE, kind) !== EXITK_NONE) return false;
  vm[VM_EXIT_CODE] = code;
  vm[VM_EXIT_VCPU] = vcpu;
  vm[VM_EXIT_PC] = pc;
  vm[VM_EXIT_CAUSE] = cause;
  vm[VM_EXIT_TVAL] = tval;
  Atomics.store(vm, VM_STATE, VM_EXITED);
  Atomics.notify(vm, VM_STATE);
  return true;
}

/** Store a message (truncated to the region) for the VMM to read. */
export function writeVmMessage(vm: Int32Array, region: Int32Array, text: string): void {
  const bytes = new TextEncoder().encode(text).subarray(0, region.length * 4);
  new Uint8Array(region.buffer, region.byteOffset, region.length * 4).set(bytes);
  Atomics.store(vm, VM_MSG_LEN, bytes.length);
}

export function readVmMessage(vm: Int32Array, region: Int32Array): string {
  const n = Atomics.load(vm, VM_MSG_LEN);
  // Copy first: TextDecoder refuses views of shared memory.
  return new TextDecoder().decode(new Uint8Array(region.buffer, region.byteOffset, n).slice());
}
