# lib/puts.S - puts(a0 = NUL-terminated string), one putc per byte.  Saves
# ra and s1 on the stack because it calls putc (lib/putc.S, or the
# includer's own).

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
