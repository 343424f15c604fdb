# paging.S - a tiny S-mode kernel with Sv32 page tables and a U-mode process.
#
# What it demonstrates
#   Everything the shadow MMU has to get right for a real guest OS:
#   * two-level Sv32 tables built by the guest (4 KiB pages), which KVM
#     shadows with *indirect* shadow pages and write-protects, so the
#     kernel's later stores into its own page tables (on each demand fault)
#     become emulated writes;
#   * a 4 MiB megapage (shadowed with 4 KiB SPTEs in a direct shadow page),
#     plus a 4 KiB alias of one of its frames: one guest frame, two VAs;
#   * the U bit: a user page, a kernel-only page the user may not touch
#     (the fault must be delivered to the guest, not swallowed);
#   * sfence.vma after every change, and sstatus.SUM when the kernel reads
#     user memory for a system call;
#   * guest page faults (scause 13/15) and user ecalls (scause 8) arriving
#     in S-mode, as the hypervisor delegates them (medeleg), like OpenSBI.
#
# What it does
#   1. Builds the page tables (paging still off):
#        identity map of the 512 KiB from the image start, 4 KiB pages, RWX;
#        the UART page (0x1000_0000), identity, RW;
#        VA 0xc000_0000 -> the next 4 MiB-aligned RAM region, one megapage;
#        VA 0xd000_0000 -> the megapage's frame at +0x3000, a 4 KiB alias;
#        user code at VA 0x0040_0000 (U, R, X) and a user stack page below
#        VA 0x0080_0000 (U, R, W); VA 0x0060_0000-0x006f_ffff is the user's
#        demand-zero "heap", left unmapped.
#   2. Sets stvec, turns on Sv32 (satp + sfence.vma), checks the megapage
#      through the alias, and drops to U-mode with sret.
#   3. The user process: write() a line; fills the heap page 0x0060_0000
#      (store page fault -> the kernel maps a zeroed page); stores into
#      0x0060_2010 (another fault); loads from 0x0060_5020 (load fault, reads
#      0); tries to read the UART at 0x1000_0005, which is mapped but not
#      user-accessible (protection fault: the kernel skips the instruction,
#      standing in for a signal); write()s a second line; exit()s with the
#      sum of what it read back.
#   4. The kernel checks the exit status, the fault counts, and reads the
#      user's frames through its own identity map; prints a summary, PASS or
#      FAIL, and powers off with SBI SRST (reason 0 on PASS, 1 on FAIL).
#
# System calls (Linux RISC-V numbers): a7 = 64 write(a0 = buf, a1 = len),
# a7 = 93 exit(a0 = status).  Others return -38 (ENOSYS).
#
# Boot contract: S-mode, paging off, a0 = hart id, a1 = 0.  Single hart.
# Position independent: every physical address is derived from where the
# image runs, so the output is the same at 0x8000_0000 and 0x8040_0000.
# Needs RAM from the image start up to the next 4 MiB boundary past
# image + 512 KiB, plus 4 MiB (the megapage): 8 MiB when linked at 0x8000_0000.

    .option norvc
    .text
    .globl _start

# --- platform ----------------------------------------------------------------
    .include "lib/uart.S"
    .include "lib/sbi.S"

# --- Sv32 --------------------------------------------------------------------
    .equ PTE_V, 0x01
    .equ PTE_R, 0x02
    .equ PTE_W, 0x04
    .equ PTE_X, 0x08
    .equ PTE_U, 0x10
    .equ PTE_A, 0x40
    .equ PTE_D, 0x80
    # A and D are preset on every leaf, so the tables work whether the MMU
    # updates A/D itself or raises a page fault to have software do it.
    .equ PTE_KERNEL_RWX, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D
    .equ PTE_KERNEL_RW,  PTE_V | PTE_R | PTE_W | PTE_A | PTE_D
    .equ PTE_USER_RX,    PTE_V | PTE_R | PTE_X | PTE_U | PTE_A
    .equ PTE_USER_RW,    PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D
    .equ SATP_SV32,      0x80000000
    .equ SSTATUS_SPP,    0x100
    .equ SSTATUS_SUM,    0x40000

    .equ SCAUSE_ECALL_U,       8
    .equ SCAUSE_FETCH_PF,      12
    .equ SCAUSE_LOAD_PF,       13
    .equ SCAUSE_STORE_PF,      15

# --- the address-space layout --------------------------------------------
    .equ IDENT_SIZE,     0x80000       # identity-mapped bytes from the image start
    .equ MEGA_VA,        0xc0000000    # the megapage
    .equ ALIAS_VA,       0xd0000000    # 4 KiB alias of megapage frame +0x3000
    .equ ALIAS_OFF,      0x3000
    .equ USER_TEXT_VA,   0x00400000
    .equ USER_HEAP_VA,   0x00600000    # demand-zero region [HEAP_VA, HEAP_END)
    .equ USER_HEAP_END,  0x00700000
    .equ USER_STACK_VA,  0x007ff000
    .equ USER_STACK_TOP, 0x00800000

    .equ SYS_WRITE, 64
    .equ SYS_EXIT,  93
    .equ ENOSYS,    38

    # What the user process exits with when everything worked:
    # sum(i * 0x9e3779b9, i < 1024) + 0x600df00d + 0, mod 2^32.
    .equ USER_MUL,    0x9e3779b9
    .equ USER_MAGIC,  0x600df00d
    .equ EXPECT_DEMAND_FAULTS, 3
    .equ EXPECT_PROT_FAULTS,   1
    .equ EXPECT_WRITES,        2

# =============================================================================
# Kernel entry (paging off).
_start:
    # Free RAM starts at image_end.  Its first page is the kernel stack.
    la      t0, image_end
    li      t1, 4096
    add     sp, t0, t1
    la      t2, kstack_top
    sw      sp, 0(t2)
    la      t2, next_free
    sw      sp, 0(t2)
    csrw    sscratch, zero         # 0 = "we are in the kernel" (see trap_entry)

    la      a0, msg_build
    call    puts

    # 1. Root table.
    call    alloc_page
    la      t0, root_pt
    sw      a0, 0(t0)

    # Identity map [image start, image start + IDENT_SIZE) with 4 KiB pages.
    la      s1, _start             # s1 = va = pa
    li      t0, IDENT_SIZE
    add     s2, s1, t0             # s2 = end
1:
    mv      a0, s1
    mv      a1, s1
    li      a2, PTE_KERNEL_RWX
    call    map_page
    li      t0, 4096
    add     s1, s1, t0
    bltu    s1, s2, 1b

    # The UART, identity, kernel read/write.
    li      a0, UART_BASE
    li      a1, UART_BASE
    li      a2, PTE_KERNEL_RW
    call    map_page

    # The megapage: the first 4 MiB-aligned RAM past the identity map.
    la      t0, _start
    li      t1, IDENT_SIZE
    add     t0, t0, t1
    li      t1, 0x3fffff
    add     t0, t0, t1
    srli    t0, t0, 22
    slli    s3, t0, 22             # s3 = megapage physical base
    la      t0, mega_pa
    sw      s3, 0(t0)
    la      t0, root_pt
    lw      t0, 0(t0)
    li      t1, MEGA_VA
    srli    t1, t1, 22
    slli    t1, t1, 2
    add     t0, t0, t1             # &root[VPN1(MEGA_VA)]
    srli    t1, s3, 12
    slli    t1, t1, 10             # PPN into PTE position
    ori     t1, t1, PTE_KERNEL_RW
    sw      t1, 0(t0)

    # A 4 KiB alias of one frame inside the megapage.
    li      a0, ALIAS_VA
    li      t0, ALIAS_OFF
    add     a1, s3, t0
    li      a2, PTE_KERNEL_RW
    call    map_page

    # User code: the page(s) from user_text to user_text_end, at USER_TEXT_VA.
    la      s1, user_text          # s1 = pa
    la      s2, user_text_end
    li      s4, USER_TEXT_VA       # s4 = va
2:
    mv      a0, s4
    mv      a1, s1
    li      a2, PTE_USER_RX
    call    map_page
    li      t0, 4096
    add     s1, s1, t0
    add     s4, s4, t0
    bltu    s1, s2, 2b

    # User stack: one zeroed page just below USER_STACK_TOP.
    call    alloc_page
    mv      a1, a0
    li      a0, USER_STACK_VA
    li      a2, PTE_USER_RW
    call    map_page

    # 2. Traps go to trap_entry; then paging on.  The sfence.vma before the
    # satp write orders the page-table stores before any walk.
    la      t0, trap_entry
    csrw    stvec, t0
    la      t0, root_pt
    lw      t0, 0(t0)
    srli    t0, t0, 12
    li      t1, SATP_SV32
    or      t0, t0, t1
    sfence.vma zero, zero
    csrw    satp, t0
    sfence.vma zero, zero

    la      a0, msg_on
    call    puts

    # Megapage check: write a pattern into the frame at +ALIAS_OFF through
    # the megapage and the last word of the megapage; read the first back
    # through the 4 KiB alias, the second through the megapage.
    li      s1, MEGA_VA
    li      t0, ALIAS_OFF
    add     s1, s1, t0             # s1 = megapage VA of the aliased frame
    li      s2, ALIAS_VA
    li      s4, 1                  # s4 = 1 while the check holds
    li      t2, 0
    li      t3, 16
3:
    slli    t4, t2, 2
    add     t5, s1, t4
    li      t6, 0x5eed0000
    add     t6, t6, t2
    sw      t6, 0(t5)              # via the megapage
    addi    t2, t2, 1
    bne     t2, t3, 3b
    li      t0, MEGA_VA
    li      t1, 0x3ffffc
    add     t0, t0, t1
    li      t1, 0x1a57f00d
    sw      t1, 0(t0)              # last word of the 4 MiB
    li      t2, 0
4:
    slli    t4, t2, 2
    add     t5, s2, t4
    lw      t5, 0(t5)              # via the alias
    li      t6, 0x5eed0000
    add     t6, t6, t2
    beq     t5, t6, 5f
    li      s4, 0
5:
    addi    t2, t2, 1
    bne     t2, t3, 4b
    lw      t5, 0(t0)
    beq     t5, t1, 6f
    li      s4, 0
6:
    la      t0, mega_ok
    sw      s4, 0(t0)
    la      a0, msg_mega_ok
    bnez    s4, 7f
    la      a0, msg_mega_bad
7:
    call    puts

    # 3. Enter the user process: sepc = its entry, SPP = U, sscratch = the
    # kernel stack (trap_entry swaps it in), clean registers.
    la      a0, msg_enter
    call    puts
    la      t0, user_entry
    la      t1, user_text
    sub     t0, t0, t1
    li      t1, USER_TEXT_VA
    add     t0, t0, t1
    csrw    sepc, t0
    li      t0, SSTATUS_SPP
    csrc    sstatus, t0
    la      t0, kstack_top
    lw      t0, 0(t0)
    csrw    sscratch, t0
    li      sp, USER_STACK_TOP
    li      ra, 0
    li      gp, 0
    li      tp, 0
    li      t0, 0
    li      t1, 0
    li      t2, 0
    li      s0, 0
    li      s1, 0
    li      a0, 0
    li      a1, 0
    li      a2, 0
    li      a3, 0
    li      a4, 0
    li      a5, 0
    li      a6, 0
    li      a7, 0
    li      s2, 0
    li      s3, 0
    li      s4, 0
    li      s5, 0
    li      s6, 0
    li      s7, 0
    li      s8, 0
    li      s9, 0
    li      s10, 0
    li      s11, 0
    li      t3, 0
    li      t4, 0
    li      t5, 0
    li      t6, 0
    sret

# =============================================================================
# Trap entry.  From U-mode sscratch holds the kernel stack top; in the kernel
# it holds 0, so a trap taken in S-mode finds sp = 0 after the swap.
trap_entry:
    csrrw   sp, sscratch, sp
    beqz    sp, kernel_trap
    addi    sp, sp, -128           # frame: x[r] at 4 * r
    sw      ra, 4(sp)
    sw      gp, 12(sp)
    sw      tp, 16(sp)
    sw      t0, 20(sp)
    sw      t1, 24(sp)
    sw      t2, 28(sp)
    sw      s0, 32(sp)
    sw      s1, 36(sp)
    sw      a0, 40(sp)
    sw      a1, 44(sp)
    sw      a2, 48(sp)
    sw      a3, 52(sp)
    sw      a4, 56(sp)
    sw      a5, 60(sp)
    sw      a6, 64(sp)
    sw      a7, 68(sp)
    sw      s2, 72(sp)
    sw      s3, 76(sp)
    sw      s4, 80(sp)
    sw      s5, 84(sp)
    sw      s6, 88(sp)
    sw      s7, 92(sp)
    sw      s8, 96(sp)
    sw      s9, 100(sp)
    sw      s10, 104(sp)
    sw      s11, 108(sp)
    sw      t3, 112(sp)
    sw      t4, 116(sp)
    sw      t5, 120(sp)
    sw      t6, 124(sp)
    csrr    t0, sscratch
    sw      t0, 8(sp)              # the user's sp
    csrw    sscratch, zero         # in the kernel now

    mv      s11, sp                # s11 = frame, for the handlers
    call    handle_user_trap

    # Back to the user: sscratch = kernel stack top again, registers back.
    addi    t0, sp, 128
    csrw    sscratch, t0
    lw      ra, 4(sp)
    lw      gp, 12(sp)
    lw      tp, 16(sp)
    lw      t0, 20(sp)
    lw      t1, 24(sp)
    lw      t2, 28(sp)
    lw      s0, 32(sp)
    lw      s1, 36(sp)
    lw      a0, 40(sp)
    lw      a1, 44(sp)
    lw      a2, 48(sp)
    lw      a3, 52(sp)
    lw      a4, 56(sp)
    lw      a5, 60(sp)
    lw      a6, 64(sp)
    lw      a7, 68(sp)
    lw      s2, 72(sp)
    lw      s3, 76(sp)
    lw      s4, 80(sp)
    lw      s5, 84(sp)
    lw      s6, 88(sp)
    lw      s7, 92(sp)
    lw      s8, 96(sp)
    lw      s9, 100(sp)
    lw      s10, 104(sp)
    lw      s11, 108(sp)
    lw      t3, 112(sp)
    lw      t4, 116(sp)
    lw      t5, 120(sp)
    lw      t6, 124(sp)
    lw      sp, 8(sp)
    sret

# A trap while in the kernel is a kernel bug: report and power off (FAIL).
# The report goes through the SBI console, which needs no mapping (the bug
# may be a broken UART mapping); a second trap while reporting powers off
# at once instead of recursing down the stack.
kernel_trap:
    csrrw   sp, sscratch, sp       # sp back, sscratch back to 0
    la      t0, in_panic
    lw      t1, 0(t0)
    bnez    t1, 1f
    li      t1, 1
    sw      t1, 0(t0)              # also switches putc to the SBI console
    la      a0, msg_ktrap
    call    puts
    csrr    a0, scause
    call    put_hex
    la      a0, msg_sepc
    call    puts
    csrr    a0, sepc
    call    put_hex
    la      a0, msg_stval
    call    puts
    csrr    a0, stval
    call    put_hex
    la      a0, msg_crlf
    call    puts
    j       fail
1:
    li      a0, 1
    j       shutdown

# handle_user_trap(s11 = frame): system calls and page faults from U-mode.
handle_user_trap:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    csrr    t0, scause
    li      t1, SCAUSE_ECALL_U
    beq     t0, t1, do_syscall
    li      t1, SCAUSE_LOAD_PF
    beq     t0, t1, do_page_fault
    li      t1, SCAUSE_STORE_PF
    beq     t0, t1, do_page_fault
    li      t1, SCAUSE_FETCH_PF
    beq     t0, t1, do_page_fault
    # Anything else from the user (illegal instruction, ...): kill it.
    la      a0, msg_user_trap
    call    puts
    csrr    a0, scause
    call    put_hex
    la      a0, msg_crlf
    call    puts
    j       user_killed
trap_ret:
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

# --- system calls ---------------------------------------------------------
do_syscall:
    csrr    t0, sepc               # return past the ecall
    addi    t0, t0, 4
    csrw    sepc, t0
    lw      t0, 68(s11)            # a7 = number
    li      t1, SYS_WRITE
    beq     t0, t1, sys_write
    li      t1, SYS_EXIT
    beq     t0, t1, sys_exit
    li      t0, -ENOSYS
    sw      t0, 40(s11)
    j       trap_ret

# write(a0 = user buffer, a1 = length): copy to the UART with SUM set (S-mode
# may then read U pages).  Only user addresses (below 0x8000_0000) and at
# most 1024 bytes are accepted.
sys_write:
    lw      s1, 40(s11)            # buf
    lw      s2, 44(s11)            # len
    li      t0, 1024
    bgtu    s2, t0, 2f
    add     t0, s1, s2
    bltu    t0, s1, 2f             # wrapped
    li      t1, 0x80000000
    bgtu    t0, t1, 2f
    la      t0, write_calls
    lw      t1, 0(t0)
    addi    t1, t1, 1
    sw      t1, 0(t0)
    li      t0, SSTATUS_SUM
    csrs    sstatus, t0
    mv      s3, s2
1:
    beqz    s3, 3f
    lbu     a0, 0(s1)
    call    putc
    addi    s1, s1, 1
    addi    s3, s3, -1
    j       1b
3:
    li      t0, SSTATUS_SUM
    csrc    sstatus, t0
    sw      s2, 40(s11)            # return the length written
    j       trap_ret
2:
    li      t0, -14                # EFAULT
    sw      t0, 40(s11)
    j       trap_ret

# exit(a0 = status): the process is gone; continue in the kernel.
sys_exit:
    lw      t0, 40(s11)
    la      t1, exit_status
    sw      t0, 0(t1)
    j       user_exited

# --- page faults -------------------------------------------------------------
# stval = faulting VA.  Demand-zero region: allocate, zero, map, sfence.vma.
# A present page without U: protection fault, skip the instruction (a real
# kernel would send SIGSEGV).  Anything else: kill the process.
do_page_fault:
    csrr    s1, stval
    csrr    s2, scause
    li      t0, USER_HEAP_VA
    bltu    s1, t0, pf_not_heap
    li      t0, USER_HEAP_END
    bgeu    s1, t0, pf_not_heap
    mv      a0, s1
    call    lookup_pte
    beqz    a0, 1f
    lw      t0, 0(a0)
    andi    t0, t0, PTE_V
    bnez    t0, pf_kill            # present yet faulting: not a demand fault
1:
    call    alloc_page
    mv      s3, a0                 # s3 = the new frame
    srli    a0, s1, 12
    slli    a0, a0, 12             # page-aligned VA
    mv      a1, s3
    li      a2, PTE_USER_RW
    call    map_page
    sfence.vma s1, zero            # drop any cached "not present" for this VA
    # Log the (va, pa) pair for the final check and count the fault.
    la      t0, demand_faults
    lw      t1, 0(t0)
    li      t2, 4
    bgeu    t1, t2, 2f             # log has 4 slots
    slli    t2, t1, 3
    la      t3, fault_log
    add     t3, t3, t2
    sw      s1, 0(t3)
    sw      s3, 4(t3)
2:
    addi    t1, t1, 1
    sw      t1, 0(t0)
    la      a0, msg_pf
    call    puts
    mv      a0, s1
    call    put_hex
    mv      a0, s2
    call    put_cause
    la      a0, msg_pf2
    call    puts
    j       trap_ret

pf_not_heap:
    mv      a0, s1
    call    lookup_pte
    beqz    a0, pf_kill
    lw      t0, 0(a0)
    andi    t1, t0, PTE_V
    beqz    t1, pf_kill
    andi    t1, t0, PTE_U
    bnez    t1, pf_kill            # a user page that still faulted: give up
    la      t0, prot_faults
    lw      t1, 0(t0)
    addi    t1, t1, 1
    sw      t1, 0(t0)
    la      a0, msg_prot
    call    puts
    mv      a0, s1
    call    put_hex
    mv      a0, s2
    call    put_cause
    la      a0, msg_prot2
    call    puts
    csrr    t0, sepc
    addi    t0, t0, 4
    csrw    sepc, t0
    j       trap_ret

pf_kill:
    la      a0, msg_segv
    call    puts
    mv      a0, s1
    call    put_hex
    la      a0, msg_crlf
    call    puts
    j       user_killed

# put_cause(a0 = scause): " (load)", " (store)" or " (fetch)".
# Tail-calls puts, which returns to our caller.
put_cause:
    mv      t1, a0
    la      a0, msg_load
    li      t0, SCAUSE_LOAD_PF
    beq     t1, t0, 1f
    la      a0, msg_store
    li      t0, SCAUSE_STORE_PF
    beq     t1, t0, 1f
    la      a0, msg_fetch
1:
    j       puts

# =============================================================================
# After the process: exit() lands here with a fresh kernel stack.
user_killed:
    la      t0, user_was_killed
    li      t1, 1
    sw      t1, 0(t0)
user_exited:
    la      t0, kstack_top
    lw      sp, 0(t0)
    csrw    sscratch, zero

    # s4 = 1 while every check holds.
    la      t0, mega_ok
    lw      s4, 0(t0)
    la      t0, user_was_killed
    lw      t0, 0(t0)
    beqz    t0, 1f
    li      s4, 0
1:
    # Expected status: USER_MUL * (0 + 1 + ... + 1023) + USER_MAGIC.
    li      t0, USER_MUL
    li      t1, 523776
    mul     s5, t0, t1
    li      t0, USER_MAGIC
    add     s5, s5, t0
    la      a0, msg_exit
    call    puts
    la      t0, exit_status
    lw      s6, 0(t0)
    mv      a0, s6
    call    put_hex
    la      a0, msg_exit2
    call    puts
    mv      a0, s5
    call    put_hex
    la      a0, msg_exit3
    call    puts
    beq     s5, s6, 2f
    li      s4, 0
2:
    # The user's frames, read by the kernel through its identity map (the
    # frames came from alloc_page, inside that map): another alias, VA = PA.
    call    check_user_frames
    mv      s7, a0
    bnez    a0, 3f
    li      s4, 0
3:
    la      t0, demand_faults
    lw      s1, 0(t0)
    li      t1, EXPECT_DEMAND_FAULTS
    beq     s1, t1, 4f
    li      s4, 0
4:
    la      t0, prot_faults
    lw      s2, 0(t0)
    li      t1, EXPECT_PROT_FAULTS
    beq     s2, t1, 5f
    li      s4, 0
5:
    la      t0, write_calls
    lw      s3, 0(t0)
    li      t1, EXPECT_WRITES
    beq     s3, t1, 6f
    li      s4, 0
6:
    # "paging: summary: D demand-zero faults, P protection fault(s), W write
    #  calls, megapage ok|BAD, user frames ok|BAD"
    la      a0, msg_sum1
    call    puts
    mv      a0, s1
    call    put_dec
    la      a0, msg_sum2
    call    puts
    mv      a0, s2
    call    put_dec
    la      a0, msg_sum3
    call    puts
    mv      a0, s3
    call    put_dec
    la      a0, msg_sum4
    call    puts
    la      t0, mega_ok
    lw      t0, 0(t0)
    la      a0, msg_ok
    bnez    t0, 7f
    la      a0, msg_bad
7:
    call    puts
    la      a0, msg_sum5
    call    puts
    la      a0, msg_ok
    bnez    s7, 8f
    la      a0, msg_bad
8:
    call    puts
    la      a0, msg_crlf
    call    puts
    beqz    s4, fail
    la      a0, msg_pass
    call    puts
    li      a0, 0
    j       shutdown
fail:
    la      a0, msg_fail
    call    puts
    li      a0, 1
    j       shutdown

# check_user_frames() -> a0 = 1 if the logged frames hold what the user
# wrote: slot 0 (0x0060_0000) word i = i * USER_MUL; slot 1 (0x0060_2010)
# the magic at its offset; slot 2 (0x0060_5020, only read) zero there.
check_user_frames:
    la      t0, demand_faults
    lw      t0, 0(t0)
    li      t1, EXPECT_DEMAND_FAULTS
    bne     t0, t1, 9f
    la      t6, fault_log
    # slot 0: the whole page
    lw      t0, 4(t6)              # frame
    li      t1, 0
    li      t2, USER_MUL
    li      t3, 1024
1:
    lw      t4, 0(t0)
    mul     t5, t1, t2
    bne     t4, t5, 9f
    addi    t0, t0, 4
    addi    t1, t1, 1
    bne     t1, t3, 1b
    # slot 1: the word at the faulting offset
    lw      t0, 8(t6)              # va
    li      t1, 0xfff
    and     t1, t0, t1
    lw      t0, 12(t6)             # frame
    add     t0, t0, t1
    lw      t4, 0(t0)
    li      t5, USER_MAGIC
    bne     t4, t5, 9f
    # slot 2: a zero page
    lw      t0, 16(t6)
    li      t1, 0xfff
    and     t1, t0, t1
    lw      t0, 20(t6)
    add     t0, t0, t1
    lw      t4, 0(t0)
    bnez    t4, 9f
    li      a0, 1
    ret
9:
    li      a0, 0
    ret

    .include "lib/shutdown.S"

# =============================================================================
# Page-table helpers.  The tables live in identity-mapped RAM, so the same
# addresses work with paging off (physical) and on (VA = PA).

# alloc_page() -> a0 = a zeroed 4 KiB frame from the bump allocator.  Running
# past the identity-mapped window is a kernel bug: FAIL.
alloc_page:
    la      t0, next_free
    lw      a0, 0(t0)
    li      t1, 4096
    add     t2, a0, t1
    la      t3, _start
    li      t4, IDENT_SIZE
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
    j       fail

# lookup_pte(a0 = va) -> a0 = address of the level-0 PTE for va, or 0 when
# no level-0 table covers it.  (Megapages are not looked up here.)
lookup_pte:
    la      t0, root_pt
    lw      t0, 0(t0)
    srli    t1, a0, 22
    slli    t1, t1, 2
    add     t0, t0, t1
    lw      t1, 0(t0)              # root entry
    andi    t2, t1, PTE_V
    beqz    t2, 1f
    andi    t2, t1, PTE_R | PTE_W | PTE_X
    bnez    t2, 1f                 # a leaf (megapage): no level-0 PTE
    srli    t1, t1, 10
    slli    t1, t1, 12             # level-0 table
    srli    t2, a0, 12
    andi    t2, t2, 0x3ff
    slli    t2, t2, 2
    add     a0, t1, t2
    ret
1:
    li      a0, 0
    ret

    .include "lib/map-page.S"

# =============================================================================
# Console: the UART through its identity mapping (or physically, paging off);
# after a kernel trap, the SBI debug console (DBCN write_byte, or the legacy
# putchar if DBCN is missing).  putc clobbers t0, t1 (and a0..a1, a6, a7 on
# the SBI path, which only the panic report uses).
putc:
    la      t0, in_panic
    lw      t0, 0(t0)
    bnez    t0, sbi_putc
    li      t0, UART_BASE
1:
    lbu     t1, UART_LSR(t0)
    andi    t1, t1, LSR_THRE
    beqz    t1, 1b
    sb      a0, UART_THR(t0)
    ret

sbi_putc:
    mv      t1, a0
    li      a6, SBI_DBCN_WRITE_BYTE
    li      a7, SBI_EXT_DBCN
    ecall
    beqz    a0, 1f
    mv      a0, t1
    li      a7, SBI_EXT_LEGACY_PUTCHAR
    ecall
1:
    ret

    .include "lib/puts.S"
    .include "lib/put-dec.S"
    .include "lib/put-hex.S"

# --- kernel messages (read-only) -------------------------------------------
msg_build:     .asciz "paging: building Sv32 page tables (4 KiB identity map, UART, megapage, user pages)\r\n"
msg_on:        .asciz "paging: Sv32 on, the kernel runs through its identity map\r\n"
msg_mega_ok:   .asciz "paging: megapage at 0xc0000000 written, read back through a 4 KiB alias at 0xd0000000: ok\r\n"
msg_mega_bad:  .asciz "paging: megapage at 0xc0000000 written, read back through a 4 KiB alias at 0xd0000000: MISMATCH\r\n"
msg_enter:     .asciz "paging: entering U-mode at 0x00400000\r\n"
msg_pf:        .asciz "paging: page fault at "
msg_pf2:       .asciz ", mapped a zeroed page\r\n"
msg_prot:      .asciz "paging: protection fault at "
msg_prot2:     .asciz ": page present but U=0, instruction skipped\r\n"
msg_load:      .asciz " (load)"
msg_store:     .asciz " (store)"
msg_fetch:     .asciz " (fetch)"
msg_segv:      .asciz "paging: user process killed: bad access at "
msg_user_trap: .asciz "paging: user process killed: scause "
msg_ktrap:     .asciz "paging: kernel trap! scause "
msg_sepc:      .asciz " sepc "
msg_stval:     .asciz " stval "
msg_oom:       .asciz "paging: out of page frames\r\n"
msg_exit:      .asciz "paging: user exited with status "
msg_exit2:     .asciz " (expected "
msg_exit3:     .asciz ")\r\n"
msg_sum1:      .asciz "paging: summary: "
msg_sum2:      .asciz " demand-zero faults, "
msg_sum3:      .asciz " protection fault(s), "
msg_sum4:      .asciz " write calls, megapage "
msg_sum5:      .asciz ", user frames seen by the kernel "
msg_ok:        .asciz "ok"
msg_bad:       .asciz "BAD"
msg_crlf:      .asciz "\r\n"
msg_pass:      .asciz "PASS\r\n"
msg_fail:      .asciz "FAIL\r\n"

# =============================================================================
# The user process: its own page, mapped at USER_TEXT_VA with U=1.  All its
# addressing is pc-relative or absolute user VAs, never kernel addresses.
    .balign 4096, 0
user_text:
user_entry:
    # write(1st line)
    la      a0, u_msg1
    la      a1, u_msg1_end
    sub     a1, a1, a0             # length
    li      a7, SYS_WRITE
    ecall

    # Fill the heap page at 0x0060_0000: word i = i * USER_MUL.  The first
    # store faults (nothing mapped yet); the kernel maps a zeroed page and
    # the store is retried.
    li      s0, USER_HEAP_VA
    li      s1, 0
    li      s2, USER_MUL
    li      s3, 1024
1:
    mul     t0, s1, s2
    slli    t1, s1, 2
    add     t1, t1, s0
    sw      t0, 0(t1)
    addi    s1, s1, 1
    bne     s1, s3, 1b

    # A store two pages further on: a second, separate fault.
    li      t0, USER_HEAP_VA + 0x2000
    li      t1, USER_MAGIC
    sw      t1, 0x10(t0)

    # A load from a page never written: a load fault, and it reads 0.
    li      t0, USER_HEAP_VA + 0x5000
    lw      s4, 0x20(t0)

    # Sum everything back: s5 = sum of page 0 + the magic word + s4.
    li      s5, 0
    li      s1, 0
2:
    slli    t1, s1, 2
    add     t1, t1, s0
    lw      t0, 0(t1)
    add     s5, s5, t0
    addi    s1, s1, 1
    bne     s1, s3, 2b
    li      t0, USER_HEAP_VA + 0x2000
    lw      t0, 0x10(t0)
    add     s5, s5, t0
    add     s5, s5, s4

    # Peek at the UART's line status register: mapped, but kernel only.  The
    # load must fault; the kernel skips it, so t2 keeps its marker.  Any
    # other value means the user read kernel-only memory: spoil the sum.
    li      t2, 0x5a5a5a5a
    li      t0, 0x10000000
    lbu     t2, 5(t0)
    li      t0, 0x5a5a5a5a
    beq     t2, t0, 3f
    addi    s5, s5, 1
3:
    # write(2nd line), then exit(sum).
    la      a0, u_msg2
    la      a1, u_msg2_end
    sub     a1, a1, a0             # length
    li      a7, SYS_WRITE
    ecall
    mv      a0, s5
    li      a7, SYS_EXIT
    ecall
4:
    j       4b                     # exit does not return

u_msg1:
    .ascii  "user: hello from U-mode, through the write system call\r\n"
u_msg1_end:
u_msg2:
    .ascii  "user: demand-paged memory filled and read back, exiting\r\n"
u_msg2_end:
    .balign 4096, 0
user_text_end:

# =============================================================================
# Kernel variables: their own page, so they never share a page with code.
    .balign 4096, 0
root_pt:         .word 0           # physical address of the root table
next_free:       .word 0           # bump allocator
kstack_top:      .word 0
mega_pa:         .word 0
mega_ok:         .word 0
demand_faults:   .word 0
prot_faults:     .word 0
write_calls:     .word 0
exit_status:     .word 0
user_was_killed: .word 0
in_panic:        .word 0           # set by kernel_trap
fault_log:       .space 8 * 4      # (va, frame) of the first 4 demand faults

    .balign 4096, 0
image_end:
