# lib/shutdown.S - shutdown(a0 = SRST reason): SBI system_reset(shutdown,
# reason); reason 0 is "none" (a pass), 1 "system failure".  SRST does not
# return on success: fall back to the legacy shutdown, then park the hart if
# even that came back.  Needs lib/sbi.S.

shutdown:
    mv      a1, a0
    li      a0, SRST_TYPE_SHUTDOWN
    li      a6, SBI_SRST_RESET
    li      a7, SBI_EXT_SRST
    ecall
    li      a7, SBI_EXT_LEGACY_SHUTDOWN
    ecall
1:
    wfi
    j       1b
