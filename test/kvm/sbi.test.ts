import { describe, expect, it } from 'vitest';
import * as abi from '../../src/kvm/sbi-abi.ts';
import { sbiEcall } from '../../src/kvm/sbi.ts';
import { FakeHost, RAM_BASE } from './sbi-fake-host.ts';

const {
  SBI_SUCCESS,
  SBI_ERR_FAILED,
  SBI_ERR_NOT_SUPPORTED,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_INVALID_ADDRESS,
  SBI_ERR_ALREADY_AVAILABLE,
} = abi;

/** The hart's registers for one ECALL: a7 = eid, a6 = fid, a0.. = args; x5 and x31 are sentinels. */
function regs(eid: number, fid: number, ...args: number[]): Int32Array {
  const r = new Int32Array(32);
  r[17] = eid;
  r[16] = fid;
  args.forEach((a, i) => (r[10 + i] = a | 0));
  r[5] = 0x5555;
  r[31] = 0x3131;
  return r;
}

/** Make the call; return [handled, a0 error, a1 value] and check nothing else changed. */
function call(host: FakeHost, eid: number, fid: number, ...args: number[]): [boolean, number, number] {
  const r = regs(eid, fid, ...args);
  const before = Int32Array.from(r);
  const resumed = sbiEcall(r, host);
  for (let i = 0; i < 32; i++) {
    if (i !== 10 && i !== 11) expect(r[i], `x${i} must be preserved`).toBe(before[i]);
  }
  return [resumed, r[10]!, r[11]!];
}

describe('SBI: calling convention and Base extension', () => {
  it('reports spec v2.0, our implementation ID and version, and zero machine IDs', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_BASE, 0)).toEqual([true, SBI_SUCCESS, 0x0200_0000]);
    expect(call(h, abi.SBI_EXT_BASE, 1)).toEqual([true, SBI_SUCCESS, 0x7765_626b]);
    expect(call(h, abi.SBI_EXT_BASE, 2)).toEqual([true, SBI_SUCCESS, 0x0000_0100]);
    for (const fid of [4, 5, 6]) expect(call(h, abi.SBI_EXT_BASE, fid)).toEqual([true, SBI_SUCCESS, 0]);
    expect(call(h, abi.SBI_EXT_BASE, 7)).toEqual([true, SBI_ERR_NOT_SUPPORTED, 0]);
  });

  it('the implementation ID is none of the spec-assigned ones (0..11)', () => {
    expect(abi.SBI_IMPL_ID).toBeGreaterThan(11);
  });

  it('probe_extension: 1 for what we implement, 0 otherwise', () => {
    const h = new FakeHost();
    const probe = (eid: number) => call(h, abi.SBI_EXT_BASE, abi.SBI_BASE_PROBE_EXTENSION, eid)[2];
    for (const eid of [abi.SBI_EXT_BASE, abi.SBI_EXT_TIME, abi.SBI_EXT_IPI, abi.SBI_EXT_RFENCE, abi.SBI_EXT_HSM,
      abi.SBI_EXT_SRST, abi.SBI_EXT_DBCN, 0x00, 0x01, 0x02, 0x08]) {
      expect(probe(eid), `eid 0x${eid.toString(16)}`).toBe(1);
    }
    for (const eid of [0x03, 0x04, 0x05, 0x06, 0x07, 0x09, 0x504d55 /* PMU */, 0x535441 /* STA */,
      abi.SBI_EXT_WEBKVM_PVMSR, abi.SBI_EXT_WEBKVM_PAPR, -1]) {
      expect(probe(eid), `eid 0x${eid.toString(16)}`).toBe(0);
    }
  });

  it('unknown extensions answer SBI_ERR_NOT_SUPPORTED', () => {
    const h = new FakeHost();
    expect(call(h, 0x504d55, 0)).toEqual([true, SBI_ERR_NOT_SUPPORTED, 0]);
    expect(call(h, 0x0123_4567, 9)).toEqual([true, SBI_ERR_NOT_SUPPORTED, 0]);
  });

  it('error codes are the spec values', () => {
    expect([abi.SBI_SUCCESS, abi.SBI_ERR_FAILED, abi.SBI_ERR_NOT_SUPPORTED, abi.SBI_ERR_INVALID_PARAM,
      abi.SBI_ERR_DENIED, abi.SBI_ERR_INVALID_ADDRESS, abi.SBI_ERR_ALREADY_AVAILABLE,
      abi.SBI_ERR_ALREADY_STARTED, abi.SBI_ERR_ALREADY_STOPPED]).toEqual([0, -1, -2, -3, -4, -5, -6, -7, -8]);
  });
});

describe('SBI TIME', () => {
  it('set_timer passes the 64-bit deadline as (a0 low, a1 high) and succeeds', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_TIME, 0, 0x89ab_cdef, 0x12)).toEqual([true, SBI_SUCCESS, 0]);
    expect(h.timer).toEqual([0x89ab_cdef, 0x12]);
    call(h, abi.SBI_EXT_TIME, 0, -1, -1); // "never"
    expect(h.timer).toEqual([0xffff_ffff, 0xffff_ffff]);
    expect(call(h, abi.SBI_EXT_TIME, 1)[1]).toBe(SBI_ERR_NOT_SUPPORTED);
  });
});

describe('SBI IPI', () => {
  it('sends to hart_mask relative to hart_mask_base', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_IPI, 0, 0b101, 2)).toEqual([true, SBI_SUCCESS, 0]);
    expect(h.ipis).toEqual([0b10100]);
  });

  it('hart_mask_base = -1 means every hart, ignoring the mask', () => {
    const h = new FakeHost(0, 8);
    call(h, abi.SBI_EXT_IPI, 0, 0, -1);
    expect(h.ipis).toEqual([0xff]);
    const h32 = new FakeHost(0, 32);
    call(h32, abi.SBI_EXT_IPI, 0, 0, -1);
    expect(h32.ipis).toEqual([0xffff_ffff]);
  });

  it('any hart that does not exist is SBI_ERR_INVALID_PARAM, and nobody is interrupted', () => {
    const h = new FakeHost(0, 8);
    expect(call(h, abi.SBI_EXT_IPI, 0, 0b11, 7)[1]).toBe(SBI_ERR_INVALID_PARAM); // harts 7 and 8
    expect(call(h, abi.SBI_EXT_IPI, 0, 1, 8)[1]).toBe(SBI_ERR_INVALID_PARAM); // base itself invalid
    expect(call(h, abi.SBI_EXT_IPI, 0, 0x8000_0000, 0)[1]).toBe(SBI_ERR_INVALID_PARAM);
    expect(h.ipis).toEqual([]);
    expect(call(h, abi.SBI_EXT_IPI, 0, 0, 3)).toEqual([true, SBI_SUCCESS, 0]); // empty list: fine, no-op
    expect(h.ipis).toEqual([]);
  });
});

describe('SBI RFENCE', () => {
  it('remote_fence_i targets the harts', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_RFENCE, 0, 0b110, 0)[1]).toBe(SBI_SUCCESS);
    expect(h.fences).toEqual([{ mask: 0b110, kind: abi.SBI_FENCE_I, start: 0, size: abi.SBI_FENCE_ALL, asid: 0 }]);
  });

  it('remote_sfence_vma: a range, or the whole space for (0, 0) and size = all ones', () => {
    const h = new FakeHost();
    call(h, abi.SBI_EXT_RFENCE, 1, 1, 0, 0x4000_1000, 0x2000);
    call(h, abi.SBI_EXT_RFENCE, 1, 1, 0, 0, 0);
    call(h, abi.SBI_EXT_RFENCE, 1, 1, 0, 0x1234_5000, -1);
    expect(h.fences.map((f) => [f.kind, f.start, f.size])).toEqual([
      [abi.SBI_FENCE_SFENCE_VMA, 0x4000_1000, 0x2000],
      [abi.SBI_FENCE_SFENCE_VMA, 0, abi.SBI_FENCE_ALL],
      [abi.SBI_FENCE_SFENCE_VMA, 0, abi.SBI_FENCE_ALL],
    ]);
  });

  it('remote_sfence_vma_asid passes the ASID', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_RFENCE, 2, 0, -1, 0x1000, 0x1000, 7)[1]).toBe(SBI_SUCCESS);
    expect(h.fences).toEqual([{ mask: 0xff, kind: abi.SBI_FENCE_SFENCE_VMA_ASID, start: 0x1000, size: 0x1000, asid: 7 }]);
  });

  it('a range past the end of the address space is SBI_ERR_INVALID_ADDRESS', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_RFENCE, 1, 1, 0, 0xffff_f000, 0x2000)[1]).toBe(SBI_ERR_INVALID_ADDRESS);
    expect(call(h, abi.SBI_EXT_RFENCE, 2, 1, 0, 0xffff_f000, 0x1001, 1)[1]).toBe(SBI_ERR_INVALID_ADDRESS);
    expect(call(h, abi.SBI_EXT_RFENCE, 1, 1, 0, 0xffff_f000, 0x1000)[1]).toBe(SBI_SUCCESS); // ends exactly at 2^32
    expect(h.fences.length).toBe(1);
  });

  it('bad hart lists are SBI_ERR_INVALID_PARAM; HFENCE functions are not supported', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_RFENCE, 1, 0x100, 0, 0xffff_f000, 0x2000)[1]).toBe(SBI_ERR_INVALID_PARAM);
    for (const fid of [3, 4, 5, 6, 7]) expect(call(h, abi.SBI_EXT_RFENCE, fid, 1, 0)[1]).toBe(SBI_ERR_NOT_SUPPORTED);
    expect(h.fences).toEqual([]);
  });
});

describe('SBI HSM', () => {
  it('hart_start starts a stopped hart with its start address and opaque', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_HSM, 0, 3, RAM_BASE + 0x100, 0xabcd)).toEqual([true, SBI_SUCCESS, 0]);
    expect(h.starts).toEqual([[3, RAM_BASE + 0x100, 0xabcd]]);
    expect(call(h, abi.SBI_EXT_HSM, 2, 3)).toEqual([true, SBI_SUCCESS, abi.SBI_HSM_STATE_STARTED]);
  });

  it('hart_start errors: ALREADY_AVAILABLE, INVALID_PARAM, INVALID_ADDRESS', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_HSM, 0, 0, RAM_BASE, 0)[1]).toBe(SBI_ERR_ALREADY_AVAILABLE); // itself
    expect(call(h, abi.SBI_EXT_HSM, 0, 8, RAM_BASE, 0)[1]).toBe(SBI_ERR_INVALID_PARAM);
    expect(call(h, abi.SBI_EXT_HSM, 0, 1, 0x1000, 0)[1]).toBe(SBI_ERR_INVALID_ADDRESS); // not RAM
    expect(call(h, abi.SBI_EXT_HSM, 0, 1, RAM_BASE + 2, 0)[1]).toBe(SBI_ERR_INVALID_ADDRESS); // misaligned
    expect(h.starts).toEqual([]);
  });

  it('hart_stop does not return on success', () => {
    const h = new FakeHost();
    const r = regs(abi.SBI_EXT_HSM, 1);
    r[10] = 77;
    expect(sbiEcall(r, h)).toBe(true); // handled: never an ecall exception
    expect(r[10]).toBe(77); // untouched: the call does not return
    expect(h.stopped).toBe(true);
  });

  it('hart_stop reports SBI_ERR_FAILED from the host', () => {
    const h = new FakeHost();
    h.hartStop = () => SBI_ERR_FAILED;
    expect(call(h, abi.SBI_EXT_HSM, 1)).toEqual([true, SBI_ERR_FAILED, 0]);
  });

  it('hart_get_status reports states and rejects unknown harts', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_HSM, 2, 0)).toEqual([true, SBI_SUCCESS, abi.SBI_HSM_STATE_STARTED]);
    expect(call(h, abi.SBI_EXT_HSM, 2, 5)).toEqual([true, SBI_SUCCESS, abi.SBI_HSM_STATE_STOPPED]);
    expect(call(h, abi.SBI_EXT_HSM, 2, 8)[1]).toBe(SBI_ERR_INVALID_PARAM);
    expect(call(h, abi.SBI_EXT_HSM, 2, -1)[1]).toBe(SBI_ERR_INVALID_PARAM);
  });

  it('hart_suspend: default retentive waits like WFI; non-retentive unsupported; others invalid', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_HSM, 3, 0, 0, 0)).toEqual([true, SBI_SUCCESS, 0]);
    expect(h.suspends).toBe(1);
    expect(call(h, abi.SBI_EXT_HSM, 3, 0x8000_0000, RAM_BASE, 0)[1]).toBe(SBI_ERR_NOT_SUPPORTED);
    for (const t of [1, 0x0fff_ffff, 0x1000_0000, 0x7fff_ffff, 0x8000_0001, 0x9000_0000, 0xffff_ffff]) {
      expect(call(h, abi.SBI_EXT_HSM, 3, t, RAM_BASE, 0)[1], `type 0x${t.toString(16)}`).toBe(SBI_ERR_INVALID_PARAM);
    }
    expect(h.suspends).toBe(1);
    expect(call(h, abi.SBI_EXT_HSM, 4)[1]).toBe(SBI_ERR_NOT_SUPPORTED);
  });
});

describe('SBI SRST', () => {
  it('shutdown and reboots with valid reasons do not return', () => {
    for (const [type, reason] of [[0, 0], [1, 1], [2, 0]] as const) {
      const h = new FakeHost();
      const r = regs(abi.SBI_EXT_SRST, 0, type, reason);
      expect(sbiEcall(r, h)).toBe(true);
      expect([r[10], r[11]]).toEqual([type, reason]); // untouched: the call does not return
      expect(h.resets).toEqual([[type, reason]]);
    }
  });

  it('reserved or vendor types and reasons are SBI_ERR_INVALID_PARAM', () => {
    const h = new FakeHost();
    for (const [type, reason] of [[3, 0], [0xefff_ffff, 0], [0xf000_0000, 0], [0, 2], [0, 0xe000_0000], [0, 0xf000_0000]]) {
      expect(call(h, abi.SBI_EXT_SRST, 0, type!, reason!)[1]).toBe(SBI_ERR_INVALID_PARAM);
    }
    expect(h.resets).toEqual([]);
  });

  it('a valid type the host cannot do comes back as its error; other FIDs are not supported', () => {
    const h = new FakeHost();
    h.rebootResult = SBI_ERR_NOT_SUPPORTED;
    expect(call(h, abi.SBI_EXT_SRST, 0, 1, 0)).toEqual([true, SBI_ERR_NOT_SUPPORTED, 0]);
    expect(call(h, abi.SBI_EXT_SRST, 1, 0, 0)[1]).toBe(SBI_ERR_NOT_SUPPORTED);
  });
});

describe('SBI DBCN', () => {
  it('console_write writes guest memory bytes and returns the count', () => {
    const h = new FakeHost();
    h.ram.set(new TextEncoder().encode('hello'), 0x40);
    expect(call(h, abi.SBI_EXT_DBCN, 0, 5, RAM_BASE + 0x40, 0)).toEqual([true, SBI_SUCCESS, 5]);
    expect(h.outText()).toBe('hello');
    expect(call(h, abi.SBI_EXT_DBCN, 0, 0, 0, 0)).toEqual([true, SBI_SUCCESS, 0]);
  });

  it('console_write is partial beyond 4096 bytes per call', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_DBCN, 0, 10_000, RAM_BASE, 0)).toEqual([true, SBI_SUCCESS, 4096]);
  });

  it('buffers outside RAM, or with a non-zero high address, are SBI_ERR_INVALID_PARAM', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_DBCN, 0, 4, 0x1000, 0)[1]).toBe(SBI_ERR_INVALID_PARAM);
    expect(call(h, abi.SBI_EXT_DBCN, 0, 4, RAM_BASE, 1)[1]).toBe(SBI_ERR_INVALID_PARAM);
    expect(call(h, abi.SBI_EXT_DBCN, 0, 0x20, RAM_BASE + 0xfff0, 0)[1]).toBe(SBI_ERR_INVALID_PARAM); // runs off RAM
    h.in.push(0x61);
    expect(call(h, abi.SBI_EXT_DBCN, 1, 4, 0x1000, 0)[1]).toBe(SBI_ERR_INVALID_PARAM);
    expect(h.in).toEqual([0x61]); // the keystroke was not lost
    expect(h.out).toEqual([]);
  });

  it('console_read copies what is waiting into guest memory, without blocking', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_DBCN, 1, 8, RAM_BASE + 0x100, 0)).toEqual([true, SBI_SUCCESS, 0]);
    h.in.push(0x68, 0x69, 0x21);
    expect(call(h, abi.SBI_EXT_DBCN, 1, 2, RAM_BASE + 0x100, 0)).toEqual([true, SBI_SUCCESS, 2]);
    expect([...h.ram.subarray(0x100, 0x103)]).toEqual([0x68, 0x69, 0]);
    expect(call(h, abi.SBI_EXT_DBCN, 1, 8, RAM_BASE + 0x100, 0)).toEqual([true, SBI_SUCCESS, 1]);
    expect(h.ram[0x100]).toBe(0x21);
  });

  it('console_write_byte writes the low byte and returns value 0', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_DBCN, 2, 0x1241)).toEqual([true, SBI_SUCCESS, 0]);
    expect(h.outText()).toBe('A');
    expect(call(h, abi.SBI_EXT_DBCN, 3)[1]).toBe(SBI_ERR_NOT_SUPPORTED);
  });
});

