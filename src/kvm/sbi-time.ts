// SBI TIME extension (EID "TIME"): set_timer(stime_value), a 64-bit absolute
// mtime that on RV32 arrives as a0 (low) and a1 (high). Always succeeds; the
// host programs the calling hart's timer and clears its pending STIP, as the
// spec requires (KVM: kvm_riscv_vcpu_timer_next_event).

import { SBI_ERR_NOT_SUPPORTED, SBI_SUCCESS, SBI_TIME_SET_TIMER } from './sbi-abi.ts';
import type { SbiHost } from './sbi-host.ts';
import { argU, sbiReturn } from './sbi-ret.ts';

export function sbiTime(fid: number, regs: Int32Array, host: SbiHost): boolean {
  if (fid !== SBI_TIME_SET_TIMER) return sbiReturn(regs, SBI_ERR_NOT_SUPPORTED);
  host.setTimer(argU(regs, 0), argU(regs, 1));
  return sbiReturn(regs, SBI_SUCCESS);
}
