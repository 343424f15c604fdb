# qemu-mini-sbi.S - a tiny M-mode SBI firmware for cross-checking webkvm's
# built-in guests under qemu-system-riscv32 (dev tool, used only by
# scripts/qemu-check-guests.sh, never by webkvm itself).
#
# Why it exists: QEMU's rv32 `virt` machine normally boots OpenSBI
# ("-bios default"), but some distributions (Debian 12 among them) ship only
# the 64-bit OpenSBI build, so qemu-system-riscv32 has no firmware to run.
# This file stands in for it with just what the guests rely on, behaving as
# OpenSBI (and webkvm's hypervisor) do:
#   - every hart: PMP opened for S/U, the same trap delegation as OpenSBI
#     (medeleg: misaligned fetch/load/store, breakpoint, U ecall, the three
#     page faults; mideleg: SSI, STI, SEI), counters readable from S;
#   - the boot hart (BOOT_HART) enters the kernel in S-mode at the address
#     QEMU's fw_dynamic_info gives (the -kernel ELF entry), with a0 = hart id
#     and a1 = 0; the other harts wait in M-mode in HSM state STOPPED;
#   - SBI BASE, IPI (send_ipi: the target's M software interrupt is turned
#     into a supervisor software interrupt, as OpenSBI does), HSM
#     (hart_start/hart_stop/hart_get_status), SRST, DBCN and the legacy
#     putchar/getchar/shutdown calls; anything else (TIME, RFENCE, ...)
#     returns SBI_ERR_NOT_SUPPORTED;
#   - SRST shutdown ends QEMU through the `virt` test device (0x100000):
#     reason 0 exits QEMU with status 0, any other reason with status 1, so
#     the check script can read a guest's verdict from QEMU's exit status.
#
# Build (the script does this):
#   riscv64-unknown-elf-as -march=rv32ima_zicsr_zifencei -mabi=ilp32 \
#       --defsym NHARTS=4 --defsym BOOT_HART=0 qemu-mini-sbi.S -o sbi.o
#   riscv64-unknown-elf-ld -m elf32lriscv -Ttext=0x80000000 sbi.o -o sbi.elf
#   qemu-system-riscv32 -M virt -bios sbi.elf -kernel guest.elf -smp 4 ...

    .option norvc
    .text
    .globl _start

    .ifndef NHARTS
    .equ NHARTS, 4
    .endif
    .ifndef BOOT_HART
    .equ BOOT_HART, 0
    .endif

    .equ MAX_HARTS,   8
    .equ STACK_SIZE,  1024
    .equ UART_BASE,   0x10000000
    .equ UART_LSR,    5
    .equ TEST_DEV,    0x00100000   # QEMU virt "sifive,test" finisher
    .equ TEST_PASS,   0x5555
    .equ TEST_FAIL,   0x3333       # | (exit code << 16)
    .equ CLINT_MSIP,  0x02000000   # + 4 * hart

    .equ FW_DYN_MAGIC, 0x4942534f  # "OSBI" in fw_dynamic_info.magic
    .equ DEFAULT_KERNEL, 0x80400000

    # HSM states (SBI v2.0 table)
    .equ HSM_STARTED,       0
    .equ HSM_STOPPED,       1
    .equ HSM_START_PENDING, 2

    # SBI error codes
    .equ SBI_SUCCESS,               0
    .equ SBI_ERR_NOT_SUPPORTED,    -2
    .equ SBI_ERR_INVALID_PARAM,    -3
    .equ SBI_ERR_ALREADY_AVAILABLE, -6

    # Extension ids
    .equ EXT_LEGACY_PUTCHAR,  0x01
    .equ EXT_LEGACY_GETCHAR,  0x02
    .equ EXT_LEGACY_SHUTDOWN, 0x08
    .equ EXT_BASE,  0x10
    .equ EXT_IPI,   0x735049
    .equ EXT_HSM,   0x48534d
    .equ EXT_SRST,  0x53525354
    .equ EXT_DBCN,  0x4442434e

    # Trap delegation, as OpenSBI sets it up.
    .equ MEDELEG_BITS, (1 << 0) | (1 << 3) | (1 << 4) | (1 << 6) | (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15)
    .equ MIDELEG_BITS, (1 << 1) | (1 << 5) | (1 << 9)
    .equ MIP_MSIP, (1 << 3)
    .equ MIP_SSIP, (1 << 1)
    .equ MCAUSE_MSI, 0x80000003
    .equ MSTATUS_MPP_MASK, (3 << 11)
    .equ MSTATUS_MPP_S,    (1 << 11)
    .equ MSTATUS_MPRV,     (1 << 17)
    .equ MSTATUS_MPIE,     (1 << 7)

# ---------------------------------------------------------------------------
# Reset: QEMU starts every hart here with a0 = hart id, a1 = fdt,
# a2 = &fw_dynamic_info.
_start:
    csrr    s0, mhartid
    li      t0, NHARTS
    bgeu    s0, t0, park_forever

    call    m_stack_reset

    la      t0, m_trap
    csrw    mtvec, t0

    # PMP entry 0: NAPOT over the whole address space, RWX, so S and U
    # may touch everything (without any PMP entry they could touch nothing).
    li      t0, -1
    csrw    pmpaddr0, t0
    li      t0, 0x1f
    csrw    pmpcfg0, t0

    li      t0, MEDELEG_BITS
    csrw    medeleg, t0
    li      t0, MIDELEG_BITS
    csrw    mideleg, t0
    li      t0, 7
    csrw    mcounteren, t0
    # Only the software interrupt (HSM wake-up) is enabled at M level, and
    # mstatus.MIE stays 0 so in M-mode it only wakes wfi.
    li      t0, MIP_MSIP
    csrw    mie, t0
    call    clear_own_msip

    li      t0, BOOT_HART
    bne     s0, t0, secondary_boot

    # Boot hart: find the kernel entry QEMU put in fw_dynamic_info.
    li      t1, DEFAULT_KERNEL
    lw      t0, 0(a2)
    li      t2, FW_DYN_MAGIC
    bne     t0, t2, 1f
    lw      t1, 8(a2)              # next_addr
1:
    la      t0, kernel_entry
    sw      t1, 0(t0)
    # Wait until every other hart has parked, so hart_start never races a
    # hart that has not reached its wait loop yet.
    la      t0, parked_count
2:
    lw      t1, 0(t0)
    li      t2, NHARTS - 1
    bltu    t1, t2, 2b
    la      t0, hart_state
    slli    t1, s0, 2
    add     t0, t0, t1
    sw      zero, 0(t0)            # HSM_STARTED
    mv      a0, s0
    li      a1, 0
    la      t0, kernel_entry
    lw      a2, 0(t0)
    j       enter_s

secondary_boot:
    la      t0, hart_state
    slli    t1, s0, 2
    add     t0, t0, t1
    li      t1, HSM_STOPPED
    sw      t1, 0(t0)
    la      t0, parked_count
    li      t1, 1
    amoadd.w.aqrl zero, t1, (t0)
    # fall through

# A stopped hart waits here for hart_start (an M software interrupt).
# s0 = hart id.
stopped_wait:
    csrr    t0, mip
    andi    t0, t0, MIP_MSIP
    bnez    t0, 1f
    wfi
    j       stopped_wait
1:
    call    clear_own_msip
    fence   rw, rw
    la      t0, hart_state
    slli    t1, s0, 2
    add     t0, t0, t1
    lw      t1, 0(t0)
    li      t2, HSM_START_PENDING
    bne     t1, t2, stopped_wait
    la      t2, start_addr
    slli    t1, s0, 2
    add     t2, t2, t1
    lw      a2, 0(t2)
    la      t2, start_opaque
    add     t2, t2, t1
    lw      a1, 0(t2)
    sw      zero, 0(t0)            # HSM_STARTED
    mv      a0, s0
    # fall through

# Enter S-mode at a2 with a0, a1 as given; paging off, S interrupts off.
enter_s:
    csrw    satp, zero
    csrw    sie, zero
    csrw    stvec, zero
    csrw    mepc, a2
    li      t0, MSTATUS_MPP_MASK | MSTATUS_MPRV | MSTATUS_MPIE
    csrc    mstatus, t0
    li      t0, MSTATUS_MPP_S
    csrs    mstatus, t0
    li      t0, 0
    li      t1, 0
    li      t2, 0
    li      a2, 0
    li      s0, 0
    mret

park_forever:
    wfi
    j       park_forever

# m_stack_reset(s0 = hart id): sp = top of this hart's M-mode stack, and
# mscratch = the same, which m_trap swaps in while S/U run.  Clobbers t0, t1.
m_stack_reset:
    la      sp, m_stacks
    addi    t0, s0, 1
    li      t1, STACK_SIZE
    mul     t0, t0, t1
    add     sp, sp, t0
    csrw    mscratch, sp
    ret

# clear_own_msip(s0 = hart id): clobbers t0, t1.
clear_own_msip:
    li      t0, CLINT_MSIP
    slli    t1, s0, 2
    add     t0, t0, t1
    sw      zero, 0(t0)
    ret

# ---------------------------------------------------------------------------
# M-mode trap entry.  sp is swapped with mscratch (the hart's M stack top);
# every register the handler touches is saved, so S sees only a0/a1 change,
# as the SBI calling convention promises.
m_trap:
    csrrw   sp, mscratch, sp
    addi    sp, sp, -64
    sw      ra, 0(sp)
    sw      t0, 4(sp)
    sw      t1, 8(sp)
    sw      t2, 12(sp)
    sw      t3, 16(sp)
    sw      t4, 20(sp)
    sw      t5, 24(sp)
    sw      t6, 28(sp)
    sw      s0, 32(sp)
    sw      s1, 36(sp)
    sw      a2, 40(sp)
    sw      a3, 44(sp)
    sw      a4, 48(sp)
    sw      a5, 52(sp)
    csrr    s0, mhartid

    csrr    t0, mcause
    li      t1, MCAUSE_MSI
    beq     t0, t1, m_soft_irq
    li      t1, 9                  # ecall from S-mode
    bne     t0, t1, m_unexpected
    call    sbi_dispatch
    csrr    t0, mepc
    addi    t0, t0, 4
    csrw    mepc, t0

m_trap_ret:
    lw      ra, 0(sp)
    lw      t0, 4(sp)
    lw      t1, 8(sp)
    lw      t2, 12(sp)
    lw      t3, 16(sp)
    lw      t4, 20(sp)
    lw      t5, 24(sp)
    lw      t6, 28(sp)
    lw      s0, 32(sp)
    lw      s1, 36(sp)
    lw      a2, 40(sp)
    lw      a3, 44(sp)
    lw      a4, 48(sp)
    lw      a5, 52(sp)
    addi    sp, sp, 64
    csrrw   sp, mscratch, sp
    mret

# A machine software interrupt while the hart runs S/U code: another hart's
# send_ipi.  Pass it on to S as a supervisor software interrupt (SSIP).
m_soft_irq:
    call    clear_own_msip
    li      t0, MIP_SSIP
    csrs    mip, t0
    j       m_trap_ret

# Anything but an S ecall means the guest (or this firmware) went wrong:
# report it and end QEMU with status 3.
m_unexpected:
    la      a0, msg_trap
    call    m_puts
    csrr    a0, mcause
    call    m_puthex
    la      a0, msg_epc
    call    m_puts
    csrr    a0, mepc
    call    m_puthex
    la      a0, msg_tval
    call    m_puts
    csrr    a0, mtval
    call    m_puthex
    la      a0, msg_hart
    call    m_puts
    mv      a0, s0
    call    m_puthex
    li      a0, '\n'
    call    m_putc
    li      a0, 3
    j       qemu_exit

# sbi_dispatch: a7 = EID, a6 = FID, a0..a5 = arguments -> a0 = error, a1 = value.
sbi_dispatch:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    li      t0, EXT_BASE
    beq     a7, t0, sbi_base
    li      t0, EXT_IPI
    beq     a7, t0, sbi_ipi
    li      t0, EXT_HSM
    beq     a7, t0, sbi_hsm
    li      t0, EXT_SRST
    beq     a7, t0, sbi_srst
    li      t0, EXT_DBCN
    beq     a7, t0, sbi_dbcn
    li      t0, EXT_LEGACY_PUTCHAR
    beq     a7, t0, sbi_legacy_putchar
    li      t0, EXT_LEGACY_GETCHAR
    beq     a7, t0, sbi_legacy_getchar
    li      t0, EXT_LEGACY_SHUTDOWN
    beq     a7, t0, sbi_legacy_shutdown
not_supported:
    li      a0, SBI_ERR_NOT_SUPPORTED
    li      a1, 0
sbi_ret:
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret
ok_a1:
    li      a0, SBI_SUCCESS
    j       sbi_ret

# --- BASE -------------------------------------------------------------------
sbi_base:
    li      a1, 0x02000000         # spec version 2.0
    beqz    a6, ok_a1
    li      t0, 1
    li      a1, 0x7fff             # implementation id: none registered
    beq     a6, t0, ok_a1
    li      t0, 2
    li      a1, 1                  # implementation version
    beq     a6, t0, ok_a1
    li      t0, 3
    beq     a6, t0, base_probe
    li      t0, 4
    csrr    a1, mvendorid
    beq     a6, t0, ok_a1
    li      t0, 5
    csrr    a1, marchid
    beq     a6, t0, ok_a1
    li      t0, 6
    csrr    a1, mimpid
    beq     a6, t0, ok_a1
    j       not_supported
base_probe:
    li      a1, 1
    li      t0, EXT_BASE
    beq     a0, t0, ok_a1
    li      t0, EXT_HSM
    beq     a0, t0, ok_a1
    li      t0, EXT_IPI
    beq     a0, t0, ok_a1
    li      t0, EXT_SRST
    beq     a0, t0, ok_a1
    li      t0, EXT_DBCN
    beq     a0, t0, ok_a1
    li      t0, EXT_LEGACY_PUTCHAR
    beq     a0, t0, ok_a1
    li      t0, EXT_LEGACY_GETCHAR
    beq     a0, t0, ok_a1
    li      t0, EXT_LEGACY_SHUTDOWN
    beq     a0, t0, ok_a1
    li      a1, 0
    j       ok_a1

# --- IPI --------------------------------------------------------------------
# send_ipi(a0 = hart_mask, a1 = hart_mask_base; base -1 = every hart): raise
# each target's CLINT MSIP; its m_soft_irq sets SSIP.  A stopped hart is
# only woken and goes back to waiting.
sbi_ipi:
    bnez    a6, not_supported
    li      t0, -1
    bne     a1, t0, 1f
    li      a1, 0
    li      a0, -1
    li      t0, NHARTS
    li      t1, 32
    bgeu    t0, t1, 1f
    li      t1, 1
    sll     a0, t1, t0
    addi    a0, a0, -1             # every existing hart
1:
    # Check first: every target must exist.
    mv      t2, a0
    mv      t3, a1                 # t3 = hart id of bit 0
2:
    beqz    t2, 3f
    andi    t1, t2, 1
    beqz    t1, 4f
    li      t0, NHARTS
    bgeu    t3, t0, invalid_param
4:
    srli    t2, t2, 1
    addi    t3, t3, 1
    j       2b
3:
    fence   rw, rw                 # the sender's stores before the interrupt
    mv      t2, a0
    mv      t3, a1
5:
    beqz    t2, 6f
    andi    t1, t2, 1
    beqz    t1, 7f
    li      t0, CLINT_MSIP
    slli    t1, t3, 2
    add     t0, t0, t1
    li      t1, 1
    sw      t1, 0(t0)
7:
    srli    t2, t2, 1
    addi    t3, t3, 1
    j       5b
6:
    li      a1, 0
    j       ok_a1

# --- HSM --------------------------------------------------------------------
sbi_hsm:
    beqz    a6, hsm_start
    li      t0, 1
    beq     a6, t0, hsm_stop
    li      t0, 2
    beq     a6, t0, hsm_status
    j       not_supported

# hart_start(a0 = hartid, a1 = start_addr, a2 = opaque)
hsm_start:
    li      t0, NHARTS
    bgeu    a0, t0, invalid_param
    la      t0, hart_state
    slli    t1, a0, 2
    add     t0, t0, t1
    # Claim the hart: STOPPED -> START_PENDING, atomically.
1:
    lr.w.aqrl t2, (t0)
    li      t3, HSM_STOPPED
    bne     t2, t3, already_available
    li      t3, HSM_START_PENDING
    sc.w.aqrl t3, t3, (t0)
    bnez    t3, 1b
    la      t2, start_addr
    add     t2, t2, t1
    sw      a1, 0(t2)
    la      t2, start_opaque
    add     t2, t2, t1
    sw      a2, 0(t2)
    fence   rw, rw
    # Wake it: raise its machine software interrupt through the CLINT.
    li      t2, CLINT_MSIP
    add     t2, t2, t1
    li      t3, 1
    sw      t3, 0(t2)
    li      a1, 0
    j       ok_a1
already_available:
    li      a0, SBI_ERR_ALREADY_AVAILABLE
    li      a1, 0
    j       sbi_ret
invalid_param:
    li      a0, SBI_ERR_INVALID_PARAM
    li      a1, 0
    j       sbi_ret

# hart_stop(): never returns; the hart goes back to waiting.
hsm_stop:
    la      t0, hart_state
    slli    t1, s0, 2
    add     t0, t0, t1
    li      t1, HSM_STOPPED
    fence   rw, rw
    sw      t1, 0(t0)
    call    m_stack_reset          # drop this trap's frame: it never returns
    j       stopped_wait

# hart_get_status(a0 = hartid)
hsm_status:
    li      t0, NHARTS
    bgeu    a0, t0, invalid_param
    la      t0, hart_state
    slli    t1, a0, 2
    add     t0, t0, t1
    lw      a1, 0(t0)
    j       ok_a1

# --- SRST -------------------------------------------------------------------
# system_reset(a0 = type, a1 = reason).  Shutdown: QEMU exits 0 for reason 0
# (no reason) and 1 for anything else.  Reboots end QEMU with status 2, as
# a check run has no use for a second boot.
sbi_srst:
    bnez    a6, not_supported
    li      t0, 2
    bgtu    a0, t0, invalid_param
    bnez    a0, 1f
    mv      s1, a1
    la      a0, msg_off
    call    m_puts_if_verbose
    li      a0, 0
    beqz    s1, qemu_exit
    li      a0, 1
    j       qemu_exit
1:
    li      a0, 2
    j       qemu_exit

# --- DBCN -------------------------------------------------------------------
sbi_dbcn:
    beqz    a6, dbcn_write
    li      t0, 1
    beq     a6, t0, dbcn_read
    li      t0, 2
    beq     a6, t0, dbcn_write_byte
    j       not_supported
# write(a0 = num_bytes, a1 = base lo, a2 = base hi): physical address.
dbcn_write:
    bnez    a2, invalid_param
    mv      t3, a1
    mv      t4, a0
    mv      t5, a0
1:
    beqz    t4, 2f
    lbu     a0, 0(t3)
    call    m_putc
    addi    t3, t3, 1
    addi    t4, t4, -1
    j       1b
2:
    mv      a1, t5
    j       ok_a1
# read(a0 = num_bytes, a1 = base lo, a2 = base hi): what is waiting, no more.
dbcn_read:
    bnez    a2, invalid_param
    mv      t3, a1
    mv      t4, a0
    li      t5, 0
    li      t0, UART_BASE
1:
    beq     t5, t4, 2f
    lbu     t1, UART_LSR(t0)
    andi    t1, t1, 1
    beqz    t1, 2f
    lbu     t1, 0(t0)
    add     t2, t3, t5
    sb      t1, 0(t2)
    addi    t5, t5, 1
    j       1b
2:
    mv      a1, t5
    j       ok_a1
dbcn_write_byte:
    call    m_putc
    li      a1, 0
    j       ok_a1

# --- legacy (v0.1) ----------------------------------------------------------
sbi_legacy_putchar:
    call    m_putc
    li      a0, 0
    j       sbi_ret
sbi_legacy_getchar:
    li      t0, UART_BASE
    lbu     t1, UART_LSR(t0)
    andi    t1, t1, 1
    li      a0, -1
    beqz    t1, sbi_ret
    lbu     a0, 0(t0)
    j       sbi_ret
sbi_legacy_shutdown:
    li      a0, 0
    j       qemu_exit

# qemu_exit(a0 = status): 0 -> TEST_PASS, else TEST_FAIL | status << 16.
qemu_exit:
    li      t0, TEST_DEV
    li      t1, TEST_PASS
    beqz    a0, 1f
    slli    t1, a0, 16
    li      t2, TEST_FAIL
    or      t1, t1, t2
1:
    sw      t1, 0(t0)
    j       park_forever

# --- M-mode console helpers (polled UART) -----------------------------------
m_putc:
    li      t0, UART_BASE
1:
    lbu     t1, UART_LSR(t0)
    andi    t1, t1, 0x20
    beqz    t1, 1b
    sb      a0, 0(t0)
    ret

m_puts_if_verbose:
    la      t0, verbose
    lw      t0, 0(t0)
    bnez    t0, m_puts
    ret

m_puts:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s1, 8(sp)
    mv      s1, a0
1:
    lbu     a0, 0(s1)
    beqz    a0, 2f
    call    m_putc
    addi    s1, s1, 1
    j       1b
2:
    lw      s1, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

m_puthex:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    sw      s1, 8(sp)
    sw      s2, 4(sp)
    mv      s1, a0
    li      s2, 28
1:
    srl     a0, s1, s2
    andi    a0, a0, 15
    addi    a0, a0, '0'
    li      t0, '9'
    ble     a0, t0, 2f
    addi    a0, a0, 'a' - '9' - 1
2:
    call    m_putc
    addi    s2, s2, -4
    bgez    s2, 1b
    lw      s2, 4(sp)
    lw      s1, 8(sp)
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

msg_trap: .asciz "\nmini-sbi: unexpected trap mcause=0x"
msg_epc:  .asciz " mepc=0x"
msg_tval: .asciz " mtval=0x"
msg_hart: .asciz " hart=0x"
msg_off:  .asciz "mini-sbi: system_reset\n"

    .balign 4, 0
verbose:      .word 0
kernel_entry: .word 0
parked_count: .word 0
hart_state:   .space 4 * MAX_HARTS
start_addr:   .space 4 * MAX_HARTS
start_opaque: .space 4 * MAX_HARTS
    .balign 16, 0
m_stacks:     .space STACK_SIZE * MAX_HARTS
