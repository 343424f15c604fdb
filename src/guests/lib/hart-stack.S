# lib/hart-stack.S - set_stack(s0 = hart id): sp = top of this hart's stack,
# the (s0 + 1)-th block of STACK_SIZE bytes after image_end.  The includer
# defines STACK_SIZE and the page-aligned label image_end (the end of its
# image).  Clobbers t0, t1.

set_stack:
    la      sp, image_end
    addi    t0, s0, 1
    li      t1, STACK_SIZE
    mul     t0, t0, t1
    add     sp, sp, t0
    ret
