// SBI Debug Console extension (EID "DBCN"): console_write, console_read,
// console_write_byte. Buffers are guest *physical* addresses split in two
// XLEN halves (lo, hi); on RV32 with Sv32 a physical address can be 34 bits,
// but our RAM lies below 4 GiB, so a non-zero hi never names RAM.
//
// Errors (spec table): SBI_ERR_INVALID_PARAM when the buffer is not entirely
// guest RAM. Writes are non-blocking and may be partial: we take at most
// DBCN_MAX_BYTES per call and report how many were written; console output
// itself never blocks (a full ring drops and counts, see console-ring.ts), so
// the count is what we took. Reads never block either and return 0 bytes
// when nothing was typed. The buffer of a read is validated before any input
// is consumed, so a bad pointer loses no keystrokes.

import {
  SBI_DBCN_CONSOLE_READ,
  SBI_DBCN_CONSOLE_WRITE,
  SBI_DBCN_CONSOLE_WRITE_BYTE,
  SBI_ERR_FAILED,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_NOT_SUPPORTED,
  SBI_SUCCESS,
} from './sbi-abi.ts';
import type { SbiHost } from './sbi-host.ts';
import { argU, sbiReturn } from './sbi-ret.ts';

/** Most bytes one console_write / console_read moves (the guest loops for more). */
export const DBCN_MAX_BYTES = 4096;

const oneByte = new Uint8Array(1);

/** Put one byte on the console (also the legacy putchar). */
export function consoleWriteByte(host: SbiHost, byte: number): void {
  oneByte[0] = byte;
  host.consoleWrite(oneByte);
}

export function sbiDbcn(fid: number, regs: Int32Array, host: SbiHost): boolean {
  switch (fid) {
    case SBI_DBCN_CONSOLE_WRITE: {
      const n = Math.min(argU(regs, 0), DBCN_MAX_BYTES);
      const lo = argU(regs, 1);
      if (argU(regs, 2) !== 0) return sbiReturn(regs, SBI_ERR_INVALID_PARAM);
      if (n === 0) return sbiReturn(regs, SBI_SUCCESS, 0);
      const bytes = host.readGuest(lo, n);
      if (bytes === null) return sbiReturn(regs, SBI_ERR_INVALID_PARAM);
      return sbiReturn(regs, SBI_SUCCESS, host.consoleWrite(bytes));
    }
    case SBI_DBCN_CONSOLE_READ: {
      const n = Math.min(argU(regs, 0), DBCN_MAX_BYTES);
      const lo = argU(regs, 1);
      if (argU(regs, 2) !== 0) return sbiReturn(regs, SBI_ERR_INVALID_PARAM);
      if (n === 0) return sbiReturn(regs, SBI_SUCCESS, 0);
      if (host.readGuest(lo, n) === null) return sbiReturn(regs, SBI_ERR_INVALID_PARAM);
      const got = host.consoleRead(n);
      if (got.length > 0 && !host.writeGuest(lo, got)) return sbiReturn(regs, SBI_ERR_FAILED);
      return sbiReturn(regs, SBI_SUCCESS, got.length);
    }
    case SBI_DBCN_CONSOLE_WRITE_BYTE:
      consoleWriteByte(host, regs[10]! & 0xff);
      return sbiReturn(regs, SBI_SUCCESS, 0);
    default:
      return sbiReturn(regs, SBI_ERR_NOT_SUPPORTED);
  }
}
