# lib/uart.S - the 16550 UART of the virt machine: register offsets and bits.
# Constants only; .include it before code that uses them.

    .equ UART_BASE,   0x10000000   # 16550, byte registers, reg-shift 0
    .equ UART_RBR,    0            # receive buffer (read, DLAB=0)
    .equ UART_THR,    0            # transmit holding (write, DLAB=0)
    .equ UART_IER,    1            # interrupt enable
    .equ UART_LCR,    3            # line control
    .equ UART_LSR,    5            # line status
    .equ LSR_DR,      0x01         # a received byte is waiting
    .equ LSR_THRE,    0x20         # THR can take another byte
