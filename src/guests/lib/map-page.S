# lib/map-page.S - map_page(a0 = va, a1 = pa, a2 = leaf flags): a 4 KiB Sv32
# mapping in the root table at the includer's word `root_pt`, creating the
# level-0 table on first use with the includer's alloc_page() (-> a0 = a
# zeroed 4 KiB frame).  The tables are reached at their physical addresses,
# so paging must be off or identity-map them; the caller does sfence.vma
# when needed.  Needs PTE_V.

map_page:
    addi    sp, sp, -32
    sw      ra, 28(sp)
    sw      s1, 24(sp)
    sw      s2, 20(sp)
    sw      s3, 16(sp)
    sw      s4, 12(sp)
    mv      s1, a0
    mv      s2, a1
    mv      s3, a2
    la      t0, root_pt
    lw      t0, 0(t0)
    srli    t1, s1, 22
    slli    t1, t1, 2
    add     s4, t0, t1             # s4 = &root[VPN1]
    lw      t1, 0(s4)
    andi    t2, t1, PTE_V
    bnez    t2, 1f
    call    alloc_page             # new level-0 table
    srli    t1, a0, 12
    slli    t1, t1, 10
    ori     t1, t1, PTE_V          # non-leaf: V only
    sw      t1, 0(s4)
1:
    srli    t1, t1, 10
    slli    t1, t1, 12             # level-0 table address
    srli    t2, s1, 12
    andi    t2, t2, 0x3ff
    slli    t2, t2, 2
    add     t1, t1, t2             # &table[VPN0]
    srli    t2, s2, 12
    slli    t2, t2, 10
    or      t2, t2, s3
    sw      t2, 0(t1)
    lw      s4, 12(sp)
    lw      s3, 16(sp)
    lw      s2, 20(sp)
    lw      s1, 24(sp)
    lw      ra, 28(sp)
    addi    sp, sp, 32
    ret
