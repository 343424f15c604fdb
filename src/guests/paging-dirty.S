# paging-dirty.S - the dirty.S workload with Sv32 on: 4 KiB pages and megapages.
#
# What it demonstrates
#   The same dirty_log_perf_test-style loop as dirty.S (every vCPU writes
#   the iteration number into the pages of its own region, pass after pass),
#   but the guest runs with Sv32 paging, and each region is mapped half with
#   4 KiB pages and half with a 4 MiB megapage.  So both kinds of shadow
#   page appear:
#   * the guest's level-0 tables (the kernel's identity map, the 4 KiB half
#     of each region) are shadowed by *indirect* shadow pages, which KVM
#     write-protects; a dirty-log write fault there is never fixed by the
#     fast page fault (it only takes direct shadow pages);
#   * each megapage is shadowed by 4 KiB SPTEs in a *direct* shadow page
#     (the guest has no level-0 table to follow), where the fast page fault
#     may set the W bit with a cmpxchg, without mmu_lock.
#
# What it does
#   1. The boot hart checks the parameters, builds the page tables (paging
#      still off) for all 8 possible harts, turns Sv32 on, and starts harts
#      1..7 with SBI HSM hart_start until SBI_ERR_INVALID_PARAM; each new
#      hart loads the same satp before running.
#   2. Every hart fills in region_base[h], region_pages[h] and region_va[h],
#      prints "paging-dirty: hart H region 0x........, P pages", and runs the
#      passes exactly as in dirty.S (see there for the patterns), through its
#      region's virtual addresses, publishing iterations_done[h] with a
#      release store after each pass.
#   3. After max_iterations passes every hart is counted in done_count; the
#      boot hart checks every page (through the mappings) and prints
#        paging-dirty: N vCPUs, P pages each, I iterations, pattern NAME
#        paging-dirty: every page checked against its hart's iterations_done, PASS
#      and powers off with SBI SRST (reason 0 on PASS, 1 on FAIL or bad
#      parameters).
#
# Patchable words (globals, in the data page; patch before the guest starts):
#   pages_per_vcpu  working-set pages per hart (default 256; even, 2..1024)
#   pattern         0 sequential (default), 1 random, 2 hot/cold
#   max_iterations  passes before the summary (default 3; 0 = run forever)
#
# Memory layout (guest physical; the host-side torture checker relies on it)
#   image         code and messages, a page-aligned data page, image_end.
#   image_end     8 stacks of 4 KiB (hart h's at image_end + 4096*h), then
#                 the page-table pool, 16 pages from image_end + 0x8000 (the
#                 root table first, then level-0 tables as needed).
#   K             = image_end + 0x18000, the end of the kernel area; the
#                 kernel maps [image start, K) and the UART page by identity
#                 with 4 KiB pages.
#   regions       with P = pages_per_vcpu, H = P/2 * 4096 (the 4 KiB half),
#                 M0 = (K + H) rounded up to 4 MiB and Mh = M0 + h * 4 MiB:
#                 hart h owns the P physically contiguous pages
#                 [Mh - H, Mh + H).  Pages 0..P/2-1, [Mh - H, Mh), are mapped
#                 with 4 KiB PTEs; pages P/2..P-1, [Mh, Mh + H), through the
#                 megapage VA -> Mh.  Virtual addresses: Vh = 0x4040_0000 +
#                 h * 8 MiB (the megapage), the region at [Vh - H, Vh + H), so
#                 page i is at VA region_va[h] + 4096*i and PA
#                 region_base[h] + 4096*i.  The regions are disjoint:
#                 2H <= 4 MiB (P <= 1024), so hart h's megapage half
#                 [Mh, Mh + H) ends below hart h+1's 4 KiB half
#                 [Mh + 4 MiB - H, Mh + 4 MiB).  Hart h's megapage does
#                 span that 4 KiB half, but hart h never touches it.
#   Exported words (all globals, 8 entries each, index = hart id):
#     region_base[h]      guest physical address of page 0 of hart h's region
#                         (0 until hart h has started); page i at +4096*i.
#     region_pages[h]     pages in hart h's region (= pages_per_vcpu).
#     region_va[h]        the guest virtual address of page 0.
#     iterations_done[h]  the last pass hart h completed (0 before the first).
#   Contents: as in dirty.S, word 0 of each page is 0 until first written,
#   then the iteration of the latest pass that wrote it; nothing else in the
#   page is written.  A page written since the last dirty-log collection
#   holds iterations_done[h] + 1 (the pass in progress) or iterations_done[h].
#
# Boot contract: S-mode, paging off, a0 = hart id, a1 = 0.  Position
# independent: every physical address derives from where the image runs.
# Needs RAM up to M0 + (nharts - 1) * 4 MiB + H: 16.5 MiB for 4 harts at the
# default size when linked at 0x8000_0000 (the default 64 MiB is plenty).

    .option norvc
    .text
    .globl _start

    .equ UART_BASE,   0x10000000
    .equ UART_THR,    0
    .equ UART_LSR,    5
    .equ LSR_THRE,    0x20

    .equ SBI_EXT_BASE,       0x10
    .equ SBI_BASE_PROBE_EXT, 3
    .equ SBI_EXT_IPI,        0x735049      # "sPI"
    .equ SBI_IPI_SEND,       0
    .equ SBI_EXT_HSM,        0x48534d      # "HSM"
    .equ SBI_HSM_HART_START, 0
    .equ SBI_HSM_HART_STOP,  1
    .equ SBI_EXT_SRST,       0x53525354    # "SRST"
    .equ SBI_EXT_LEGACY_SHUTDOWN, 0x08
    .equ SBI_ERR_INVALID_PARAM, -3
    .equ SIE_SSIE,    0x2
    .equ SIP_SSIP,    0x2

    .equ MAX_HARTS,   8
    .equ STACK_SIZE,  4096
    .equ STACKS_SIZE, 0x8000       # MAX_HARTS stacks
    .equ PAGE_SHIFT,  12
    .equ MAX_PATTERN, 2
    .equ MAX_PAGES,   1024         # both halves of a region within 4 MiB
    .equ PT_POOL,     0x8000       # page tables start at image_end + PT_POOL ...
    .equ KERN_AREA,   0x18000      # ... and end at image_end + KERN_AREA
    .equ MEGA,        0x400000     # 4 MiB
    .equ REGION_VA,   0x40400000   # hart 0's megapage VA
    .equ HART_VA_STRIDE, 0x800000  # 8 MiB: a level-0 window + a megapage each

# --- Sv32 --------------------------------------------------------------------
    # Leaves preset A and D, so the tables work whether the MMU updates A/D
    # itself or raises a page fault to have software do it.
    .equ PTE_V,          0x01
    .equ PTE_KERNEL_RWX, 0xcf      # V R W X A D
    .equ PTE_KERNEL_RW,  0xc7      # V R W A D
    .equ SATP_SV32,      0x80000000

_start:
    mv      s0, a0                 # s0 = this hart's id, for the whole run
    call    set_stack
    la      t0, boot_hart
    sw      s0, 0(t0)

    # Parameters: pages_per_vcpu even, 2..1024; pattern 0..2.
    la      t0, pages_per_vcpu
    lw      t1, 0(t0)
    beqz    t1, bad_params
    andi    t2, t1, 1
    bnez    t2, bad_params
    li      t2, MAX_PAGES
    bgtu    t1, t2, bad_params
    la      t0, pattern
    lw      t1, 0(t0)
    li      t2, MAX_PATTERN
    bgtu    t1, t2, bad_params

    # Can the finishing harts wake us with an IPI?  (BASE probe_extension.)
    li      a0, SBI_EXT_IPI
    li      a6, SBI_BASE_PROBE_EXT
    li      a7, SBI_EXT_BASE
    ecall
    bnez    a0, 1f                 # error: treat as absent
    la      t0, have_ipi
    sw      a1, 0(t0)              # nonzero when present
1:
    # Page tables for every possible hart, before any other hart starts, so
    # they all share one root table and never change it.
    call    build_tables
    call    paging_on
    la      a0, msg_on
    call    puts

    # Probe and start the other harts: s1 = harts running, s2 = id probed.
    li      s1, 1
    li      s2, 0
probe_loop:
    li      t0, MAX_HARTS
    bgeu    s2, t0, probe_done
    beq     s2, s0, probe_next
    mv      a0, s2                 # hartid
    la      a1, secondary_entry    # start_addr: physical = VA (identity map)
    li      a2, 0                  # opaque
    li      a6, SBI_HSM_HART_START
    li      a7, SBI_EXT_HSM
    ecall
    li      t0, SBI_ERR_INVALID_PARAM
    beq     a0, t0, probe_done     # past the last hart
    bnez    a0, probe_next         # e.g. already started: not ours to count
    addi    s1, s1, 1
probe_next:
    addi    s2, s2, 1
    j       probe_loop
probe_done:
    la      t0, nharts
    sw      s1, 0(t0)

    call    run_dirty

    # Wait until every hart is done (done_count == nharts): asleep in wfi if
    # the others can wake us with an IPI, else spinning.  SSIP is cleared
    # after each wake-up and before the next test, so an IPI that lands
    # between the test and wfi leaves SSIP pending and wfi returns.
    la      t0, have_ipi
    lw      t3, 0(t0)
    beqz    t3, 3f
    li      t0, SIE_SSIE
    csrs    sie, t0
3:
    la      t0, done_count
    lw      t2, 0(t0)
    la      t1, nharts
    lw      t1, 0(t1)
    beq     t2, t1, 4f
    beqz    t3, 3b                 # no IPI: spin
    wfi
    li      t0, SIP_SSIP
    csrc    sip, t0
    j       3b
4:
    li      t0, SIE_SSIE
    csrc    sie, t0
    fence   r, rw                  # pages and iterations_done after done_count

    call    check_regions
    mv      s4, a0                 # s4 = bad pages

    # "dirty: N vCPUs, P pages each, I iterations, pattern NAME"
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
    call    paging_on
    call    run_dirty
    # Wake the boot hart (it may be asleep in wfi waiting for us).
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
    la      t1, region_va
    add     t1, t1, t0
    sw      s1, 0(t1)
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
    mv      a0, s1
    call    put_hex
    la      a0, msg_hart5
    call    puts
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

# region_start(a0 = hart) -> a0 = VA, a1 = PA of page 0 of its region (see
# the layout in the header): H = pages_per_vcpu / 2 * 4096,
# M0 = roundup_4M(image_end + KERN_AREA + H), PA = M0 + hart * 4 MiB - H,
# VA = REGION_VA + hart * 8 MiB - H.  Clobbers t0..t3.
region_start:
    la      t0, pages_per_vcpu
    lw      t0, 0(t0)
    srli    t0, t0, 1
    slli    t0, t0, PAGE_SHIFT     # t0 = H
    la      t1, image_end
    li      t2, KERN_AREA
    add     t1, t1, t2
    add     t1, t1, t0
    li      t2, MEGA - 1
    add     t1, t1, t2
    not     t2, t2
    and     t1, t1, t2             # t1 = M0
    li      t2, MEGA
    mul     t2, t2, a0
    add     t1, t1, t2
    sub     a1, t1, t0             # PA
    li      t2, HART_VA_STRIDE
    mul     t2, t2, a0
    li      t3, REGION_VA
    add     t2, t2, t3
    sub     a0, t2, t0             # VA
    ret

# build_tables() (paging off, boot hart): the root table, the kernel's and
# the UART's identity maps with 4 KiB pages, and for each hart 0..7 its
# region: the first half with 4 KiB PTEs, the second half inside a megapage.
build_tables:
    addi    sp, sp, -32
    sw      ra, 28(sp)
    sw      s1, 24(sp)
    sw      s2, 20(sp)
    sw      s3, 16(sp)
    sw      s4, 12(sp)
    la      t0, image_end
    li      t1, PT_POOL
    add     t0, t0, t1
    la      t1, next_free
    sw      t0, 0(t1)
    call    alloc_page
    la      t0, root_pt
    sw      a0, 0(t0)

    # Kernel: [_start, image_end + KERN_AREA), VA = PA.
    la      s1, _start
    la      s2, image_end
    li      t0, KERN_AREA
    add     s2, s2, t0
1:
    mv      a0, s1
    mv      a1, s1
    li      a2, PTE_KERNEL_RWX
    call    map_page
    li      t0, 4096
    add     s1, s1, t0
    bltu    s1, s2, 1b
    li      a0, UART_BASE
    li      a1, UART_BASE
    li      a2, PTE_KERNEL_RW
    call    map_page

    # Regions: s1 = hart, s2 = VA, s3 = PA, s4 = 4 KiB pages left.
    li      s1, 0
2:
    mv      a0, s1
    call    region_start
    mv      s2, a0
    mv      s3, a1
    la      t0, pages_per_vcpu
    lw      s4, 0(t0)
    srli    s4, s4, 1
3:
    mv      a0, s2
    mv      a1, s3
    li      a2, PTE_KERNEL_RW
    call    map_page
    li      t0, 4096
    add     s2, s2, t0
    add     s3, s3, t0
    addi    s4, s4, -1
    bnez    s4, 3b
    # Now s2 = the megapage VA (4 MiB aligned), s3 = its frame Mh: a leaf in
    # the root table.
    la      t0, root_pt
    lw      t0, 0(t0)
    srli    t1, s2, 22
    slli    t1, t1, 2
    add     t0, t0, t1
    srli    t1, s3, 12
    slli    t1, t1, 10
    ori     t1, t1, PTE_KERNEL_RW
    sw      t1, 0(t0)
    addi    s1, s1, 1
    li      t0, MAX_HARTS
    bltu    s1, t0, 2b

    lw      s4, 12(sp)
    lw      s3, 16(sp)
    lw      s2, 20(sp)
    lw      s1, 24(sp)
    lw      ra, 28(sp)
    addi    sp, sp, 32
    ret

# paging_on(): satp = Sv32 with the shared root table.  The code runs
# through the identity map, so execution continues at the next instruction.
paging_on:
    la      t0, root_pt
    lw      t0, 0(t0)
    srli    t0, t0, 12
    li      t1, SATP_SV32
    or      t0, t0, t1
    sfence.vma
    csrw    satp, t0
    sfence.vma
    ret

# alloc_page() -> a0 = a zeroed 4 KiB frame from the page-table pool.
# Running out of the pool is a bug in this file: FAIL.
alloc_page:
    la      t0, next_free
    lw      a0, 0(t0)
    li      t1, 4096
    add     t2, a0, t1
    la      t3, image_end
    li      t4, KERN_AREA
    add     t3, t3, t4
    bgtu    t2, t3, 2f
    sw      t2, 0(t0)
    mv      t3, a0
1:
    sw      zero, 0(t3)
    addi    t3, t3, 4
    bne     t3, t2, 1b
    ret
2:
    la      a0, msg_oom
    call    puts
    li      a0, 1
    j       shutdown

# map_page(a0 = va, a1 = pa, a2 = leaf flags): a 4 KiB mapping, creating the
# level-0 table on first use.  Paging is off while it runs.
map_page:
    addi    sp, sp, -32
    sw      ra, 28(sp)
    sw      s1, 24(sp)
    sw      s2, 20(sp)
    sw      s3, 16(sp)
    sw      s4, 12(sp)
    mv      s1, a0
    mv      s2, a1
    mv      s3, a2
    la      t0, root_pt
    lw      t0, 0(t0)
    srli    t1, s1, 22
    slli    t1, t1, 2
    add     s4, t0, t1             # s4 = &root[VPN1]
    lw      t1, 0(s4)
    andi    t2, t1, PTE_V
    bnez    t2, 1f
    call    alloc_page             # new level-0 table
    srli    t1, a0, 12
    slli    t1, t1, 10
    ori     t1, t1, PTE_V          # non-leaf: V only
    sw      t1, 0(s4)
1:
    srli    t1, t1, 10
    slli    t1, t1, 12             # level-0 table address
    srli    t2, s1, 12
    andi    t2, t2, 0x3ff
    slli    t2, t2, 2
    add     t1, t1, t2             # &table[VPN0]
    srli    t2, s2, 12
    slli    t2, t2, 10
    or      t2, t2, s3
    sw      t2, 0(t1)
    lw      s4, 12(sp)
    lw      s3, 16(sp)
    lw      s2, 20(sp)
    lw      s1, 24(sp)
    lw      ra, 28(sp)
    addi    sp, sp, 32
    ret

# check_regions() -> a0 = number of bad pages over all harts' regions, read
# through their virtual addresses (region_va): with
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
    la      t3, region_va
    add     t3, t3, t2
    lw      t3, 0(t3)              # t3 = page pointer (VA)
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

# shutdown(a0 = SRST reason): SBI system_reset(shutdown, reason).
shutdown:
    mv      a1, a0
    li      a0, 0                  # type: shutdown
    li      a6, 0                  # FID system_reset
    li      a7, SBI_EXT_SRST
    ecall
    li      a7, SBI_EXT_LEGACY_SHUTDOWN
    ecall
1:
    wfi
    j       1b

# set_stack(s0 = hartid): sp = top of this hart's 4 KiB stack after the image.
set_stack:
    la      sp, image_end
    addi    t0, s0, 1
    li      t1, STACK_SIZE
    mul     t0, t0, t1
    add     sp, sp, t0
    ret

# lock()/unlock(): the console spinlock (amoswap.w.aq takes it when it
# returns 0; spin on a plain load meanwhile).  Clobbers t0, t1.
lock:
    la      t0, console_lock
    li      t1, 1
1:
    amoswap.w.aq t1, t1, (t0)
    beqz    t1, 3f
2:
    lw      t1, 0(t0)
    bnez    t1, 2b
    li      t1, 1
    j       1b
3:
    ret

unlock:
    la      t0, console_lock
    amoswap.w.rl zero, zero, (t0)
    ret

# putc(a0 = byte): polled UART transmit.  Clobbers t0, t1.
putc:
    li      t0, UART_BASE
1:
    lbu     t1, UART_LSR(t0)
    andi    t1, t1, LSR_THRE
    beqz    t1, 1b
    sb      a0, UART_THR(t0)
    ret

# puts(a0 = NUL-terminated string).
puts:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s1, 8(sp)
    mv      s1, a0
1:
    lbu     a0, 0(s1)
    beqz    a0, 2f
    call    putc
    addi    s1, s1, 1
    j       1b
2:
    lw      s1, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# put_dec(a0 = unsigned value): decimal, no padding.
put_dec:
    addi    sp, sp, -32
    sw      ra, 28(sp)
    sw      s1, 24(sp)
    mv      s1, sp                 # s1 = write pointer into the buffer
    li      t2, 10
1:
    remu    t0, a0, t2
    divu    a0, a0, t2
    addi    t0, t0, '0'
    sb      t0, 0(s1)
    addi    s1, s1, 1
    bnez    a0, 1b
2:
    addi    s1, s1, -1
    lbu     a0, 0(s1)
    call    putc
    bne     s1, sp, 2b
    lw      s1, 24(sp)
    lw      ra, 28(sp)
    addi    sp, sp, 32
    ret

# put_hex(a0): "0x" and eight hex digits.
put_hex:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s1, 8(sp)
    sw      s2, 4(sp)
    mv      s1, a0
    li      a0, '0'
    call    putc
    li      a0, 'x'
    call    putc
    li      s2, 28
1:
    srl     a0, s1, s2
    andi    a0, a0, 15
    addi    a0, a0, '0'
    li      t0, '9'
    ble     a0, t0, 2f
    addi    a0, a0, 'a' - '9' - 1
2:
    call    putc
    addi    s2, s2, -4
    bgez    s2, 1b
    lw      s2, 4(sp)
    lw      s1, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# --- read-only data ---------------------------------------------------------
msg_hart:   .asciz "paging-dirty: hart "
msg_hart2:  .asciz " region "
msg_hart3:  .asciz ", "
msg_hart4:  .asciz " pages at VA "
msg_hart5:  .asciz ": half 4 KiB pages, half in a 4 MiB megapage\r\n"
msg_on:     .asciz "paging-dirty: Sv32 on: kernel identity-mapped with 4 KiB pages, regions half 4 KiB pages, half megapages\r\n"
msg_oom:    .asciz "paging-dirty: out of page-table pages\r\n"
msg_sum1:   .asciz "paging-dirty: "
msg_sum2:   .asciz " vCPUs, "
msg_sum3:   .asciz " pages each, "
msg_sum4:   .asciz " iterations, pattern "
msg_pat0:   .asciz "sequential"
msg_pat1:   .asciz "random"
msg_pat2:   .asciz "hot/cold"
msg_check:  .asciz "paging-dirty: every page checked against its hart's iterations_done, "
msg_pass:   .asciz "PASS\r\n"
msg_fail:   .asciz "FAIL\r\n"
msg_bad1:   .asciz "paging-dirty: bad parameters: pages_per_vcpu "
msg_bad2:   .asciz ", pattern "
msg_bad3:   .asciz " (need pages_per_vcpu even, 2..1024, pattern 0..2)\r\n"
msg_crlf:   .asciz "\r\n"

# --- shared, written data: its own page, so stores to it never touch the
# page holding the code (webkvm caches decoded instructions per page).
    .balign 4096, 0
    .globl pages_per_vcpu
    .globl pattern
    .globl max_iterations
    .globl nharts
    .globl region_base
    .globl region_pages
    .globl region_va
    .globl iterations_done
pages_per_vcpu:  .word 256         # working-set pages per hart; a host may patch it
pattern:         .word 0           # 0 sequential, 1 random, 2 hot/cold
max_iterations:  .word 3           # passes per hart; 0 = forever
nharts:          .word 0           # harts running, set by the boot hart
done_count:      .word 0           # harts finished
boot_hart:       .word 0
console_lock:    .word 0
have_ipi:        .word 0           # SBI IPI extension present
region_base:     .space 4 * MAX_HARTS   # guest physical start of hart h's region
region_pages:    .space 4 * MAX_HARTS   # pages in hart h's region
iterations_done: .space 4 * MAX_HARTS   # last pass hart h completed
region_va:       .space 4 * MAX_HARTS   # guest virtual start of hart h's region
root_pt:         .word 0           # physical address of the root table
next_free:       .word 0           # page-table pool bump pointer

# The end of the image, page aligned: the per-hart stacks start here, then
# the page-table pool (see the layout in the header).
    .balign 4096, 0
image_end:
