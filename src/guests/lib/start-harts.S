# lib/start-harts.S - start_harts(s0 = this hart's id) -> a0 = harts running,
# this one included: SBI HSM hart_start(h, secondary_entry, 0) for hart ids
# h = 0, 1, ... (skipping s0), until the hypervisor answers
# SBI_ERR_INVALID_PARAM (no such hart) or MAX_HARTS is reached.  A hart that
# refuses for another reason (e.g. it is already running) is not counted.
# secondary_entry gets a0 = its hart id, a1 = 0, paging off.  The SBI keeps
# every register but a0 and a1, so the loop lives in t registers.  Needs
# lib/sbi.S, MAX_HARTS and the includer's secondary_entry.  Clobbers t0..t2,
# a1, a2, a6, a7.

start_harts:
    li      t1, 1                  # t1 = harts running
    li      t2, 0                  # t2 = the id being probed
1:
    li      t0, MAX_HARTS
    bgeu    t2, t0, 3f
    beq     t2, s0, 2f
    mv      a0, t2                 # hartid
    la      a1, secondary_entry    # start_addr (physical = the identity map's VA)
    li      a2, 0                  # opaque, arrives in the new hart's a1
    li      a6, SBI_HSM_HART_START
    li      a7, SBI_EXT_HSM
    ecall
    li      t0, SBI_ERR_INVALID_PARAM
    beq     a0, t0, 3f             # past the last hart
    bnez    a0, 2f                 # e.g. already started: not ours to count
    addi    t1, t1, 1
2:
    addi    t2, t2, 1
    j       1b
3:
    mv      a0, t1
    ret
