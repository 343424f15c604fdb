// The two webkvm extensions in the SBI experimental range, reserved now and
// implemented in a later release (docs/guest-abi.md, "Project extensions"):
//
//   SBI_EXT_WEBKVM_PVMSR (0x084B564D)  paravirtual MSRs by KVM's numbers:
//     FID 0 read(index) -> low 32 bits, FID 1 read_hi(index) -> high 32 bits,
//     FID 2 write(index, lo, hi). MSR_KVM_EOI_EN (PV EOI), MSR_KVM_STEAL_TIME,
//     MSR_IA32_TSC.
//   SBI_EXT_WEBKVM_PAPR (0x08504150)   PAPR hashed-page-table hypercalls:
//     FID = hcall opcode (H_ENTER 0x08, H_REMOVE 0x04, H_READ 0x0c,
//     H_PROTECT 0x18, H_BULK_REMOVE 0x124), a0 = PAPR return code.
//
// Until then every call answers SBI_ERR_NOT_SUPPORTED (-2), which for the
// PAPR extension is also PAPR's H_FUNCTION (-2, "function not supported"),
// and probe_extension reports both as absent. Naming the FIDs here keeps the
// numbers reserved in code, not only in the document.

import { SBI_ERR_NOT_SUPPORTED } from './sbi-abi.ts';
import { sbiReturn } from './sbi-ret.ts';

export function sbiPvMsr(_fid: number, regs: Int32Array): boolean {
  return sbiReturn(regs, SBI_ERR_NOT_SUPPORTED);
}

export function sbiPapr(_fid: number, regs: Int32Array): boolean {
  return sbiReturn(regs, SBI_ERR_NOT_SUPPORTED);
}
