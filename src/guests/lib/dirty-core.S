# lib/dirty-core.S - the dirty-logging workload of dirty.S and paging-dirty.S:
# boot (parameter check, IPI probe, HSM bring-up of harts 1..7), the passes
# every hart runs over its region, and the boot hart's final check and
# summary.  Each guest's header says what the workload does; this file is
# its body, included first in the guest's .text (it starts with _start).
#
# DIRTY_SV32 (0 or 1, set by the includer before the .include) selects the
# few Sv32 steps of paging-dirty.S: the stricter pages_per_vcpu check
# (even, <= MAX_PAGES), build_tables + paging_on + msg_on on the boot hart,
# paging_on on the others, and region_va (written, printed, and read back
# by check_regions).
#
# The core includes the lib/ routines it calls (shutdown, start_harts,
# probe_ipi, wait_harts, stop_hart, set_stack, lock/unlock, putc, puts,
# put_dec, put_hex), after its own code; the includer may call them too,
# and includes lib/uart.S and lib/sbi.S (constants) before the core.
#
# The includer provides:
#   region_start(a0 = hart) -> a0 = VA, a1 = PA of page 0 of its region
#   build_tables, paging_on, MAX_PAGES, msg_on, msg_hart5 (Sv32 only)
#   the messages that name the guest: msg_hart, msg_hart4, msg_sum1,
#   msg_check, msg_bad1, msg_bad3
#   the data page: pages_per_vcpu, pattern, max_iterations (patchable, so
#   they stay in the guest's own file), then lib/dirty-data.S, and region_va
#   (Sv32); image_end after it, page aligned.

    .equ MAX_HARTS,   8
    .equ STACK_SIZE,  4096
    .equ STACKS_SIZE, 0x8000       # MAX_HARTS stacks
    .equ PAGE_SHIFT,  12
    .equ MAX_PATTERN, 2

_start:
    mv      s0, a0                 # s0 = this hart's id, for the whole run
    call    set_stack
    la      t0, boot_hart
    sw      s0, 0(t0)

    # Parameters: pages_per_vcpu >= 1 (Sv32: even, 2..MAX_PAGES), pattern 0..2.
    la      t0, pages_per_vcpu
    lw      t1, 0(t0)
    beqz    t1, bad_params
  .if DIRTY_SV32
    andi    t2, t1, 1
    bnez    t2, bad_params
    li      t2, MAX_PAGES
    bgtu    t1, t2, bad_params
  .endif
    la      t0, pattern
    lw      t1, 0(t0)
    li      t2, MAX_PATTERN
    bgtu    t1, t2, bad_params

    call    probe_ipi              # can the finishing harts wake us with an IPI?
  .if DIRTY_SV32
    # Page tables for every possible hart, before any other hart starts, so
    # they all share one root table and never change it.
    call    build_tables
    call    paging_on
    la      a0, msg_on
    call    puts
  .endif

    # Start the other harts: s1 = harts running.
    call    start_harts
    mv      s1, a0
    la      t0, nharts
    sw      s1, 0(t0)

    call    run_dirty

    call    wait_harts             # then pages and iterations_done after done_count

    call    check_regions
    mv      s4, a0                 # s4 = bad pages

    # "NAME: N vCPUs, P pages each, I iterations, pattern NAME"
    la      a0, msg_sum1
    call    puts
    la      t0, nharts
    lw      a0, 0(t0)
    call    put_dec
    la      a0, msg_sum2
    call    puts
    la      t0, pages_per_vcpu
    lw      a0, 0(t0)
    call    put_dec
    la      a0, msg_sum3
    call    puts
    la      t0, max_iterations
    lw      a0, 0(t0)
    call    put_dec
    la      a0, msg_sum4
    call    puts
    call    put_pattern
    la      a0, msg_crlf
    call    puts
    la      a0, msg_check
    call    puts
    la      a0, msg_pass
    li      s5, 0                  # SRST reason: none
    beqz    s4, 5f
    la      a0, msg_fail
    li      s5, 1                  # SRST reason: system failure
5:
    call    puts
    mv      a0, s5
    j       shutdown

bad_params:
    la      a0, msg_bad1
    call    puts
    la      t0, pages_per_vcpu
    lw      a0, 0(t0)
    call    put_dec
    la      a0, msg_bad2
    call    puts
    la      t0, pattern
    lw      a0, 0(t0)
    call    put_dec
    la      a0, msg_bad3
    call    puts
    li      a0, 1
    j       shutdown

# Entry of a hart started by hart_start: a0 = hartid, a1 = opaque.
secondary_entry:
    mv      s0, a0
    call    set_stack
  .if DIRTY_SV32
    call    paging_on
  .endif
    call    run_dirty
    j       stop_hart              # wakes the boot hart, then hart_stop

# run_dirty(s0 = hart id): publish the region, run the passes, and count
# this hart in done_count.  Returns only when max_iterations != 0.
# Registers for the loop: s1 = region start, s2 = pages, s3 = iteration,
# s4 = max_iterations, s5 = pattern, s6 = xorshift32 state, s7 = hot pages,
# s8 = cold pages, s9 = &iterations_done[h].
run_dirty:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    la      t0, pages_per_vcpu
    lw      s2, 0(t0)
    mv      a0, s0
    call    region_start           # a0 = VA, a1 = PA of hart s0's region
    mv      s1, a0
    slli    t0, s0, 2
    la      t1, region_pages
    add     t1, t1, t0
    sw      s2, 0(t1)
  .if DIRTY_SV32
    la      t1, region_va
    add     t1, t1, t0
    sw      s1, 0(t1)
  .endif
    la      t1, region_base
    add     t1, t1, t0
    sw      a1, 0(t1)
    la      s9, iterations_done
    add     s9, s9, t0

    call    lock
    la      a0, msg_hart
    call    puts
    mv      a0, s0
    call    put_dec
    la      a0, msg_hart2
    call    puts
    slli    t0, s0, 2
    la      t1, region_base
    add     t1, t1, t0
    lw      a0, 0(t1)
    call    put_hex
    la      a0, msg_hart3
    call    puts
    mv      a0, s2
    call    put_dec
    la      a0, msg_hart4
    call    puts
  .if DIRTY_SV32
    mv      a0, s1
    call    put_hex
    la      a0, msg_hart5
    call    puts
  .endif
    call    unlock

    la      t0, max_iterations
    lw      s4, 0(t0)
    la      t0, pattern
    lw      s5, 0(t0)
    # xorshift32 seed: (hart + 1) * golden ratio, never 0.
    addi    t0, s0, 1
    li      t1, 0x9e3779b9
    mul     s6, t0, t1
    # Hot pages: max(1, pages / 10); cold pages: the rest.
    li      t0, 10
    divu    s7, s2, t0
    bnez    s7, 1f
    li      s7, 1
1:
    sub     s8, s2, s7
    li      s3, 1
pass_loop:
    beqz    s5, pass_seq
    li      t0, 1
    beq     s5, t0, pass_random
    j       pass_hotcold

# Pattern 0: page 0, 1, ..., pages - 1.
pass_seq:
    mv      t0, s1
    mv      t1, s2
1:
    sw      s3, 0(t0)
    li      t2, 4096
    add     t0, t0, t2
    addi    t1, t1, -1
    bnez    t1, 1b
    j       pass_done

# Pattern 1: `pages` stores to pages drawn uniformly (xorshift32 % pages).
pass_random:
    mv      t1, s2
1:
    call    xorshift
    remu    t0, a0, s2
    slli    t0, t0, PAGE_SHIFT
    add     t0, t0, s1
    sw      s3, 0(t0)
    addi    t1, t1, -1
    bnez    t1, 1b
    j       pass_done

# Pattern 2: `pages` stores, 9 in 10 to the hot pages [0, s7), the others to
# the cold pages [s7, pages) (to the hot ones when there are no cold pages).
pass_hotcold:
    mv      t1, s2
1:
    call    xorshift
    li      t2, 10
    remu    t3, a0, t2             # t3 = 0..9: 0 picks a cold page
    call    xorshift
    beqz    s8, 2f
    bnez    t3, 2f
    remu    t0, a0, s8
    add     t0, t0, s7
    j       3f
2:
    remu    t0, a0, s7
3:
    slli    t0, t0, PAGE_SHIFT
    add     t0, t0, s1
    sw      s3, 0(t0)
    addi    t1, t1, -1
    bnez    t1, 1b
    # fall through

# Publish the pass: .rl orders this pass's page stores before it.
pass_done:
    amoswap.w.rl zero, s3, (s9)
    beqz    s4, 1f                 # max_iterations 0: forever
    beq     s3, s4, 2f
1:
    addi    s3, s3, 1
    j       pass_loop
2:
    la      t0, done_count
    li      t1, 1
    amoadd.w.aqrl zero, t1, (t0)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# xorshift(s6 = state) -> a0 = s6 = next state.  Clobbers t2 only.
xorshift:
    slli    t2, s6, 13
    xor     s6, s6, t2
    srli    t2, s6, 17
    xor     s6, s6, t2
    slli    t2, s6, 5
    xor     s6, s6, t2
    mv      a0, s6
    ret

# check_regions() -> a0 = number of bad pages over all harts' regions, read
# through the addresses the harts wrote them at (Sv32: region_va): with
# pattern 0 a page is bad unless it holds iterations_done[h]; with the
# others, if it holds more than iterations_done[h].
check_regions:
    li      a0, 0
    la      t6, pattern
    lw      t6, 0(t6)
    li      t0, 0                  # t0 = hart
    la      t1, nharts
    lw      t1, 0(t1)
1:
    bgeu    t0, t1, 9f
    slli    t2, t0, 2
  .if DIRTY_SV32
    la      t3, region_va
  .else
    la      t3, region_base
  .endif
    add     t3, t3, t2
    lw      t3, 0(t3)              # t3 = page pointer
    la      t4, region_pages
    add     t4, t4, t2
    lw      t4, 0(t4)              # t4 = pages left
    la      t5, iterations_done
    add     t5, t5, t2
    lw      t5, 0(t5)              # t5 = the hart's last pass
2:
    beqz    t4, 5f
    lw      t2, 0(t3)
    bnez    t6, 3f
    beq     t2, t5, 4f
    addi    a0, a0, 1
    j       4f
3:
    bleu    t2, t5, 4f
    addi    a0, a0, 1
4:
    li      t2, 4096
    add     t3, t3, t2
    addi    t4, t4, -1
    j       2b
5:
    addi    t0, t0, 1
    j       1b
9:
    ret

# put_pattern(): the name of `pattern`.  Tail-calls puts.
put_pattern:
    la      t0, pattern
    lw      t0, 0(t0)
    la      a0, msg_pat0
    beqz    t0, 1f
    la      a0, msg_pat1
    li      t1, 1
    beq     t0, t1, 1f
    la      a0, msg_pat2
1:
    j       puts

# --- the library routines the core calls (the includer may call them too) ---
    .include "lib/shutdown.S"
    .include "lib/start-harts.S"
    .include "lib/join.S"
    .include "lib/hart-stack.S"
    .include "lib/spinlock.S"
    .include "lib/putc.S"
    .include "lib/puts.S"
    .include "lib/put-dec.S"
    .include "lib/put-hex.S"

# --- read-only data shared by both guests (the includer has the lines that
# name it: msg_hart, msg_hart4, msg_sum1, msg_check, msg_bad1, msg_bad3).
msg_hart2:  .asciz " region "
msg_hart3:  .asciz ", "
msg_sum2:   .asciz " vCPUs, "
msg_sum3:   .asciz " pages each, "
msg_sum4:   .asciz " iterations, pattern "
msg_pat0:   .asciz "sequential"
msg_pat1:   .asciz "random"
msg_pat2:   .asciz "hot/cold"
msg_pass:   .asciz "PASS\r\n"
msg_fail:   .asciz "FAIL\r\n"
msg_bad2:   .asciz ", pattern "
msg_crlf:   .asciz "\r\n"
    .balign 4                      # the includer's code may follow
