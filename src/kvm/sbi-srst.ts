// SBI SRST extension (EID "SRST"): system_reset(reset_type, reset_reason).
//
// Types 0 shutdown, 1 cold reboot, 2 warm reboot; reasons 0 none, 1 system
// failure. Everything else is reserved or vendor/implementation specific, and
// we implement none of those, so per the spec they are SBI_ERR_INVALID_PARAM.
// (KVM answers NOT_SUPPORTED for unknown types and does not look at the
// reason; we follow the spec's table.) A valid request the host cannot carry
// out (e.g. reboot under the CLI) is the host's NOT_SUPPORTED. On success the
// call does not return.

import {
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_NOT_SUPPORTED,
  SBI_SRST_REASON_SYSTEM_FAILURE,
  SBI_SRST_SYSTEM_RESET,
  SBI_SRST_TYPE_WARM_REBOOT,
  SBI_SUCCESS,
} from './sbi-abi.ts';
import type { SbiHost } from './sbi-host.ts';
import { NO_RESUME, argU, sbiReturn } from './sbi-ret.ts';

export function sbiSrst(fid: number, regs: Int32Array, host: SbiHost): boolean {
  if (fid !== SBI_SRST_SYSTEM_RESET) return sbiReturn(regs, SBI_ERR_NOT_SUPPORTED);
  const type = argU(regs, 0);
  const reason = argU(regs, 1);
  if (type > SBI_SRST_TYPE_WARM_REBOOT || reason > SBI_SRST_REASON_SYSTEM_FAILURE) {
    return sbiReturn(regs, SBI_ERR_INVALID_PARAM);
  }
  const err = host.systemReset(type, reason);
  return err === SBI_SUCCESS ? NO_RESUME : sbiReturn(regs, err);
}
