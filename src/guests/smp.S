# smp.S - several vCPUs sharing memory through atomics.
#
# What it demonstrates
#   * Bringing up secondary harts the way Linux does on RISC-V: they start in
#     the HSM "stopped" state and the boot hart wakes each one with the SBI
#     HSM hart_start call, giving it an entry address and an opaque value.
#     Under webkvm that call is handled by the hypervisor, which releases the
#     sleeping vCPU worker.
#   * A spinlock built from AMOs (amoswap.w.aq to take it, amoswap.w.rl to
#     release it) that serialises console output, so lines never interleave.
#   * Many vCPUs hammering one shared word with amoadd.w: with a correct
#     implementation of the A extension across vCPU threads (Atomics on the
#     shared RAM buffer) no increment is lost, so the final value is exactly
#     harts * per-hart count.  A lost update would show up as FAIL.
#
# What it does
#   1. The boot hart probes hart ids 0..7 (all but itself) with HSM
#      hart_start until the hypervisor answers SBI_ERR_INVALID_PARAM (no
#      such hart); every hart it started counts towards `nharts`.
#   2. Every hart prints "hart N up", waits for the boot hart's "go" flag,
#      then adds 1 to `counter` `count_per_hart` times with amoadd.w.
#   3. Each hart then bumps `done_count` with an AMO; the hart that brings it
#      to `nharts` is last, so all increments are visible to it: it prints
#      the counter, PASS or FAIL, and powers off with SBI SRST (reason 0 on
#      PASS, 1 "system failure" on FAIL).  The others stop with HSM
#      hart_stop.
#
# Boot contract: S-mode, paging off, a0 = hart id, a1 = 0 (a1 = opaque for
# harts started by hart_start).  Position independent.  Each hart's stack
# is a 4 KiB slice of the RAM after the image (at most 8 harts).

    .option norvc
    .text
    .globl _start

    .include "lib/uart.S"
    .include "lib/sbi.S"

    .equ MAX_HARTS,   8
    .equ STACK_SIZE,  4096

_start:
    mv      s0, a0                 # s0 = this hart's id, for the whole run
    call    set_stack
    la      t0, boot_hart
    sw      s0, 0(t0)

    call    lock
    la      a0, msg_boot
    call    puts
    mv      a0, s0
    call    put_dec
    la      a0, msg_boot2
    call    puts
    call    unlock

    # Start the other harts: s1 = harts running (this one included).
    call    start_harts
    mv      s1, a0
    la      t0, nharts
    sw      s1, 0(t0)

    call    lock
    la      a0, msg_harts0
    call    puts
    mv      a0, s1
    call    put_dec
    la      a0, msg_harts
    call    puts
    la      t0, count_per_hart
    lw      a0, 0(t0)
    call    put_dec
    la      a0, msg_harts2
    call    puts
    call    unlock

    # Release everybody.  The .rl makes the nharts store above visible
    # before any hart can see go != 0.
    la      t0, go
    li      t1, 1
    amoswap.w.rl zero, t1, (t0)
    j       hart_main

# Entry of a hart started by hart_start: a0 = hartid, a1 = opaque.
secondary_entry:
    mv      s0, a0
    call    set_stack
    # fall through

# Every hart, boot hart included, runs this.  s0 = hartid.
hart_main:
    call    lock
    la      a0, msg_up
    call    puts
    mv      a0, s0
    call    put_dec
    la      a0, msg_up2
    call    puts
    call    unlock

    # Wait for the boot hart's go; the fence orders the loads that follow
    # (nharts) after the load that saw go = 1.
    la      t0, go
1:
    lw      t1, 0(t0)
    beqz    t1, 1b
    fence   r, rw

    # The contended part: count_per_hart atomic increments of one word.
    la      t0, count_per_hart
    lw      t2, 0(t0)
    la      t0, counter
    li      t1, 1
2:
    beqz    t2, 3f
    amoadd.w zero, t1, (t0)
    addi    t2, t2, -1
    j       2b
3:
    # Finished.  aqrl: our increments are ordered before the done_count
    # update, and the last hart's reads of counter come after it.
    la      t0, done_count
    li      t1, 1
    amoadd.w.aqrl t2, t1, (t0)     # t2 = done_count before our +1
    addi    t2, t2, 1
    la      t0, nharts
    lw      t3, 0(t0)
    beq     t2, t3, last_hart

    # Not last: stop this hart through HSM; park it if that ever returns.
    li      a6, SBI_HSM_HART_STOP
    li      a7, SBI_EXT_HSM
    ecall
4:
    wfi
    j       4b

# The last hart to finish checks the total and powers the machine off.
last_hart:
    la      t0, counter
    lw      s1, 0(t0)              # final value
    la      t0, count_per_hart
    lw      t1, 0(t0)
    la      t0, nharts
    lw      t2, 0(t0)
    mul     s2, t1, t2             # expected = nharts * count_per_hart

    call    lock
    la      a0, msg_final
    call    puts
    mv      a0, s1
    call    put_dec
    la      a0, msg_final2
    call    puts
    mv      a0, s2
    call    put_dec
    la      a0, msg_final3
    call    puts
    la      a0, msg_pass
    li      a1, 0                  # SRST reason: none
    beq     s1, s2, 5f
    la      a0, msg_fail
    li      a1, 1                  # SRST reason: system failure
5:
    mv      s3, a1
    call    puts
    call    unlock
    mv      a0, s3
    j       shutdown

    .include "lib/shutdown.S"
    .include "lib/start-harts.S"
    .include "lib/hart-stack.S"
    .include "lib/spinlock.S"
    .include "lib/putc.S"
    .include "lib/puts.S"
    .include "lib/put-dec.S"

# --- read-only data ---------------------------------------------------------
msg_boot:   .asciz "smp: boot hart "
msg_boot2:  .asciz ", starting the others with SBI HSM hart_start\r\n"
msg_harts0: .asciz "smp: "
msg_harts:  .asciz " hart(s), each adding "
msg_harts2: .asciz " to one shared counter with amoadd.w\r\n"
msg_up:     .asciz "hart "
msg_up2:    .asciz " up\r\n"
msg_final:  .asciz "smp: counter = "
msg_final2: .asciz ", expected "
msg_final3: .asciz "\r\n"
msg_pass:   .asciz "PASS\r\n"
msg_fail:   .asciz "FAIL\r\n"

# --- shared, written data: its own page, so stores to it never touch the
# page holding the code (webkvm caches decoded instructions per page).
    .balign 4096, 0
    .globl count_per_hart
    .globl counter
count_per_hart: .word 100000       # increments per hart; a host may patch it
counter:        .word 0            # the contended word
done_count:     .word 0            # harts finished
nharts:         .word 0            # harts running, set before go
go:             .word 0            # 1 once the boot hart has counted harts
boot_hart:      .word 0
console_lock:   .word 0

# The end of the image, page aligned: the per-hart stacks start here.
    .balign 4096, 0
image_end:
