# dirty.S - every vCPU dirties its own pages again and again (dirty logging).
#
# What it demonstrates
#   The workload of KVM's dirty_log_perf_test / dirty_log_test: each vCPU
#   owns a region of guest memory and writes it over and over, tagging every
#   page it touches with the number of the pass ("iteration").  With dirty
#   logging on, each first store to a page after a collection is a write
#   fault on a write-protected SPTE, fixed by the fast page fault (no
#   mmu_lock) and recorded in the dirty bitmap; a host collector can compare
#   the pages it finds dirty with the iteration each vCPU has published.
#   Paging is off, so all of guest RAM is mapped by direct shadow pages.
#
# What it does
#   1. The boot hart checks the parameters, then starts harts 1..7 with SBI
#      HSM hart_start until the hypervisor answers SBI_ERR_INVALID_PARAM (no
#      such hart), and counts them in `nharts`.
#   2. Every hart fills in region_base[h] and region_pages[h], prints
#      "dirty: hart H region 0x........, P pages" (under an AMO spinlock), and
#      runs passes iteration = 1, 2, 3, ...: in each pass it stores the
#      iteration number into the first word of pages of its region, in the
#      order `pattern` chooses:
#        0 sequential: every page once, page 0 first;
#        1 random:     pages_per_vcpu stores, each to a page drawn from a
#                      per-hart xorshift32 generator (pages may be hit twice
#                      or not at all in a pass);
#        2 hot/cold:   pages_per_vcpu stores, 9 in 10 into the first
#                      max(1, pages_per_vcpu / 10) pages (hot), the rest
#                      into the other pages (cold), both drawn as for 1.
#      After each pass it publishes the iteration in iterations_done[h] with
#      a release store (amoswap.w.rl), so all of that pass's page stores are
#      visible before the new value.
#   3. After max_iterations passes (never, if it is 0) a hart counts itself
#      in done_count; the others wake the boot hart with an SBI IPI and stop
#      (HSM hart_stop).  The boot hart, once every hart is done, reads every
#      page of every region: with pattern 0 each must hold exactly its
#      hart's iterations_done, otherwise a value <= it.  It prints
#        dirty: N vCPUs, P pages each, I iterations, pattern NAME
#        dirty: every page checked against its hart's iterations_done, PASS
#      (or "..., FAIL") and powers off with SBI SRST (reason 0 on PASS, 1 on
#      FAIL or bad parameters).
#
# Patchable words (globals, in the data page; a host may change them in
# guest memory before the guest starts):
#   pages_per_vcpu  working-set pages per hart (default 256, >= 1)
#   pattern         0 sequential (default), 1 random, 2 hot/cold
#   max_iterations  passes before the summary (default 3; 0 = run forever)
#
# Memory layout (guest physical; the host-side torture checker relies on it)
#   image         code and messages, then one page-aligned data page holding
#                 the words below, then image_end (page aligned).
#   image_end     8 stacks of 4 KiB, hart h's at [image_end + 4096*h,
#                 image_end + 4096*(h+1)).
#   regions       from R = image_end + 0x8000: hart h owns the pages
#                 [R + h*P*4096, R + (h+1)*P*4096), P = pages_per_vcpu;
#                 disjoint, page aligned, nothing else lives there.
#   Exported words (all globals, 8 entries each, index = hart id):
#     region_base[h]      guest physical address of page 0 of hart h's
#                         region; 0 until hart h has started.  Page i is at
#                         region_base[h] + 4096*i, i < region_pages[h].
#     region_pages[h]     pages in hart h's region (= pages_per_vcpu).
#     iterations_done[h]  the last pass hart h completed (0 before the first).
#   Contents: word 0 of each page is 0 until the hart first writes it, then
#   the iteration of the latest pass that wrote it; the rest of the page is
#   never written.  While hart h runs pass iterations_done[h] + 1, every page
#   it has written holds iterations_done[h] + 1 or an earlier iteration, and
#   a page written since the last dirty-log collection holds the current
#   iteration (iterations_done[h] + 1) or the previous one
#   (iterations_done[h]).
#
# Boot contract: S-mode, paging off, a0 = hart id, a1 = 0.  Position
# independent: all addresses derive from where the image runs.  Needs RAM
# up to R + nharts * P * 4096 (about 4 MiB + 64 KiB for 4 harts by default).

    .option norvc
    .text
    .globl _start

    .include "lib/uart.S"
    .include "lib/sbi.S"

# The workload itself (_start first) is shared with paging-dirty.S.
    .equ DIRTY_SV32,  0            # paging off
    .include "lib/dirty-core.S"

# region_start(a0 = hart) -> a0 = a1 = image_end + STACKS_SIZE
#   + hart * pages_per_vcpu * 4096 (paging is off: VA = PA).  Clobbers t0, t1.
region_start:
    la      t0, pages_per_vcpu
    lw      t0, 0(t0)
    mul     t0, t0, a0
    slli    t0, t0, PAGE_SHIFT
    la      a0, image_end
    li      t1, STACKS_SIZE
    add     a0, a0, t1
    add     a0, a0, t0
    mv      a1, a0
    ret

# --- read-only data (the rest is in lib/dirty-core.S) ------------------------
msg_hart:   .asciz "dirty: hart "
msg_hart4:  .asciz " pages\r\n"
msg_sum1:   .asciz "dirty: "
msg_check:  .asciz "dirty: every page checked against its hart's iterations_done, "
msg_bad1:   .asciz "dirty: bad parameters: pages_per_vcpu "
msg_bad3:   .asciz " (need pages_per_vcpu >= 1, pattern 0..2)\r\n"

# --- shared, written data: its own page, so stores to it never touch the
# page holding the code (webkvm caches decoded instructions per page).
    .balign 4096, 0
    .globl pages_per_vcpu
    .globl pattern
    .globl max_iterations
pages_per_vcpu:  .word 256         # working-set pages per hart; a host may patch it
pattern:         .word 0           # 0 sequential, 1 random, 2 hot/cold
max_iterations:  .word 3           # passes per hart; 0 = forever
    .include "lib/dirty-data.S"

# The end of the image, page aligned: the per-hart stacks start here, then
# the regions.
    .balign 4096, 0
image_end:
