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

    .include "lib/uart.S"
    .include "lib/sbi.S"

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

# The workload itself (_start first) is dirty.S's; DIRTY_SV32 adds the Sv32
# steps (build_tables, paging_on, region_va), see lib/dirty-core.S.
    .equ DIRTY_SV32,  1
    .include "lib/dirty-core.S"

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

    .include "lib/map-page.S"

# --- read-only data (the rest is in lib/dirty-core.S) ------------------------
msg_hart:   .asciz "paging-dirty: hart "
msg_hart4:  .asciz " pages at VA "
msg_hart5:  .asciz ": half 4 KiB pages, half in a 4 MiB megapage\r\n"
msg_on:     .asciz "paging-dirty: Sv32 on: kernel identity-mapped with 4 KiB pages, regions half 4 KiB pages, half megapages\r\n"
msg_oom:    .asciz "paging-dirty: out of page-table pages\r\n"
msg_sum1:   .asciz "paging-dirty: "
msg_check:  .asciz "paging-dirty: every page checked against its hart's iterations_done, "
msg_bad1:   .asciz "paging-dirty: bad parameters: pages_per_vcpu "
msg_bad3:   .asciz " (need pages_per_vcpu even, 2..1024, pattern 0..2)\r\n"

# --- shared, written data: its own page, so stores to it never touch the
# page holding the code (webkvm caches decoded instructions per page).
    .balign 4096, 0
    .globl pages_per_vcpu
    .globl pattern
    .globl max_iterations
    .globl region_va
pages_per_vcpu:  .word 256         # working-set pages per hart; a host may patch it
pattern:         .word 0           # 0 sequential, 1 random, 2 hot/cold
max_iterations:  .word 3           # passes per hart; 0 = forever
    .include "lib/dirty-data.S"
region_va:       .space 4 * MAX_HARTS   # guest virtual start of hart h's region
root_pt:         .word 0           # physical address of the root table
next_free:       .word 0           # page-table pool bump pointer

# The end of the image, page aligned: the per-hart stacks start here, then
# the page-table pool (see the layout in the header).
    .balign 4096, 0
image_end:
