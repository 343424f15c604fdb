// What the SBI implementation needs from the vCPU runtime that calls it. The
// SBI code (sbi*.ts) decodes the call, checks arguments and picks error codes;
// the host does the actual deed: program a timer, poke another vCPU, flush
// TLBs, start or stop harts, move console bytes, touch guest memory.
//
// This mirrors KVM RISC-V's split: arch/riscv/kvm/vcpu_sbi_*.c decode the
// call and then use the vCPU's timer, the remote-request machinery
// (kvm_make_vcpus_request_mask) and kvm_vcpu_kick.
//
// Every method runs synchronously on the calling vCPU's worker. Numbers are
// JS numbers: addresses and sizes unsigned (>= 0), hart masks unsigned with
// bit i = hart i.

export interface SbiHost {
  /** The calling hart's ID (= vCPU index). */
  readonly vcpuId: number;
  /** Harts 0..nvcpus-1 exist (1..32). */
  readonly nvcpus: number;

  /**
   * Program the calling hart's supervisor timer for absolute mtime (lo, hi)
   * (all ones = never), and clear its pending STIP; STIP rises when mtime
   * reaches the deadline.
   */
  setTimer(lo: number, hi: number): void;

  /** Raise SSIP on every hart in `mask` (never 0) and kick them. */
  sendIpi(mask: number): void;

  /**
   * Make every hart in `mask` (never 0) execute, before it next runs guest
   * code: kind SBI_FENCE_I a FENCE.I; SBI_FENCE_SFENCE_VMA an SFENCE.VMA of
   * [start, start+size) for all ASIDs; SBI_FENCE_SFENCE_VMA_ASID the same for
   * `asid` only. A whole-address-space request has start 0, size
   * SBI_FENCE_ALL. (KVM: kvm_riscv_fence_i / hfence requests to the vCPUs.)
   */
  remoteFence(mask: number, kind: number, start: number, size: number, asid: number): void;

  /**
   * Start STOPPED hart `hartid` (already checked to exist, with `startAddr` in
   * RAM) in S-mode at startAddr with a0 = hartid, a1 = opaque, satp = 0,
   * sstatus.SIE = 0. Must atomically check-and-change its state. Returns
   * SBI_SUCCESS, SBI_ERR_ALREADY_AVAILABLE if it is not stopped, or
   * SBI_ERR_FAILED.
   */
  hartStart(hartid: number, startAddr: number, opaque: number): number;

  /**
   * Stop the calling hart. Returns SBI_SUCCESS when it is now stopping, or
   * SBI_ERR_FAILED. On success the call does not return to the guest: the
   * registers are left as they are and the host must stop the hart before it
   * runs another instruction (sbiEcall still reports the ECALL as handled).
   */
  hartStop(): number;

  /** HSM state (SBI_HSM_STATE_*) of an existing hart. */
  hartStatus(hartid: number): number;

  /**
   * Default retentive suspend of the calling hart: behave as WFI (ignoring
   * sstatus.SIE) until an interrupt is pending for it; meanwhile its HSM state
   * reads SUSPENDED. Returns SBI_SUCCESS after resuming, or an error.
   */
  hartSuspend(): number;

  /**
   * Shut down (SBI_SRST_TYPE_SHUTDOWN) or reboot the VM; type and reason are
   * already validated. Returns SBI_SUCCESS when the request was taken (the
   * call then does not return: the host stops every hart), SBI_ERR_NOT_SUPPORTED
   * if this runtime cannot do that type (e.g. reboot), or SBI_ERR_FAILED.
   * The legacy shutdown call ignores the result: it never returns.
   */
  systemReset(type: number, reason: number): number;

  /** Write bytes to the console (copy them: the array may be reused). Returns bytes accepted. */
  consoleWrite(bytes: Uint8Array): number;
  /** Take up to `max` waiting console input bytes (never blocks; may be empty). */
  consoleRead(max: number): Uint8Array;

  /** A copy of guest physical [gpa, gpa+len), or null unless all of it is guest RAM. */
  readGuest(gpa: number, len: number): Uint8Array | null;
  /**
   * Store bytes at guest physical gpa; false unless all of it is guest RAM.
   * A host write like any other: it must mark the pages dirty for dirty
   * logging and respect write-protected (shadowed) guest page tables.
   */
  writeGuest(gpa: number, bytes: Uint8Array): boolean;
}
