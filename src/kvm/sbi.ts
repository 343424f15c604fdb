// The SBI implementation our hypervisor gives S-mode guests, the way KVM
// RISC-V does (arch/riscv/kvm/vcpu_sbi.c): an ECALL from the guest's S-mode
// lands here instead of in firmware, and the hypervisor answers it. SBI spec
// v2.0: a7 = extension ID, a6 = function ID, a0..a5 arguments, result
// sbiret { a0 = error, a1 = value }, all other registers preserved.
//
// Extensions: Base, TIME, IPI, RFENCE, HSM, SRST, DBCN, the legacy v0.1
// set_timer / console_putchar / console_getchar / shutdown, and two reserved
// project extensions (sbi-project.ts). Anything else: SBI_ERR_NOT_SUPPORTED.
// Each extension lives in its own sbi-<name>.ts; the numbers in sbi-abi.ts;
// what we need from the vCPU runtime in sbi-host.ts.

import {
  SBI_ERR_NOT_SUPPORTED,
  SBI_EXT_BASE,
  SBI_EXT_DBCN,
  SBI_EXT_HSM,
  SBI_EXT_IPI,
  SBI_EXT_LEGACY_LAST,
  SBI_EXT_RFENCE,
  SBI_EXT_SRST,
  SBI_EXT_TIME,
  SBI_EXT_WEBKVM_PAPR,
  SBI_EXT_WEBKVM_PVMSR,
} from './sbi-abi.ts';
import { sbiBase } from './sbi-base.ts';
import { sbiDbcn } from './sbi-dbcn.ts';
import type { SbiHost } from './sbi-host.ts';
import { sbiHsm } from './sbi-hsm.ts';
import { sbiIpi } from './sbi-ipi.ts';
import { sbiLegacy } from './sbi-legacy.ts';
import { sbiPapr, sbiPvMsr } from './sbi-project.ts';
import { A6, A7, sbiReturn } from './sbi-ret.ts';
import { sbiRfence } from './sbi-rfence.ts';
import { sbiSrst } from './sbi-srst.ts';
import { sbiTime } from './sbi-time.ts';

export type { SbiHost } from './sbi-host.ts';

/**
 * Handle an ECALL from S-mode as an SBI call. `regs` is the hart's x0..x31.
 *
 * Always returns true, "handled as SBI" in HartEnv.ecall's terms (the hart
 * advances pc by 4): every call that reaches here is answered, unknown
 * extensions and functions with SBI_ERR_NOT_SUPPORTED, and none of them may
 * turn into an environment-call exception in the guest.
 *
 * Calls that do not return -- a successful hart_stop, system_reset or legacy
 * shutdown -- leave the registers untouched; the host has already been told
 * (hartStop / systemReset) and must stop the hart before it runs another
 * instruction (e.g. hart.stopRequested). For hart_stop the pc the hart stops
 * at does not matter: hart_start gives it a new one.
 */
export function sbiEcall(regs: Int32Array, host: SbiHost): boolean {
  dispatch(regs, host);
  return true;
}

/** Route to the extension; returns RESUME, or NO_RESUME for calls that took the hart away. */
function dispatch(regs: Int32Array, host: SbiHost): boolean {
  const eid = regs[A7]!;
  const fid = regs[A6]!;
  if (eid >= 0 && eid <= SBI_EXT_LEGACY_LAST) return sbiLegacy(eid, regs, host);
  switch (eid) {
    case SBI_EXT_BASE:
      return sbiBase(fid, regs);
    case SBI_EXT_TIME:
      return sbiTime(fid, regs, host);
    case SBI_EXT_IPI:
      return sbiIpi(fid, regs, host);
    case SBI_EXT_RFENCE:
      return sbiRfence(fid, regs, host);
    case SBI_EXT_HSM:
      return sbiHsm(fid, regs, host);
    case SBI_EXT_SRST:
      return sbiSrst(fid, regs, host);
    case SBI_EXT_DBCN:
      return sbiDbcn(fid, regs, host);
    case SBI_EXT_WEBKVM_PVMSR:
      return sbiPvMsr(fid, regs);
    case SBI_EXT_WEBKVM_PAPR:
      return sbiPapr(fid, regs);
    default:
      return sbiReturn(regs, SBI_ERR_NOT_SUPPORTED);
  }
}
