# compute.S - an integer benchmark, with paging off or on, on one or more harts.
#
# What it demonstrates
#   The cost of running guest code when nothing exits: once the harts are
#   started, the loop makes no MMIO access and no SBI call until the result
#   is printed, so its speed is the speed of the vCPU's interpreter and
#   software TLB.
#   Run it twice to see what memory virtualization costs:
#     use_paging = 0: satp is bare, so the shadow MMU maps guest physical
#                     memory with *direct* shadow pages;
#     use_paging = 1: the guest turns Sv32 on with 4 MiB megapages, which
#                     KVM shadows with 4 KiB SPTEs in direct shadow pages as
#                     well (a guest megapage has no 4 MiB host equivalent).
#   With several vCPUs every hart runs the same work on its own memory.
#
# The work, repeated `iterations` times (a word the host may patch):
#   1. fill a 1024-word array from a linear congruential generator (mul, add,
#      word stores);
#   2. CRC-32 (reflected, polynomial 0xEDB88320, bit at a time) over the
#      array's 4096 bytes (byte loads, shifts, masks, a tight inner branch);
#   3. sieve of Eratosthenes below 8192 in a byte array (byte stores, loads,
#      data-dependent branches), counting the primes (1028);
#   4. a mix of divu/remu/div/rem/mulh/mulhu/mulhsu over the array, with
#      divisors that include 0, plus the architected corner cases
#      (INT_MIN / -1, division by zero), so a VM that gets the M extension's
#      edge cases wrong prints a different checksum;
#   5. checksum = rotl(checksum, 5) ^ crc ^ primes ^ mix ^ corners.
#   The checksum for the default 20 iterations is 0xc0950c12 on every hart
#   (QEMU agrees); hart 0..7 all compute the same value, on their own copy.
#
# Output (boot hart only):
#   compute: N hart(s), paging off|on (Sv32, 4 MiB megapages), I iteration(s) per hart
#   compute: checksum 0xXXXXXXXX
#   compute: all harts agree, PASS          (or "... disagree, FAIL")
# then SBI SRST shutdown, reason 0 on PASS, 1 on FAIL.
#
# Multi-hart: the boot hart probes hart ids 0..7 with SBI HSM hart_start
# (stops at SBI_ERR_INVALID_PARAM), each hart runs the loop and publishes its
# checksum, the boot hart waits for all of them (an AMO counter), compares,
# prints, and powers off; the others stop with HSM hart_stop.  So that a
# waiting boot hart does not spin on a host core the others need, it sleeps
# in wfi and each finishing hart wakes it with an SBI IPI (a supervisor
# software interrupt: enabled in sie but with sstatus.SIE off, it wakes wfi
# without trapping).  Without the IPI extension it spins instead.
#
# Memory: after the image (page aligned) come one page for the Sv32 root
# table, then 16 KiB per hart: array (4 KiB), sieve (8 KiB), stack (4 KiB).
# Boot contract: S-mode, paging off, a0 = hart id, a1 = 0.  Position
# independent; the megapage identity map is derived from where the image
# actually runs, so the same code works at 0x8000_0000 and 0x8040_0000.

    .option norvc
    .text
    .globl _start

    .include "lib/uart.S"
    .include "lib/sbi.S"

    .equ MAX_HARTS,   8
    .equ HART_AREA,   0x4000       # per-hart bytes: array, sieve, stack
    .equ SIEVE_OFF,   0x1000       # sieve bytes start here in the area
    .equ WORDS,       1024         # array length in words
    .equ SIEVE_N,     8192         # sieve limit

    # Sv32 leaf PTE bits: V R W X (U=0) A D.  A and D are preset so the
    # mapping works whether or not the MMU updates them itself.
    .equ PTE_KERNEL_RWX, 0xcf
    .equ PTE_KERNEL_RW,  0xc7
    .equ SATP_SV32,      0x80000000

_start:
    mv      s0, a0                 # s0 = hart id
    call    set_stack
    la      t0, boot_hart
    sw      s0, 0(t0)

    call    probe_ipi              # can the finishing harts wake us with an IPI?
    # Paging on?  Then build the megapage identity map before any other hart
    # starts, so they can all share it.
    la      t0, use_paging
    lw      t0, 0(t0)
    beqz    t0, 1f
    call    build_page_table
    call    paging_on
