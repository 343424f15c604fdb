// The guest's physical address map: QEMU's `virt` board, so guests (and
// toolchains, and people's memories) built for `qemu-system-riscv32 -M virt`
// find their devices where they expect them. docs/guest-abi.md is the
// human-readable version of this file; keep the two in step.

/** Guest RAM starts here (the size is chosen when the VM is created). */
export const RAM_BASE = 0x8000_0000;

/** SiFive-compatible CLINT: msip, mtimecmp, mtime (ACLINT MSWI + MTIMER layout). */
export const CLINT_BASE = 0x0200_0000;
export const CLINT_SIZE = 0x1_0000;

/** RISC-V PLIC, as QEMU sizes it for its maximum hart count (holes read as zero). */
export const PLIC_BASE = 0x0c00_0000;
export const PLIC_SIZE = 0x60_0000;

/** NS16550A UART, byte registers, reg-shift 0. The window is 0x100; only 8 bytes decode. */
export const UART0_BASE = 0x1000_0000;
export const UART0_SIZE = 0x100;

/** PLIC source numbers of the board's devices (QEMU `virt` numbering). */
export const UART0_IRQ = 10;

/** The platform timebase: mtime counts at 10 MHz, as on QEMU `virt`. */
export const TIMEBASE_HZ = 10_000_000;

/**
 * Most vCPUs a VM may have. SBI hart masks and our per-vCPU bitmasks are one
 * 32-bit word, and the PLIC has one M and one S context per hart.
 */
export const MAX_VCPUS = 32;