describe('SBI legacy (v0.1) calls', () => {
  /** Legacy calls return in a0 only: a1 must be preserved too. */
  function legacy(host: FakeHost, eid: number, ...args: number[]): [boolean, number] {
    const r = regs(eid, 0x77, ...args);
    if (args.length < 2) r[11] = 0x1111;
    const a1 = r[11];
    const resumed = sbiEcall(r, host);
    expect(r[11], 'a1 is preserved by legacy calls').toBe(a1);
    return [resumed, r[10]!];
  }

  it('set_timer (0x00) takes a 64-bit value in a0/a1 and returns 0', () => {
    const h = new FakeHost();
    expect(legacy(h, 0x00, 1234, 1)).toEqual([true, 0]);
    expect(h.timer).toEqual([1234, 1]);
  });

  it('console_putchar (0x01) and console_getchar (0x02, -1 when empty)', () => {
    const h = new FakeHost();
    expect(legacy(h, 0x01, 0x4b)).toEqual([true, 0]);
    expect(h.outText()).toBe('K');
    expect(legacy(h, 0x02)).toEqual([true, -1]);
    h.in.push(0xe9);
    expect(legacy(h, 0x02)).toEqual([true, 0xe9]);
  });

  it('shutdown (0x08) does not return', () => {
    const h = new FakeHost();
    const r = regs(0x08, 0);
    r[10] = 5;
    expect(sbiEcall(r, h)).toBe(true);
    expect(r[10]).toBe(5);
    expect(h.resets).toEqual([[abi.SBI_SRST_TYPE_SHUTDOWN, abi.SBI_SRST_REASON_NONE]]);
  });

  it('the IPI/fence calls that take a virtual hart-mask pointer, and reserved EIDs, are not supported', () => {
    const h = new FakeHost();
    for (const eid of [0x03, 0x04, 0x05, 0x06, 0x07, 0x09, 0x0f]) expect(legacy(h, eid, 0)).toEqual([true, SBI_ERR_NOT_SUPPORTED]);
    expect(h.ipis).toEqual([]);
  });
});

describe('webkvm project extensions (reserved)', () => {
  it('live in the experimental EID range', () => {
    for (const eid of [abi.SBI_EXT_WEBKVM_PVMSR, abi.SBI_EXT_WEBKVM_PAPR]) {
      expect(eid).toBeGreaterThanOrEqual(abi.SBI_EXT_EXPERIMENTAL_FIRST);
      expect(eid).toBeLessThanOrEqual(abi.SBI_EXT_EXPERIMENTAL_LAST);
    }
  });

  it('keep the KVM MSR and PAPR hcall numbers', () => {
    expect([abi.MSR_KVM_EOI_EN, abi.MSR_KVM_STEAL_TIME]).toEqual([0x4b564d04, 0x4b564d03]);
    expect([abi.H_REMOVE, abi.H_ENTER, abi.H_READ, abi.H_PROTECT, abi.H_BULK_REMOVE]).toEqual([0x04, 0x08, 0x0c, 0x18, 0x124]);
    expect(abi.H_FUNCTION).toBe(abi.SBI_ERR_NOT_SUPPORTED);
  });

  it('answer NOT_SUPPORTED (= H_FUNCTION) until implemented', () => {
    const h = new FakeHost();
    expect(call(h, abi.SBI_EXT_WEBKVM_PVMSR, abi.SBI_PVMSR_READ, abi.MSR_KVM_EOI_EN)).toEqual([true, SBI_ERR_NOT_SUPPORTED, 0]);
    expect(call(h, abi.SBI_EXT_WEBKVM_PVMSR, abi.SBI_PVMSR_WRITE, abi.MSR_KVM_EOI_EN, RAM_BASE | 1, 0)[1]).toBe(SBI_ERR_NOT_SUPPORTED);
    expect(call(h, abi.SBI_EXT_WEBKVM_PAPR, abi.H_ENTER, 0)).toEqual([true, abi.H_FUNCTION, 0]);
  });
});