1:
    # Start the other harts: s1 = harts running.
    call    start_harts
    mv      s1, a0
    la      t0, nharts
    sw      s1, 0(t0)

    # Header line, printed while the other harts are already computing.
    la      a0, msg_head
    call    puts
    mv      a0, s1
    call    put_dec
    la      a0, msg_paging_off
    la      t0, use_paging
    lw      t0, 0(t0)
    beqz    t0, 2f
    la      a0, msg_paging_on
2:
    call    puts
    la      t0, iterations
    lw      a0, 0(t0)
    call    put_dec
    la      a0, msg_iters
    call    puts

    call    run_and_publish

    call    wait_harts             # then results[] are read after done_count

    # s3 = our checksum; s4 = 1 while every published result matches it.
    la      t0, results
    slli    t1, s0, 2
    add     t0, t0, t1
    lw      s3, 0(t0)
    li      s4, 1
    la      t0, valid_mask
    lw      t2, 0(t0)              # bit i set: hart i published results[i]
    la      t3, results
    li      t4, 0
4:
    srl     t5, t2, t4
    andi    t5, t5, 1
    beqz    t5, 5f
    slli    t5, t4, 2
    add     t5, t3, t5
    lw      t5, 0(t5)
    beq     t5, s3, 5f
    li      s4, 0
5:
    addi    t4, t4, 1
    li      t5, MAX_HARTS
    bltu    t4, t5, 4b

    la      a0, msg_sum
    call    puts
    mv      a0, s3
    call    put_hex
    la      a0, msg_crlf
    call    puts
    la      a0, msg_fail
    li      a1, 1
    beqz    s4, 6f
    la      a0, msg_pass
    li      a1, 0
6:
    mv      s5, a1
    call    puts
    mv      a0, s5
    j       shutdown

# A hart started by hart_start: a0 = hart id.  Shares the boot hart's page
# table when paging is on, runs, publishes, and stops.
secondary_entry:
    mv      s0, a0
    call    set_stack
    la      t0, use_paging
    lw      t0, 0(t0)
    beqz    t0, 1f
    call    paging_on
1:
    call    run_and_publish
    j       stop_hart              # wakes the boot hart, then hart_stop

# run_and_publish(s0 = hart id): run the workload on this hart's area, store
# the checksum in results[hartid], set our valid_mask bit, then count
# ourselves done.  The .aqrl on done_count orders the two stores before it.
run_and_publish:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    call    hart_area
    call    workload
    la      t0, results
    slli    t1, s0, 2
    add     t0, t0, t1
    sw      a0, 0(t0)
    li      t1, 1
    sll     t1, t1, s0
    la      t0, valid_mask
    amoor.w zero, t1, (t0)
    la      t0, done_count
    li      t1, 1
    amoadd.w.aqrl zero, t1, (t0)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# hart_area(s0 = hart id) -> a0 = start of this hart's 16 KiB area.
hart_area:
    la      a0, image_end
    li      t0, 4096               # skip the page-table page
    add     a0, a0, t0
    li      t0, HART_AREA
    mul     t0, t0, s0
    add     a0, a0, t0
    ret

# set_stack(s0 = hart id): sp = top of this hart's area (the stack is its
# last 4 KiB).
set_stack:
    mv      t2, ra
    call    hart_area
    li      t0, HART_AREA
    add     sp, a0, t0
    mv      ra, t2
    ret

# ---------------------------------------------------------------------------
# workload(a0 = area) -> a0 = checksum.  Saves and restores s0..s8.
#   s0 = array, s1 = sieve, s2 = iterations, s3 = LCG state, s4 = checksum,
#   s5 = iteration number, s6 = crc, s7 = primes, s8 = mix.
workload:
    addi    sp, sp, -48
    sw      ra, 44(sp)
    sw      s0, 40(sp)
    sw      s1, 36(sp)
    sw      s2, 32(sp)
    sw      s3, 28(sp)
    sw      s4, 24(sp)
    sw      s5, 20(sp)
    sw      s6, 16(sp)
    sw      s7, 12(sp)
    sw      s8, 8(sp)
    mv      s0, a0
    li      t0, SIEVE_OFF
    add     s1, s0, t0
    la      t0, iterations
    lw      s2, 0(t0)
    li      s3, 0x12345678
    li      s4, 0
    li      s5, 0

iter_loop:
    bgeu    s5, s2, iter_done

    # 1. Fill: x = x * 1664525 + 1013904223, a[i] = x.
    li      t0, 1664525
    li      t1, 1013904223
    mv      t2, s0
    li      t3, WORDS
fill_loop:
    mul     s3, s3, t0
    add     s3, s3, t1
    sw      s3, 0(t2)
    addi    t2, t2, 4
    addi    t3, t3, -1
    bnez    t3, fill_loop

    # 2. CRC-32 over the array's bytes, one bit per inner step:
    #    crc = (crc >> 1) ^ (POLY & -(crc & 1)).
    li      a0, -1
    li      t0, 0xedb88320
    mv      t2, s0
    li      t3, WORDS * 4
crc_byte:
    lbu     t4, 0(t2)
    xor     a0, a0, t4
    li      t5, 8
crc_bit:
    andi    t6, a0, 1
    neg     t6, t6
    and     t6, t6, t0
    srli    a0, a0, 1
    xor     a0, a0, t6
    addi    t5, t5, -1
    bnez    t5, crc_bit
    addi    t2, t2, 1
    addi    t3, t3, -1
    bnez    t3, crc_byte
    not     s6, a0

    # 3. Sieve: flags[0..N) = 1, then cross out multiples of each prime p
    #    from p*p; count the primes.
    li      t0, SIEVE_N
    mv      t2, s1
    add     t3, s1, t0
    li      t1, 1
sieve_clear:
    sb      t1, 0(t2)
    addi    t2, t2, 1
    bne     t2, t3, sieve_clear
    li      s7, 0
    li      t2, 2                  # p
sieve_loop:
    bgeu    t2, t0, sieve_done
    add     t3, s1, t2
    lbu     t4, 0(t3)
    beqz    t4, sieve_next
    addi    s7, s7, 1
    mul     t5, t2, t2             # m = p * p
    bgeu    t5, t0, sieve_next
sieve_mark:
    add     t3, s1, t5
    sb      zero, 0(t3)
    add     t5, t5, t2
    bltu    t5, t0, sieve_mark
sieve_next:
    addi    t2, t2, 1
    j       sieve_loop
sieve_done:

    # 4. Division and high-multiply mix over the array; i = t2, v = t4.
    li      s8, 0
    li      t2, 0
    mv      t3, s0
    li      a1, 0x9e3779b9
mix_loop:
    lw      t4, 0(t3)
    addi    t5, t2, 1
    divu    t6, t4, t5             # v / (i + 1)
    add     s8, s8, t6
    addi    t5, t2, 3
    remu    t6, t4, t5             # v % (i + 3)
    xor     s8, s8, t6
    andi    t5, t2, 15
    addi    t5, t5, -8             # -8..7: divides by 0 when i % 16 == 8
    div     t6, t4, t5
    add     s8, s8, t6
    andi    t5, t2, 7
    addi    t5, t5, -4             # -4..3: 0 when i % 8 == 4
    rem     t6, t4, t5
    xor     s8, s8, t6
    mulh    t6, t4, s8
    add     s8, s8, t6
    mul     t5, t2, a1
    mulhu   t6, t4, t5
    xor     s8, s8, t6
    mulhsu  t6, s8, t4
    add     s8, s8, t6
    addi    t3, t3, 4
    addi    t2, t2, 1
    li      t5, WORDS
    bne     t2, t5, mix_loop

    # 5. Corner cases of the M extension, then fold everything into the
    #    checksum.  t6 = corners.
    li      t4, 0x80000000
    li      t5, -1
    div     t6, t4, t5             # INT_MIN / -1 = INT_MIN
    rem     a2, t4, t5             # INT_MIN % -1 = 0
    xor     t6, t6, a2
    divu    a2, s3, zero           # x / 0 = 0xffffffff
    add     t6, t6, a2
    remu    a2, s3, zero           # x % 0 = x
    xor     t6, t6, a2
    div     a2, s3, zero           # -1
    li      a3, 3
    mul     a2, a2, a3
    add     t6, t6, a2
    rem     a2, s3, zero           # x
    slli    a2, a2, 1
    xor     t6, t6, a2

    slli    t4, s4, 5              # rotl(checksum, 5)
    srli    t5, s4, 27
    or      s4, t4, t5
    xor     s4, s4, s6
    xor     s4, s4, s7
    xor     s4, s4, s8
    xor     s4, s4, t6
    addi    s5, s5, 1
    j       iter_loop

