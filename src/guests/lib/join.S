# lib/join.S - the end of a multi-hart run: the boot hart calls probe_ipi
# before it starts the others; each secondary hart counts itself in the
# includer's word done_count when its work is published, then calls
# stop_hart; the boot hart calls wait_harts.  The includer's words: nharts
# (harts running), done_count, have_ipi (the SBI IPI extension is there) and
# boot_hart (its id).  Needs lib/sbi.S.

    .equ SIE_SSIE,    0x2
    .equ SIP_SSIP,    0x2

# probe_ipi(): have_ipi = nonzero if the SBI IPI extension is there (BASE
# probe_extension; an error counts as absent).  Clobbers t0, a0, a1, a6, a7.
probe_ipi:
    li      a0, SBI_EXT_IPI
    li      a6, SBI_BASE_PROBE_EXT
    li      a7, SBI_EXT_BASE
    ecall
    bnez    a0, 1f
    la      t0, have_ipi
    sw      a1, 0(t0)
1:
    ret

# wait_harts(): wait until every hart is done (done_count == nharts): asleep
# in wfi if the others can wake us with an IPI, else spinning.  SSIP is
# cleared after each wake-up and before the next test, so an IPI that lands
# between the test and wfi leaves SSIP pending and wfi returns.  Ends with
# fence r, rw: what the harts published before done_count is read after it.
# Clobbers t0..t3.
wait_harts:
    la      t0, have_ipi
    lw      t3, 0(t0)
    beqz    t3, 1f
    li      t0, SIE_SSIE
    csrs    sie, t0
1:
    la      t0, done_count
    lw      t2, 0(t0)
    la      t1, nharts
    lw      t1, 0(t1)
    beq     t2, t1, 2f
    beqz    t3, 1b                 # no IPI: spin
    wfi
    li      t0, SIP_SSIP
    csrc    sip, t0
    j       1b
2:
    li      t0, SIE_SSIE
    csrc    sie, t0
    fence   r, rw
    ret

# stop_hart(): wake the boot hart with an SBI IPI (it may be asleep in
# wait_harts) if have_ipi, then stop this hart with SBI HSM hart_stop.  Does
# not return (a hart_stop that fails leaves the hart parked in wfi).
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
