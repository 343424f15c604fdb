// Userspace's three ways to collect dirty pages, as a VMM (QEMU's migration
// loop, the dirty_log_test selftest) uses them:
//   bitmap  KVM_GET_DIRTY_LOG, which snapshots, clears and write-protects
//   clear   KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: GET only copies; KVM_CLEAR_DIRTY_LOG
//           then clears and re-protects exactly the pages userspace took
//   ring    KVM_CAP_DIRTY_LOG_RING: harvest each vCPU's ring, then
//           KVM_RESET_DIRTY_RINGS re-protects the harvested pages
// Each collect() returns the pages reported this round as a bitmap of slot 0
// (bit i = page i), so one checker (dirty-check.ts) serves all three.
//
// This is the fixed-mode collector of `webkvm torture`: a VmDirtyControl
// (dirty-control.ts, which does the collecting) set to one mode for good,
// with dirty logging switched on, before the guest first runs.
import type { Vmm } from './vmm.ts';
import { VmDirtyControl } from './dirty-control.ts';
import { KvmError } from './errors.ts';

export type DirtyLogMode = 'bitmap' | 'clear' | 'ring';
export const DIRTY_LOG_MODES: readonly DirtyLogMode[] = ['bitmap', 'clear', 'ring'];

export class DirtyCollector {
  private readonly ctl: VmDirtyControl;

  /** Enables the mode's capability and dirty logging on slot 0 (before the guest runs). */
  constructor(vmm: Vmm, readonly mode: DirtyLogMode) {
    if (!DIRTY_LOG_MODES.includes(mode)) throw new KvmError('EINVAL', `unknown dirty-log mode '${mode}' (bitmap, clear or ring)`);
    this.ctl = new VmDirtyControl(vmm);
    this.ctl.setMode(mode, true);
    vmm.setDirtyLogging(true);
  }

  collect(): Uint32Array {
    return this.ctl.collect();
  }
}
