# hello-irq.S - the console echo of hello.S, driven by interrupts.
#
# What it demonstrates
#   The interrupt path instead of polling: the UART raises IRQ 10 when a
#   byte arrives, the PLIC forwards it to this hart's S-mode context as a
#   supervisor external interrupt (SEI, delegated to S by the hypervisor as
#   OpenSBI does), and the kernel claims it from the PLIC, drains the UART,
#   and completes it (the "EOI").  Between keystrokes the hart sleeps in
#   wfi, so an idle vCPU costs no host CPU; compare the exit counters with
#   hello.S, which spins on LSR.  The claim and complete are MMIO exits:
#   that complete write is what paravirtual EOI later avoids.
#
# What it does
#   Banner, then the same echo as hello.S ('\r' echoed as "\r\n"); Ctrl-D
#   (0x04) prints "bye" and powers off with SBI SRST (reason 0).
#
# PLIC layout (QEMU `virt`, as in webkvm): source priorities at +4*irq,
# context c's enable bits at 0x2000 + 0x80*c, its threshold at
# 0x20_0000 + 0x1000*c and claim/complete 4 bytes after.  Hart h's S-mode
# context is c = 2*h + 1 (context 2*h is its M-mode one).
#
# Boot contract: S-mode, paging off, a0 = hart id, a1 = 0.  Position
# independent.  Only the boot hart runs.

    .option norvc
    .text
    .globl _start

    .include "lib/uart.S"
    .equ IER_RX,      0x01         # interrupt when received data is available
    .equ UART_IRQ,    10

    .equ PLIC_BASE,       0x0c000000
    .equ PLIC_ENABLE,     0x2000   # + 0x80 * context
    .equ PLIC_CONTEXT,    0x200000 # + 0x1000 * context: threshold, claim at +4

    .equ SIE_SEIE,        0x200    # sie bit 9
    .equ SSTATUS_SIE,     0x2
    .equ SCAUSE_SEI,      0x80000009

    .include "lib/sbi.S"

    .equ CTRL_D,      0x04
    .equ CR,          0x0d
    .equ LF,          0x0a

_start:
    mv      s0, a0                 # hart id
    la      sp, image_end
    li      t0, 4096
    add     sp, sp, t0

    # UART: 8N1, interrupts off until the PLIC is ready.
    li      t0, UART_BASE
    li      t1, 0x03
    sb      t1, UART_LCR(t0)
    sb      zero, UART_IER(t0)

    la      a0, banner
    call    puts

    # Traps (here: only interrupts) go to irq_trap.
    la      t0, irq_trap
    csrw    stvec, t0

    # PLIC: s1 = this hart's S-mode context = 2 * hartid + 1.
    slli    s1, s0, 1
    addi    s1, s1, 1
    li      t0, PLIC_BASE
    li      t1, 1
    sw      t1, 40(t0)             # priority of IRQ 10 (at 4 * 10): 1 (0 = never)
    li      t1, 0x80
    mul     t1, t1, s1
    li      t2, PLIC_ENABLE
    add     t1, t1, t2
    add     t1, t1, t0             # enable word 0 of our context
    li      t2, 1 << UART_IRQ
    sw      t2, 0(t1)
    li      t1, 0x1000
    mul     t1, t1, s1
    li      t2, PLIC_CONTEXT
    add     t1, t1, t2
    add     t1, t1, t0             # our threshold register
    sw      zero, 0(t1)            # threshold 0: every priority > 0 passes
    addi    t1, t1, 4
    la      t2, plic_claim
    sw      t1, 0(t2)              # keep the claim/complete address

    # UART: interrupt on received data.  Then unmask SEI and enable S-mode
    # interrupts; bytes already waiting raise the interrupt at once.
    li      t0, UART_BASE
    li      t1, IER_RX
    sb      t1, UART_IER(t0)
    li      t0, SIE_SEIE
    csrs    sie, t0

# Idle loop: the handler does the work and sets `quit` on Ctrl-D.  `quit` is
# tested with interrupts off, and wfi is entered with them still off: wfi
# wakes on any pending enabled interrupt regardless of sstatus.SIE, and the
# interrupt is then taken at the csrsi.  (Testing with SIE on could take the
# Ctrl-D interrupt just before wfi and then sleep forever.)
idle:
    csrci   sstatus, SSTATUS_SIE
    la      t0, quit
    lw      t0, 0(t0)
    bnez    t0, power_off
    wfi
    csrsi   sstatus, SSTATUS_SIE
    j       idle

power_off:
    la      a0, bye
    call    puts
    li      a0, SRST_REASON_NONE
    j       shutdown

    .include "lib/shutdown.S"

# ---------------------------------------------------------------------------
# Trap handler.  Saves the registers it and its callees use, since it
# interrupts arbitrary code (here only the idle loop, but be honest).
irq_trap:
    addi    sp, sp, -48
    sw      ra, 0(sp)
    sw      t0, 4(sp)
    sw      t1, 8(sp)
    sw      t2, 12(sp)
    sw      a0, 16(sp)
    sw      s1, 20(sp)
    sw      s2, 24(sp)

    csrr    t0, scause
    li      t1, SCAUSE_SEI
    bne     t0, t1, unexpected

    # Claim: the PLIC hands us the highest-priority pending source (0 if
    # another context already took it).
    la      t0, plic_claim
    lw      s2, 0(t0)              # s2 = claim/complete register
    lw      s1, 0(s2)              # s1 = source id
    beqz    s1, 3f
    li      t0, UART_IRQ
    bne     s1, t0, 2f

    # Drain every byte the UART holds, echoing each.
1:
    li      t0, UART_BASE
    lbu     t1, UART_LSR(t0)
    andi    t1, t1, LSR_DR
    beqz    t1, 2f
    lbu     a0, UART_RBR(t0)
    call    handle_byte
    j       1b
2:
    sw      s1, 0(s2)              # complete: the EOI for this source
3:
    lw      ra, 0(sp)
    lw      t0, 4(sp)
    lw      t1, 8(sp)
    lw      t2, 12(sp)
    lw      a0, 16(sp)
    lw      s1, 20(sp)
    lw      s2, 24(sp)
    addi    sp, sp, 48
    sret

# Not an external interrupt: nothing else is enabled, so this is a bug.
unexpected:
    la      a0, msg_unexpected
    call    puts
    li      a0, 0
    li      a1, 1                  # reason: system failure
    li      a6, 0
    li      a7, SBI_EXT_SRST
    ecall
4:
    wfi
    j       4b

# handle_byte(a0): echo it ("\r" -> "\r\n"), or flag Ctrl-D.
handle_byte:
    addi    sp, sp, -16
    sw      ra, 12(sp)
    li      t0, CTRL_D
    bne     a0, t0, 1f
    la      t0, quit
    li      t1, 1
    sw      t1, 0(t0)
    j       3f
1:
    li      t0, CR
    bne     a0, t0, 2f
    call    putc
    li      a0, LF
2:
    call    putc
3:
    lw      ra, 12(sp)
    addi    sp, sp, 16
    ret

    .include "lib/putc.S"
    .include "lib/puts.S"

banner:
    .asciz  "webkvm hello-irq: the UART console, interrupt driven (PLIC, IRQ 10).\r\nType; Enter starts a new line, Ctrl-D powers off.\r\n"
bye:
    .asciz  "\r\nbye\r\n"
msg_unexpected:
    .asciz  "\r\nhello-irq: unexpected trap\r\n"

# Written data on its own page.
    .balign 4096, 0
plic_claim: .word 0                # address of our claim/complete register
quit:       .word 0                # set by the handler on Ctrl-D

    .balign 4096, 0
image_end:
