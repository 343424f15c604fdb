// The vCPU runtime's side of SBI (src/kvm/sbi-host.ts): what KVM RISC-V does
// with its vCPU timer, kvm_riscv_vcpu_sbi_* handlers, remote requests and kicks.
// Each method runs on the calling vCPU's own worker, outside guest mode (the
// ecall is a VM exit; vcpu-run.ts brackets it with vmExit/vmEntry).
import type { SbiHost } from './sbi-host.ts';
import {
  SBI_ERR_ALREADY_AVAILABLE, SBI_ERR_FAILED, SBI_ERR_NOT_SUPPORTED, SBI_SUCCESS,
} from './sbi-abi.ts';
import {
  EXITK_REBOOT, EXITK_SHUTDOWN, VCPU_HSM, VCPU_SSIP, VCPU_START_ARG, VCPU_START_PC,
  VCPU_STIMER_HI, VCPU_STIMER_LO, VCPU_STRIDE, recordVmExit,
} from './vcpu-ctl.ts';
import { kvmReadGuest, kvmWriteGuest } from './memslot.ts';
import { kvmFlushRemoteTlbs, kvmVcpuKick, FLUSH_CAUSE_REMOTE_FENCE } from './requests.ts';
import type { VcpuRunner } from './vcpu-run.ts';

// SBI HSM states (SBI spec, chapter HSM).
export const HSM_STARTED = 0;
export const HSM_STOPPED = 1;
export const HSM_START_PENDING = 2;
export const HSM_STOP_PENDING = 3;
export const HSM_SUSPENDED = 4;
/** Private: a hart_start has claimed the hart and is writing its start address. */
export const HSM_CLAIMED = 0x100;

// SRST types.
const SRST_SHUTDOWN = 0;

export class VcpuSbiHost implements SbiHost {
  readonly vcpuId: number;
  readonly nvcpus: number;

  constructor(private readonly r: VcpuRunner) {
    this.vcpuId = r.vcpuId;
    this.nvcpus = r.vm.config.vcpus;
  }

  private word(h: number, w: number): number {
    return h * VCPU_STRIDE + w;
  }

  setTimer(lo: number, hi: number): void {
    // Only this vCPU writes its deadline; the loop compares it with mtime at
    // every poll point and drives the STIP line (a stand-in for KVM's hvip.VSTIP).
    const ctl = this.r.ctlAll;
    ctl[this.word(this.vcpuId, VCPU_STIMER_LO)] = lo;
    ctl[this.word(this.vcpuId, VCPU_STIMER_HI)] = hi;
    this.r.updateIrqLines();
  }

  sendIpi(mask: number): void {
    for (let h = 0; h < this.nvcpus; h++) {
      if (((mask >>> h) & 1) === 0) continue;
      Atomics.store(this.r.ctlAll, this.word(h, VCPU_SSIP), 1);
      kvmVcpuKick(this.r.vm, h);
    }
  }

  remoteFence(mask: number, _kind: number, _start: number, _size: number, _asid: number): void {
    // Every kind becomes a full flush of the targets' software TLBs (which
    // also drops their decoded code, covering remote FENCE.I): more than the
    // guest asked for, never less. The requester waits for the acks (§2.8).
    kvmFlushRemoteTlbs(this.r.kvm, FLUSH_CAUSE_REMOTE_FENCE, mask);
  }

  hartStart(hartid: number, startAddr: number, opaque: number): number {
    const ctl = this.r.ctlAll;
    const hsm = this.word(hartid, VCPU_HSM);
    // Claim the hart first, so a second, failing hart_start cannot overwrite
    // the address of the one that won; then publish START_PENDING, which the
    // target reads before the address (seq-cst orders the stores).
    if (Atomics.compareExchange(ctl, hsm, HSM_STOPPED, HSM_CLAIMED) !== HSM_STOPPED) return SBI_ERR_ALREADY_AVAILABLE;
    ctl[this.word(hartid, VCPU_START_PC)] = startAddr | 0;
    ctl[this.word(hartid, VCPU_START_ARG)] = opaque | 0;
    Atomics.store(ctl, hsm, HSM_START_PENDING);
    kvmVcpuKick(this.r.vm, hartid);
    return SBI_SUCCESS;
  }

  hartStop(): number {
    Atomics.store(this.r.ctlAll, this.word(this.vcpuId, VCPU_HSM), HSM_STOP_PENDING);
    this.r.hart.stopRequested = true;
    return SBI_SUCCESS;
  }

  hartStatus(hartid: number): number {
    const s = Atomics.load(this.r.ctlAll, this.word(hartid, VCPU_HSM));
    return s === HSM_CLAIMED ? HSM_START_PENDING : s;
  }

  hartSuspend(): number {
    const ctl = this.r.ctlAll;
    const hsm = this.word(this.vcpuId, VCPU_HSM);
    Atomics.store(ctl, hsm, HSM_SUSPENDED);
    // A pause or step of the VM may end the sleep early: a spurious resume,
    // which a retentive suspend allows, so it still reports success.
    this.r.sleepUntilInterrupt(true);
    Atomics.store(ctl, hsm, HSM_STARTED);
    return SBI_SUCCESS;
  }

  systemReset(type: number, reason: number): number {
    const kind = type === SRST_SHUTDOWN ? EXITK_SHUTDOWN : EXITK_REBOOT;
    // Reason 0 is "no reason" (success); anything else, system failure or a
    // vendor reason, is reported as exit code 1.
    recordVmExit(this.r.vmWords, kind, reason === 0 ? 0 : 1, this.vcpuId, this.r.hart.pc);
    this.r.hart.stopRequested = true;
    return type < 0 ? SBI_ERR_NOT_SUPPORTED : SBI_SUCCESS;
  }

  consoleWrite(bytes: Uint8Array): number {
    return this.r.platform.consoleOut.produceShared(bytes);
  }

  consoleRead(max: number): Uint8Array {
    return this.r.platform.consoleIn.consumeShared(max);
  }

  readGuest(gpa: number, len: number): Uint8Array | null {
    return kvmReadGuest(this.r.vm, gpa, len);
  }

  writeGuest(gpa: number, bytes: Uint8Array): boolean {
    // The decode cache is keyed by host page: a host write to guest RAM may
    // overwrite code this hart has decoded.
    const ok = kvmWriteGuest(this.r.vm, gpa, bytes);
    if (ok) this.r.hart.flushDecodeCache();
    return ok;
  }
}
