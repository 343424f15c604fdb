// SBI IPI extension (EID "sPI"): send_ipi(hart_mask, hart_mask_base). The
// IPI shows up at each target as a supervisor software interrupt (SSIP).

import { SBI_ERR_INVALID_PARAM, SBI_ERR_NOT_SUPPORTED, SBI_IPI_SEND_IPI, SBI_SUCCESS } from './sbi-abi.ts';
import { HARTMASK_INVALID, decodeHartMask } from './sbi-hartmask.ts';
import type { SbiHost } from './sbi-host.ts';
import { argU, sbiReturn } from './sbi-ret.ts';

export function sbiIpi(fid: number, regs: Int32Array, host: SbiHost): boolean {
  if (fid !== SBI_IPI_SEND_IPI) return sbiReturn(regs, SBI_ERR_NOT_SUPPORTED);
  const mask = decodeHartMask(argU(regs, 0), argU(regs, 1), host.nvcpus);
  if (mask === HARTMASK_INVALID) return sbiReturn(regs, SBI_ERR_INVALID_PARAM);
  if (mask !== 0) host.sendIpi(mask);
  return sbiReturn(regs, SBI_SUCCESS);
}
