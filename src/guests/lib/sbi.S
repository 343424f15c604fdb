# lib/sbi.S - SBI extension and function ids the guests call (ecall: a7 =
# extension, a6 = function; a0 = error, a1 = value on return).  Constants
# only; .include it before code that uses them.

    .equ SBI_EXT_BASE,       0x10
    .equ SBI_BASE_PROBE_EXT, 3
    .equ SBI_EXT_IPI,        0x735049      # "sPI"
    .equ SBI_IPI_SEND,       0
    .equ SBI_EXT_HSM,        0x48534d      # "HSM"
    .equ SBI_HSM_HART_START, 0
    .equ SBI_HSM_HART_STOP,  1
    .equ SBI_EXT_SRST,       0x53525354    # "SRST"
    .equ SBI_SRST_RESET,     0             # FID: system_reset(type, reason)
    .equ SRST_TYPE_SHUTDOWN, 0
    .equ SRST_REASON_NONE,   0
    .equ SBI_EXT_DBCN,       0x4442434e    # "DBCN"
    .equ SBI_DBCN_WRITE_BYTE, 2
    .equ SBI_EXT_LEGACY_PUTCHAR,  0x01
    .equ SBI_EXT_LEGACY_SHUTDOWN, 0x08
    .equ SBI_ERR_INVALID_PARAM, -3