iter_done:
    mv      a0, s4
    lw      ra, 44(sp)
    lw      s0, 40(sp)
    lw      s1, 36(sp)
    lw      s2, 32(sp)
    lw      s3, 28(sp)
    lw      s4, 24(sp)
    lw      s5, 20(sp)
    lw      s6, 16(sp)
    lw      s7, 12(sp)
    lw      s8, 8(sp)
    addi    sp, sp, 48
    ret

# ---------------------------------------------------------------------------
# build_page_table: the Sv32 root table in the page at image_end, all leaf
# megapage entries (no second-level tables):
#   the 4 MiB region holding the image -> itself (RWX), the next 4 MiB
#   region -> itself (RWX, in case the harts' areas spill over), and the
#   4 MiB region of the UART -> itself (RW).  The satp value is kept in
#   satp_value for the other harts.
build_page_table:
    la      a0, image_end          # root table
    li      t0, 1024
    mv      t1, a0
1:
    sw      zero, 0(t1)            # zero all 1024 entries first
    addi    t1, t1, 4
    addi    t0, t0, -1
    bnez    t0, 1b

    la      t0, _start             # where the image runs, physically
    srli    t0, t0, 22             # its VPN[1] = its megapage number
    li      t3, PTE_KERNEL_RWX
    li      t4, 2                  # two consecutive megapages
2:
    slli    t1, t0, 2
    add     t1, a0, t1             # &root[vpn1]
    slli    t2, t0, 20             # PPN = megapage number << 10, at PTE bit 10
    or      t2, t2, t3
    sw      t2, 0(t1)
    addi    t0, t0, 1
    addi    t4, t4, -1
    bnez    t4, 2b

    li      t0, UART_BASE
    srli    t0, t0, 22
    slli    t1, t0, 2
    add     t1, a0, t1
    slli    t2, t0, 20
    ori     t2, t2, PTE_KERNEL_RW
    sw      t2, 0(t1)

    srli    t0, a0, 12             # satp = MODE_SV32 | root PPN
    li      t1, SATP_SV32
    or      t0, t0, t1
    la      t1, satp_value
    sw      t0, 0(t1)
    ret

# paging_on: load satp from satp_value and flush this hart's TLB.  The
# identity map means the next instruction fetch finds the same bytes.
paging_on:
    la      t0, satp_value
    lw      t0, 0(t0)
    sfence.vma zero, zero          # page-table stores before the walk
    csrw    satp, t0
    sfence.vma zero, zero
    ret

    .include "lib/shutdown.S"
    .include "lib/start-harts.S"
    .include "lib/join.S"

# --- console (boot hart only, so no lock) -----------------------------------
    .include "lib/putc.S"
    .include "lib/puts.S"
    .include "lib/put-dec.S"
    .include "lib/put-hex.S"

# --- read-only data ---------------------------------------------------------
msg_head:       .asciz "compute: "
msg_paging_off: .asciz " hart(s), paging off, "
msg_paging_on:  .asciz " hart(s), paging on (Sv32, 4 MiB megapages), "
msg_iters:      .asciz " iteration(s) per hart\r\n"
msg_sum:        .asciz "compute: checksum "   # put_hex adds the 0x
msg_crlf:       .asciz "\r\n"
msg_pass:       .asciz "compute: all harts agree, PASS\r\n"
msg_fail:       .asciz "compute: harts disagree, FAIL\r\n"

# --- parameters the host may patch (by symbol), then written data, on a page
# of their own so the code page is never written.
    .balign 4096, 0
    .globl iterations
    .globl use_paging
iterations:   .word 20             # loop count per hart
use_paging:   .word 0              # 0: satp bare; 1: Sv32 megapage identity map
satp_value:   .word 0
have_ipi:     .word 0              # SBI IPI extension present
nharts:       .word 0
done_count:   .word 0
valid_mask:   .word 0
boot_hart:    .word 0
results:      .space 4 * MAX_HARTS

# The end of the image, page aligned: page table and hart areas follow.
    .balign 4096, 0
image_end:
