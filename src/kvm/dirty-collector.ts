// Userspace's three ways to collect dirty pages, as a VMM (QEMU's migration
// loop, the dirty_log_test selftest) uses them:
//   bitmap  KVM_GET_DIRTY_LOG, which snapshots, clears and write-protects
//   clear   KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: GET only copies; KVM_CLEAR_DIRTY_LOG
//           then clears and re-protects exactly the pages userspace took
//   ring    KVM_CAP_DIRTY_LOG_RING: harvest each vCPU's ring, then
//           KVM_RESET_DIRTY_RINGS re-protects the harvested pages
// Each collect() returns the pages reported this round as a bitmap of slot 0
// (bit i = page i), so one checker (dirty-check.ts) serves all three.
import type { Vmm } from './vmm.ts';
import { KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE } from './dirtylog.ts';
import { KVM_CAP_DIRTY_LOG_RING, kvmDirtyRingHarvest, type DirtyRingCursor } from './dirty-ring.ts';
import { KvmError } from './errors.ts';

export type DirtyLogMode = 'bitmap' | 'clear' | 'ring';
export const DIRTY_LOG_MODES: readonly DirtyLogMode[] = ['bitmap', 'clear', 'ring'];

/** Ring size used by the collector: 1024 entries of 16 bytes. */
const RING_BYTES = 16 * 1024;

export class DirtyCollector {
  private readonly cursors: DirtyRingCursor[];
  private readonly words: number;

  /** Enables the mode's capability and dirty logging on slot 0 (before the guest runs). */
  constructor(private readonly vmm: Vmm, readonly mode: DirtyLogMode) {
    if (!DIRTY_LOG_MODES.includes(mode)) throw new KvmError('EINVAL', `unknown dirty-log mode '${mode}' (bitmap, clear or ring)`);
    this.cursors = Array.from({ length: vmm.vcpus }, () => ({ fetchIndex: 0 }));
    this.words = Math.ceil(vmm.vm.config.memPages / 32);
    if (mode === 'clear') vmm.enableCap({ cap: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, flags: 0, args: [KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE] });
    if (mode === 'ring') vmm.enableCap({ cap: KVM_CAP_DIRTY_LOG_RING, flags: 0, args: [RING_BYTES] });
    vmm.setDirtyLogging(true);
  }

  collect(): Uint32Array {
    if (this.mode === 'bitmap') return this.vmm.getDirtyLog(0);
    if (this.mode === 'clear') {
      const bitmap = this.vmm.getDirtyLog(0);
      this.vmm.clearDirtyLog({ slot: 0, firstPage: 0, numPages: this.vmm.vm.config.memPages, bitmap });
      return bitmap;
    }
    const out = new Uint32Array(this.words);
    for (let v = 0; v < this.vmm.vcpus; v++) {
      for (const e of kvmDirtyRingHarvest(this.vmm.vm, v, this.cursors[v])) {
        if (e.slot === 0) out[e.offset >>> 5] |= 1 << (e.offset & 31);
      }
    }
    this.vmm.resetDirtyRings();
    return out;
  }
}
