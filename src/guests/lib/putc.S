# lib/putc.S - putc(a0 = byte): polled UART transmit: wait until the
# transmitter has room, then write the byte.  Each LSR read and the THR write
# is an MMIO exit.  Clobbers t0, t1.  Needs lib/uart.S.

putc:
    li      t0, UART_BASE
1:
    lbu     t1, UART_LSR(t0)
    andi    t1, t1, LSR_THRE
    beqz    t1, 1b
    sb      a0, UART_THR(t0)
    ret
