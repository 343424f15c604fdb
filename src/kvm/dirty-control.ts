// The dirty-log collection a VMM drives interactively (the app's dirty-map
// panel, `webkvm migrate`): a mode that can be chosen and changed, and one
// collect() per round, whatever the mode.
//
//   bitmap  KVM_GET_DIRTY_LOG snapshots, clears and write-protects;
//   clear   KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 on: GET only copies, and
//           collect() follows it with KVM_CLEAR_DIRTY_LOG of exactly the pages
//           it got (as QEMU does); clearRange() is the bare ioctl;
//   ring    KVM_CAP_DIRTY_LOG_RING: collect() harvests every vCPU's ring and
//           calls KVM_RESET_DIRTY_RINGS. The ring is set once per VM and only
//           before the vCPUs first run (the kernel refuses it once vCPUs exist;
//           ours exist from creation, so the VMM enforces "before KVM_RUN").
//
// The mode may switch between bitmap and clear at any time (the cap takes
// args[0] = 0 to switch manual protect off); the ring only before the first
// run. dirty-collector.ts fixes one mode for `webkvm torture` on top of this.

import { KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE } from './dirtylog.ts';
import { KVM_CAP_DIRTY_LOG_RING, kvmDirtyRingHarvest, kvmDirtyRingSize, type DirtyRingCursor } from './dirty-ring.ts';
import type { DirtyLogMode } from './dirty-collector.ts';
import { KvmError } from './errors.ts';
import type { Vmm } from './vmm.ts';

/** Ring size the app and the CLI use: 1024 entries of 16 bytes per vCPU. */
export const DIRTY_RING_BYTES = 16 * 1024;

export class VmDirtyControl {
  private modeNow: DirtyLogMode = 'bitmap';
  private readonly cursors: DirtyRingCursor[];

  constructor(private readonly vmm: Vmm) {
    this.cursors = Array.from({ length: vmm.vcpus }, () => ({ fetchIndex: 0 }));
    if (kvmDirtyRingSize(vmm.vm) !== 0) this.modeNow = 'ring';
  }

  get mode(): DirtyLogMode {
    return this.modeNow;
  }

  /**
   * Choose how pages are collected. `beforeFirstRun`: the vCPUs have not run
   * yet (the only time the ring may be enabled). EINVAL to leave ring mode
   * (the ring is per VM, for good) or for an unknown mode; EBUSY for the ring
   * once the guest has run.
   */
  setMode(mode: DirtyLogMode, beforeFirstRun: boolean): void {
    if (mode !== 'bitmap' && mode !== 'clear' && mode !== 'ring') {
      throw new KvmError('EINVAL', `dirty log: unknown mode '${String(mode)}' (bitmap, clear or ring)`);
    }
    const ring = kvmDirtyRingSize(this.vmm.vm) !== 0;
    if (mode === 'ring') {
      if (!ring) {
        if (!beforeFirstRun) {
          throw new KvmError('EBUSY', 'dirty ring: KVM_CAP_DIRTY_LOG_RING must be enabled before the vCPUs first run; reload the program, choose ring, then run');
        }
        this.vmm.enableCap({ cap: KVM_CAP_DIRTY_LOG_RING, flags: 0, args: [DIRTY_RING_BYTES] });
      }
      this.modeNow = 'ring';
      return;
    }
    if (ring) throw new KvmError('EINVAL', 'dirty log: this VM logs into dirty rings, which are set once per VM; reload the program to use bitmaps');
    const manual = mode === 'clear' ? KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE : 0;
    this.vmm.enableCap({ cap: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, flags: 0, args: [manual] });
    this.modeNow = mode;
  }

  /** One collection round in the current mode: the pages reported, as a bitmap of slot 0. */
  collect(): Uint32Array {
    const vmm = this.vmm;
    if (this.modeNow === 'bitmap') return vmm.getDirtyLog(0);
    if (this.modeNow === 'clear') {
      const bitmap = vmm.getDirtyLog(0);
      vmm.clearDirtyLog({ slot: 0, firstPage: 0, numPages: vmm.vm.config.memPages, bitmap });
      return bitmap;
    }
    const out = new Uint32Array(Math.ceil(vmm.vm.config.memPages / 32));
    for (let v = 0; v < vmm.vcpus; v++) {
      for (const e of kvmDirtyRingHarvest(vmm.vm, v, this.cursors[v]!)) {
        if (e.slot === 0 && e.offset < vmm.vm.config.memPages) out[e.offset >>> 5]! |= 1 << (e.offset & 31);
      }
    }
    vmm.resetDirtyRings();
    return out;
  }

  /** KVM_CLEAR_DIRTY_LOG of every page in [firstPage, firstPage + numPages) of slot 0. */
  clearRange(firstPage: number, numPages: number): void {
    const words = Math.ceil(Math.max(0, numPages) / 32);
    const bitmap = new Uint32Array(words).fill(0xffffffff);
    if (numPages % 32 !== 0 && words > 0) bitmap[words - 1] = (1 << (numPages % 32)) - 1;
    this.vmm.clearDirtyLog({ slot: 0, firstPage, numPages, bitmap });
  }
}
