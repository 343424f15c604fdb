// SBI RFENCE extension (EID "RFNC"): make other harts run FENCE.I or
// SFENCE.VMA. For us an SFENCE.VMA on another vCPU is what KVM calls a remote
// TLB flush: the host turns it into vCPU requests and (in our shadow MMU) a
// resync of the shadow page tables.
//
// Range rule (spec): the whole address space if start and size are both 0,
// or size is all ones; otherwise [start, start+size). A range that runs past
// the end of the 32-bit address space is SBI_ERR_INVALID_ADDRESS.
// The HFENCE functions (FIDs 3..6) need the hypervisor extension, which our
// harts do not have: SBI_ERR_NOT_SUPPORTED, as the spec prescribes.
// Hart-mask errors are checked before address errors.

import {
  SBI_ERR_INVALID_ADDRESS,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_NOT_SUPPORTED,
  SBI_FENCE_ALL,
  SBI_FENCE_I,
  SBI_FENCE_SFENCE_VMA,
  SBI_FENCE_SFENCE_VMA_ASID,
  SBI_RFENCE_REMOTE_FENCE_I,
  SBI_RFENCE_REMOTE_SFENCE_VMA,
  SBI_RFENCE_REMOTE_SFENCE_VMA_ASID,
  SBI_SUCCESS,
} from './sbi-abi.ts';
import { HARTMASK_INVALID, decodeHartMask } from './sbi-hartmask.ts';
import type { SbiHost } from './sbi-host.ts';
import { argU, sbiReturn } from './sbi-ret.ts';

export function sbiRfence(fid: number, regs: Int32Array, host: SbiHost): boolean {
  let kind: number;
  if (fid === SBI_RFENCE_REMOTE_FENCE_I) kind = SBI_FENCE_I;
  else if (fid === SBI_RFENCE_REMOTE_SFENCE_VMA) kind = SBI_FENCE_SFENCE_VMA;
  else if (fid === SBI_RFENCE_REMOTE_SFENCE_VMA_ASID) kind = SBI_FENCE_SFENCE_VMA_ASID;
  else return sbiReturn(regs, SBI_ERR_NOT_SUPPORTED);

  const mask = decodeHartMask(argU(regs, 0), argU(regs, 1), host.nvcpus);
  if (mask === HARTMASK_INVALID) return sbiReturn(regs, SBI_ERR_INVALID_PARAM);

  let start = 0;
  let size = SBI_FENCE_ALL;
  if (kind !== SBI_FENCE_I) {
    start = argU(regs, 2);
    size = argU(regs, 3);
    if ((start === 0 && size === 0) || size === 0xffff_ffff) {
      start = 0;
      size = SBI_FENCE_ALL;
    } else if (start + size > SBI_FENCE_ALL) {
      return sbiReturn(regs, SBI_ERR_INVALID_ADDRESS);
    }
  }
  const asid = kind === SBI_FENCE_SFENCE_VMA_ASID ? argU(regs, 4) : 0;
  if (mask !== 0) host.remoteFence(mask, kind, start, size, asid);
  return sbiReturn(regs, SBI_SUCCESS);
}
