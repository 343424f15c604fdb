// SBI Base extension (EID 0x10): version, identity and extension probing. The
// spec defines no errors for it: every FID below always succeeds; an unknown
// FID gets SBI_ERR_NOT_SUPPORTED like any unsupported function.

import {
  SBI_BASE_GET_IMPL_ID,
  SBI_BASE_GET_IMPL_VERSION,
  SBI_BASE_GET_MARCHID,
  SBI_BASE_GET_MIMPID,
  SBI_BASE_GET_MVENDORID,
  SBI_BASE_GET_SPEC_VERSION,
  SBI_BASE_PROBE_EXTENSION,
  SBI_ERR_NOT_SUPPORTED,
  SBI_EXT_BASE,
  SBI_EXT_DBCN,
  SBI_EXT_HSM,
  SBI_EXT_IPI,
  SBI_EXT_LEGACY_CONSOLE_GETCHAR,
  SBI_EXT_LEGACY_CONSOLE_PUTCHAR,
  SBI_EXT_LEGACY_SET_TIMER,
  SBI_EXT_LEGACY_SHUTDOWN,
  SBI_EXT_RFENCE,
  SBI_EXT_SRST,
  SBI_EXT_TIME,
  SBI_IMPL_ID,
  SBI_IMPL_VERSION,
  SBI_SPEC_VERSION,
  SBI_SUCCESS,
} from './sbi-abi.ts';
import { A0, sbiReturn } from './sbi-ret.ts';

/**
 * Extensions a guest may use, as probe_extension reports them. The legacy
 * IPI/fence calls (0x03..0x07) are absent: they take a *virtual* address of
 * a hart mask, and every kernel that knows SBI v0.2 uses IPI/RFENCE instead.
 * The project extensions are absent until they are implemented.
 */
const IMPLEMENTED: readonly number[] = [
  SBI_EXT_LEGACY_SET_TIMER,
  SBI_EXT_LEGACY_CONSOLE_PUTCHAR,
  SBI_EXT_LEGACY_CONSOLE_GETCHAR,
  SBI_EXT_LEGACY_SHUTDOWN,
  SBI_EXT_BASE,
  SBI_EXT_TIME,
  SBI_EXT_IPI,
  SBI_EXT_RFENCE,
  SBI_EXT_HSM,
  SBI_EXT_SRST,
  SBI_EXT_DBCN,
];

export function sbiExtensionImplemented(eid: number): boolean {
  return IMPLEMENTED.includes(eid | 0);
}

export function sbiBase(fid: number, regs: Int32Array): boolean {
  switch (fid) {
    case SBI_BASE_GET_SPEC_VERSION:
      return sbiReturn(regs, SBI_SUCCESS, SBI_SPEC_VERSION);
    case SBI_BASE_GET_IMPL_ID:
      return sbiReturn(regs, SBI_SUCCESS, SBI_IMPL_ID);
    case SBI_BASE_GET_IMPL_VERSION:
      return sbiReturn(regs, SBI_SUCCESS, SBI_IMPL_VERSION);
    case SBI_BASE_PROBE_EXTENSION:
      return sbiReturn(regs, SBI_SUCCESS, sbiExtensionImplemented(regs[A0]!) ? 1 : 0);
    case SBI_BASE_GET_MVENDORID:
    case SBI_BASE_GET_MARCHID:
    case SBI_BASE_GET_MIMPID:
      return sbiReturn(regs, SBI_SUCCESS, 0); // 0 is always a legal value of these CSRs
    default:
      return sbiReturn(regs, SBI_ERR_NOT_SUPPORTED);
  }
}
