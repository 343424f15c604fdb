// The interrupt wires from the board's devices to each hart, one Int32 word
// per vCPU in `hv`. The bits sit where they sit in mip, so a vCPU loop can hand
// the word to hart.setIrqLines() unchanged.
//
// Devices in any worker (a UART write on vCPU 1 can raise SEIP on vCPU 0)
// change the word with Atomics.or / Atomics.and. When a bit goes from 0 to 1 we
// call the injected kick(vcpuId), so a vCPU sleeping in WFI wakes up and looks.
//
// The timer line MTIP is not stored here: it is a comparison (mtime >=
// mtimecmp) that becomes true by the passage of time alone, with no writer to
// set it. Clint.timerPending() computes it, and Platform.irqLines() ORs it in.

/** Machine software interrupt (CLINT msip). */
export const MIP_MSIP = 1 << 3;
/** Machine timer interrupt (CLINT mtime >= mtimecmp); computed, never stored. */
export const MIP_MTIP = 1 << 7;
/** Supervisor external interrupt (PLIC context 2*hart+1). */
export const MIP_SEIP = 1 << 9;
/** Machine external interrupt (PLIC context 2*hart). */
export const MIP_MEIP = 1 << 11;

/**
 * SSIP and STIP are not driven by any device of this board: for S-mode guests
 * the hypervisor injects them (SBI send_ipi / set_timer), the way KVM sets
 * hvip. Named here only so nobody reuses their bit positions by mistake.
 */
export const MIP_SSIP = 1 << 1;
export const MIP_STIP = 1 << 5;

/** Wakes vCPU `vcpuId` if it sleeps in WFI; supplied by each worker. */
export type Kick = (vcpuId: number) => void;

export class IrqLines {
  static words(nvcpus: number): number {
    return nvcpus;
  }

  constructor(
    private readonly view: Int32Array,
    readonly nvcpus: number,
    private readonly kick: Kick,
  ) {}

  /** Run once by whoever creates the VM: all lines low. */
  init(): void {
    for (let i = 0; i < this.nvcpus; i++) Atomics.store(this.view, i, 0);
  }

  /** The stored lines of one vCPU (MSIP, SEIP, MEIP; never MTIP). */
  read(vcpuId: number): number {
    return Atomics.load(this.view, vcpuId);
  }

  /** Drive `mask` high for vcpuId; kicks it if any of those bits was low. */
  raise(vcpuId: number, mask: number): void {
    const old = Atomics.or(this.view, vcpuId, mask);
    if ((old & mask) !== mask) this.kick(vcpuId);
  }

  /** Drive `mask` low for vcpuId. No kick: nobody waits for a line to drop. */
  lower(vcpuId: number, mask: number): void {
    Atomics.and(this.view, vcpuId, ~mask);
  }

  /** raise() or lower() by a boolean, the shape device models compute. */
  set(vcpuId: number, mask: number, level: boolean): void {
    if (level) this.raise(vcpuId, mask);
    else this.lower(vcpuId, mask);
  }
}
