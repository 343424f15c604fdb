// SBI HSM extension (EID "HSM"): hart start/stop/status/suspend.
//
// S-mode boot: only hart 0 runs; the others are STOPPED until some hart calls
// hart_start for them, which is how Linux brings up secondaries. The state
// machine itself lives with the vCPUs (host.hartStart must check-and-set
// atomically, two harts may race to start the same one); here we validate
// arguments and pick the spec's error codes:
//   hart_start    INVALID_PARAM (no such hart), INVALID_ADDRESS (start_addr
//                 not 4-byte aligned RAM: we have no C extension, and a hart
//                 starting outside RAM would only fault), then whatever the
//                 host says (ALREADY_AVAILABLE if it is not stopped, FAILED).
//   hart_stop     does not return on success; FAILED otherwise.
//   get_status    INVALID_PARAM for no such hart.
//   hart_suspend  0x00000000 (default retentive) behaves like WFI and returns
//                 SUCCESS on wake-up (KVM: kvm_riscv_vcpu_wfi); 0x80000000
//                 (default non-retentive) is a valid type we do not support:
//                 NOT_SUPPORTED; every other value is reserved or a platform
//                 type we do not implement: INVALID_PARAM.

import {
  SBI_ERR_INVALID_ADDRESS,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_NOT_SUPPORTED,
  SBI_HSM_HART_GET_STATUS,
  SBI_HSM_HART_START,
  SBI_HSM_HART_STOP,
  SBI_HSM_HART_SUSPEND,
  SBI_HSM_SUSPEND_NON_RET_DEFAULT,
  SBI_HSM_SUSPEND_RET_DEFAULT,
  SBI_SUCCESS,
} from './sbi-abi.ts';
import type { SbiHost } from './sbi-host.ts';
import { NO_RESUME, argU, sbiReturn } from './sbi-ret.ts';

export function sbiHsm(fid: number, regs: Int32Array, host: SbiHost): boolean {
  switch (fid) {
    case SBI_HSM_HART_START: {
      const hartid = argU(regs, 0);
      const startAddr = argU(regs, 1);
      if (hartid >= host.nvcpus) return sbiReturn(regs, SBI_ERR_INVALID_PARAM);
      if ((startAddr & 3) !== 0 || host.readGuest(startAddr, 4) === null) {
        return sbiReturn(regs, SBI_ERR_INVALID_ADDRESS);
      }
      return sbiReturn(regs, host.hartStart(hartid, startAddr, argU(regs, 2)));
    }
    case SBI_HSM_HART_STOP: {
      const err = host.hartStop();
      return err === SBI_SUCCESS ? NO_RESUME : sbiReturn(regs, err);
    }
    case SBI_HSM_HART_GET_STATUS: {
      const hartid = argU(regs, 0);
      if (hartid >= host.nvcpus) return sbiReturn(regs, SBI_ERR_INVALID_PARAM);
      return sbiReturn(regs, SBI_SUCCESS, host.hartStatus(hartid));
    }
    case SBI_HSM_HART_SUSPEND: {
      const type = argU(regs, 0);
      if (type === SBI_HSM_SUSPEND_RET_DEFAULT) return sbiReturn(regs, host.hartSuspend());
      if (type === SBI_HSM_SUSPEND_NON_RET_DEFAULT) return sbiReturn(regs, SBI_ERR_NOT_SUPPORTED);
      return sbiReturn(regs, SBI_ERR_INVALID_PARAM);
    }
    default:
      return sbiReturn(regs, SBI_ERR_NOT_SUPPORTED);
  }
}
