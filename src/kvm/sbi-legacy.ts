// SBI v0.1 "legacy" extensions (EIDs 0x00..0x0F): one function per EID, a6
// ignored, the result in a0 only, and every other register -- a1 included --
// preserved. Old kernels and tiny test programs still use them.
//
// Implemented: set_timer (0x00), console_putchar (0x01), console_getchar
// (0x02: the byte, or -1 when none waits), shutdown (0x08: does not return).
// Not implemented: clear_ipi and the IPI/fence calls (0x03..0x07), whose hart
// mask is a *virtual* address the hypervisor would have to walk the guest page
// table for; every kernel that knows SBI v0.2 uses IPI/RFENCE instead. They,
// and the reserved 0x09..0x0F, return SBI_ERR_NOT_SUPPORTED in a0.

import {
  SBI_ERR_NOT_SUPPORTED,
  SBI_EXT_LEGACY_CONSOLE_GETCHAR,
  SBI_EXT_LEGACY_CONSOLE_PUTCHAR,
  SBI_EXT_LEGACY_SET_TIMER,
  SBI_EXT_LEGACY_SHUTDOWN,
  SBI_SRST_REASON_NONE,
  SBI_SRST_TYPE_SHUTDOWN,
} from './sbi-abi.ts';
import { consoleWriteByte } from './sbi-dbcn.ts';
import type { SbiHost } from './sbi-host.ts';
import { A0, NO_RESUME, RESUME, argU } from './sbi-ret.ts';

export function sbiLegacy(eid: number, regs: Int32Array, host: SbiHost): boolean {
  switch (eid) {
    case SBI_EXT_LEGACY_SET_TIMER:
      host.setTimer(argU(regs, 0), argU(regs, 1));
      regs[A0] = 0;
      return RESUME;
    case SBI_EXT_LEGACY_CONSOLE_PUTCHAR:
      consoleWriteByte(host, regs[A0]! & 0xff);
      regs[A0] = 0;
      return RESUME;
    case SBI_EXT_LEGACY_CONSOLE_GETCHAR: {
      const got = host.consoleRead(1);
      regs[A0] = got.length > 0 ? got[0]! : -1;
      return RESUME;
    }
    case SBI_EXT_LEGACY_SHUTDOWN:
      // "Doesn't return irrespective of whether it succeeds or fails."
      host.systemReset(SBI_SRST_TYPE_SHUTDOWN, SBI_SRST_REASON_NONE);
      return NO_RESUME;
    default:
      regs[A0] = SBI_ERR_NOT_SUPPORTED;
      return RESUME;
  }
}
