# lib/spinlock.S - lock()/unlock(): the console spinlock, so lines printed by
# several harts do not interleave.  amoswap.w.aq returns the old value: 0
# means we took it.  While it is held, spin on a plain load (no stores, so
# the other harts' AMOs are not slowed by our retries); unlock is a release
# store (amoswap.w.rl).  The includer defines the word `console_lock` (0 =
# free) in its written data page.  Clobbers t0, t1.

lock:
    la      t0, console_lock
    li      t1, 1
1:
    amoswap.w.aq t1, t1, (t0)
    beqz    t1, 3f
2:
    lw      t1, 0(t0)
    bnez    t1, 2b
    li      t1, 1
    j       1b
3:
    ret

unlock:
    la      t0, console_lock
    amoswap.w.rl zero, zero, (t0)
    ret
