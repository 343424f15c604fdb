# lib/put-dec.S - put_dec(a0 = unsigned value): decimal, no padding, through
# putc (lib/putc.S, or the includer's own).  Digits are produced least
# significant first into a small buffer on the stack (remu/divu), then
# printed in reverse.

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
