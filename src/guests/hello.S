# hello.S - the smallest useful guest: a polled UART console.
#
# What it demonstrates
#   A guest kernel talks to a device by loads and stores to MMIO addresses.
#   Every access to the 16550 UART at 0x1000_0000 is a guest physical address
#   with no RAM behind it, so the hypervisor cannot map it with an SPTE: each
#   load or store traps out of the guest (an MMIO exit), is decoded, and is
#   emulated by the device model, exactly like an x86 guest poking an I/O
#   port under KVM.  Watching the exit counters while typing shows the cost:
#   polling LSR is one exit per poll.
#
# What it does
#   1. Prints a banner through the UART (wait for LSR.THRE, then write THR).
#   2. Echoes every byte typed (wait for LSR.DR, then read RBR); a carriage
#      return is echoed as "\r\n" so the cursor goes to a new line.
#   3. Ctrl-D (0x04) prints "bye" and powers off with SBI SRST (shutdown,
#      reason "none" = success).
#
# Boot contract (same as KVM RISC-V or OpenSBI): entered in S-mode, paging
# off, a0 = hart id, a1 = 0 (no device tree).  Only the boot hart runs.
# The code is position independent (pc-relative `la`), so it runs linked at
# 0x8000_0000 (webkvm) or 0x8040_0000 (QEMU behind OpenSBI).

    .option norvc
    .text
    .globl _start

# --- platform constants (QEMU `virt` layout) --------------------------------
    .equ UART_BASE,   0x10000000   # 16550, byte registers, reg-shift 0
    .equ UART_RBR,    0            # receive buffer (read, DLAB=0)
    .equ UART_THR,    0            # transmit holding (write, DLAB=0)
    .equ UART_IER,    1            # interrupt enable
    .equ UART_LCR,    3            # line control
    .equ UART_LSR,    5            # line status
    .equ LSR_DR,      0x01         # a received byte is waiting
    .equ LSR_THRE,    0x20         # THR can take another byte

# --- SBI (v2.0) -------------------------------------------------------------
    .equ SBI_EXT_SRST,        0x53525354   # "SRST"
    .equ SBI_SRST_RESET,      0            # FID: system_reset(type, reason)
    .equ SRST_TYPE_SHUTDOWN,  0
    .equ SRST_REASON_NONE,    0
    .equ SBI_EXT_LEGACY_SHUTDOWN, 0x08

    .equ CTRL_D,      0x04
    .equ CR,          0x0d
    .equ LF,          0x0a

_start:
    # A stack for the two-level calls below (puts -> putc).  It lives in the
    # 4 KiB of RAM right after the image, which nothing else uses.
    la      sp, image_end
    li      t0, 4096
    add     sp, sp, t0

    # Put the UART in a known state without losing input that may already be
    # waiting: 8 data bits, no parity, 1 stop bit (LCR=3, which also clears
    # DLAB), and no UART interrupts (this version polls).  FCR is left alone
    # on purpose: writing it can flush the receive FIFO.
    li      s0, UART_BASE
    li      t0, 0x03
    sb      t0, UART_LCR(s0)
    sb      zero, UART_IER(s0)

    # Banner.
    la      a0, banner
    call    puts

# Echo loop: one byte in, one (or two) bytes out.
echo_loop:
    call    getc                   # a0 = next byte typed (blocks by polling)
    li      t0, CTRL_D
    beq     a0, t0, power_off
    li      t0, CR
    bne     a0, t0, 1f
    # '\r' from a terminal's Enter key: echo "\r\n".
    call    putc                   # a0 is still '\r'
    li      a0, LF
1:
    call    putc
    j       echo_loop

# Ctrl-D: say goodbye and ask the hypervisor to power the machine off.
power_off:
    la      a0, bye
    call    puts
    li      a7, SBI_EXT_SRST
    li      a6, SBI_SRST_RESET
    li      a0, SRST_TYPE_SHUTDOWN
    li      a1, SRST_REASON_NONE
    ecall
    # SRST does not return on success.  Fall back to the legacy call, then
    # park the hart if even that came back.
    li      a7, SBI_EXT_LEGACY_SHUTDOWN
    ecall
2:
    wfi
    j       2b

# putc(a0 = byte): wait until the transmitter has room, then write the byte.
# Clobbers t0, t1.
putc:
    li      t0, UART_BASE
1:
    lbu     t1, UART_LSR(t0)
    andi    t1, t1, LSR_THRE
    beqz    t1, 1b
    sb      a0, UART_THR(t0)
    ret

# getc() -> a0: wait until a byte has arrived, then read it.  Clobbers t0, t1.
getc:
    li      t0, UART_BASE
1:
    lbu     t1, UART_LSR(t0)
    andi    t1, t1, LSR_DR
    beqz    t1, 1b
    lbu     a0, UART_RBR(t0)
    ret

# puts(a0 = NUL-terminated string).  Saves ra and s1 on the stack because
# it calls putc.
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

# --- read-only data ---------------------------------------------------------
banner:
    .asciz  "webkvm hello: a polled 16550 UART console.\r\nType; Enter starts a new line, Ctrl-D powers off.\r\n"
bye:
    .asciz  "\r\nbye\r\n"

# The end of the image, page aligned: free RAM starts here.
    .balign 4096, 0
image_end:
