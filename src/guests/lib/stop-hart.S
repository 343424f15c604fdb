# lib/stop-hart.S - stop_hart(): the end of a secondary hart that is done.
# Wakes the boot hart with an SBI IPI (it may be asleep in wfi waiting for
# the others) when the includer's word `have_ipi` says the IPI extension is
# there, then stops this hart with SBI HSM hart_stop.  Does not return (a
# hart_stop that fails leaves the hart parked in wfi).  Needs lib/sbi.S and
# the includer's words have_ipi and boot_hart (the boot hart's id).

stop_hart:
    la      t0, have_ipi
    lw      t0, 0(t0)
    beqz    t0, 1f
    li      a0, 1                  # hart_mask: bit 0 ...
    la      t0, boot_hart
    lw      a1, 0(t0)              # ... counted from the boot hart's id
    li      a6, SBI_IPI_SEND
    li      a7, SBI_EXT_IPI
    ecall
1:
    li      a6, SBI_HSM_HART_STOP
    li      a7, SBI_EXT_HSM
    ecall
2:
    wfi
    j       2b
