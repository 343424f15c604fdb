# lib/put-hex.S - put_hex(a0): "0x" and eight hex digits, most significant
# first, through putc (lib/putc.S, or the includer's own).

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
