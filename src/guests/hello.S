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

# --- platform constants (QEMU `virt` layout) and SBI (v2.0) ------------------
    .include "lib/uart.S"
    .include "lib/sbi.S"

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

# Ctrl-D: say goodbye and ask the hypervisor to power the machine off
# (SRST reason "none").
power_off:
    la      a0, bye
    call    puts
    li      a0, SRST_REASON_NONE
    j       shutdown

    .include "lib/shutdown.S"
    .include "lib/putc.S"

# getc() -> a0: wait until a byte has arrived, then read it.  Clobbers t0, t1.
getc:
    li      t0, UART_BASE
1:
    lbu     t1, UART_LSR(t0)
    andi    t1, t1, LSR_DR
    beqz    t1, 1b
    lbu     a0, UART_RBR(t0)
    ret

    .include "lib/puts.S"

# --- read-only data ---------------------------------------------------------
banner:
    .asciz  "webkvm hello: a polled 16550 UART console.\r\nType; Enter starts a new line, Ctrl-D powers off.\r\n"
bye:
    .asciz  "\r\nbye\r\n"

# The end of the image, page aligned: free RAM starts here.
    .balign 4096, 0
image_end:
