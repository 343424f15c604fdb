// The numbers of the RISC-V SBI binary interface (SBI spec v2.0,
// riscv-non-isa/riscv-sbi-doc) that our hypervisor speaks, plus the two
// project extensions in the experimental range. docs/guest-abi.md lists them
// for guest authors; this file is the source of truth for the code.

// ---- standard errors (sbiret.error) ----------------------------------------------
export const SBI_SUCCESS = 0;
export const SBI_ERR_FAILED = -1;
export const SBI_ERR_NOT_SUPPORTED = -2;
export const SBI_ERR_INVALID_PARAM = -3;
export const SBI_ERR_DENIED = -4;
export const SBI_ERR_INVALID_ADDRESS = -5;
export const SBI_ERR_ALREADY_AVAILABLE = -6;
export const SBI_ERR_ALREADY_STARTED = -7;
export const SBI_ERR_ALREADY_STOPPED = -8;
/** v2.0, for shared-memory extensions we do not implement; listed for completeness. */
export const SBI_ERR_NO_SHMEM = -9;

// ---- versions and identity ----------------------------------------------------------
/** Spec v2.0: major in bits 30..24, minor in bits 23..0. */
export const SBI_SPEC_VERSION = (2 << 24) | 0;
/**
 * Our implementation ID. The spec assigns 0..11 (BBL, OpenSBI, Xvisor, KVM,
 * RustSBI, Diosix, Coffer, Xen, PolarFire HSS, coreboot, oreboot, bhyve); we
 * take a number far from that range so a future assignment cannot collide:
 * ASCII "webk".
 */
export const SBI_IMPL_ID = 0x7765_626b;
/** Our implementation version: (major << 16) | (minor << 8) | patch of webkvm, 0.1.0. */
export const SBI_IMPL_VERSION = (0 << 16) | (1 << 8) | 0;

// ---- extension IDs (a7) ---------------------------------------------------------------
export const SBI_EXT_LEGACY_SET_TIMER = 0x00;
export const SBI_EXT_LEGACY_CONSOLE_PUTCHAR = 0x01;
export const SBI_EXT_LEGACY_CONSOLE_GETCHAR = 0x02;
export const SBI_EXT_LEGACY_CLEAR_IPI = 0x03;
export const SBI_EXT_LEGACY_SEND_IPI = 0x04;
export const SBI_EXT_LEGACY_REMOTE_FENCE_I = 0x05;
export const SBI_EXT_LEGACY_REMOTE_SFENCE_VMA = 0x06;
export const SBI_EXT_LEGACY_REMOTE_SFENCE_VMA_ASID = 0x07;
export const SBI_EXT_LEGACY_SHUTDOWN = 0x08;
/** Legacy EIDs are 0x00..0x0F (0x09..0x0F reserved). */
export const SBI_EXT_LEGACY_LAST = 0x0f;

export const SBI_EXT_BASE = 0x10;
export const SBI_EXT_TIME = 0x5449_4d45; // "TIME"
export const SBI_EXT_IPI = 0x73_5049; // "sPI"
export const SBI_EXT_RFENCE = 0x5246_4e43; // "RFNC"
export const SBI_EXT_HSM = 0x48_534d; // "HSM"
export const SBI_EXT_SRST = 0x5352_5354; // "SRST"
export const SBI_EXT_DBCN = 0x4442_434e; // "DBCN"

/** Experimental range reserved by the spec for extensions like ours. */
export const SBI_EXT_EXPERIMENTAL_FIRST = 0x0800_0000;
export const SBI_EXT_EXPERIMENTAL_LAST = 0x08ff_ffff;
/** webkvm paravirtual MSRs: 0x08 + ASCII "KVM", after KVM's MSR prefix 0x4b564d. */
export const SBI_EXT_WEBKVM_PVMSR = 0x084b_564d;
/** webkvm PAPR hashed-page-table hypercalls: 0x08 + ASCII "PAP". */
export const SBI_EXT_WEBKVM_PAPR = 0x0850_4150;

// ---- function IDs (a6) ----------------------------------------------------------------
export const SBI_BASE_GET_SPEC_VERSION = 0;
export const SBI_BASE_GET_IMPL_ID = 1;
export const SBI_BASE_GET_IMPL_VERSION = 2;
export const SBI_BASE_PROBE_EXTENSION = 3;
export const SBI_BASE_GET_MVENDORID = 4;
export const SBI_BASE_GET_MARCHID = 5;
export const SBI_BASE_GET_MIMPID = 6;

export const SBI_TIME_SET_TIMER = 0;

export const SBI_IPI_SEND_IPI = 0;

export const SBI_RFENCE_REMOTE_FENCE_I = 0;
export const SBI_RFENCE_REMOTE_SFENCE_VMA = 1;
export const SBI_RFENCE_REMOTE_SFENCE_VMA_ASID = 2;
export const SBI_RFENCE_REMOTE_HFENCE_GVMA_VMID = 3;
export const SBI_RFENCE_REMOTE_HFENCE_GVMA = 4;
export const SBI_RFENCE_REMOTE_HFENCE_VVMA_ASID = 5;
export const SBI_RFENCE_REMOTE_HFENCE_VVMA = 6;

export const SBI_HSM_HART_START = 0;
export const SBI_HSM_HART_STOP = 1;
export const SBI_HSM_HART_GET_STATUS = 2;
export const SBI_HSM_HART_SUSPEND = 3;

export const SBI_SRST_SYSTEM_RESET = 0;

export const SBI_DBCN_CONSOLE_WRITE = 0;
export const SBI_DBCN_CONSOLE_READ = 1;
export const SBI_DBCN_CONSOLE_WRITE_BYTE = 2;

// ---- HSM ------------------------------------------------------------------------------
export const SBI_HSM_STATE_STARTED = 0;
export const SBI_HSM_STATE_STOPPED = 1;
export const SBI_HSM_STATE_START_PENDING = 2;
export const SBI_HSM_STATE_STOP_PENDING = 3;
export const SBI_HSM_STATE_SUSPENDED = 4;
export const SBI_HSM_STATE_SUSPEND_PENDING = 5;
export const SBI_HSM_STATE_RESUME_PENDING = 6;

export const SBI_HSM_SUSPEND_RET_DEFAULT = 0x0000_0000;
export const SBI_HSM_SUSPEND_NON_RET_DEFAULT = 0x8000_0000;

// ---- SRST -----------------------------------------------------------------------------
export const SBI_SRST_TYPE_SHUTDOWN = 0;
export const SBI_SRST_TYPE_COLD_REBOOT = 1;
export const SBI_SRST_TYPE_WARM_REBOOT = 2;
export const SBI_SRST_REASON_NONE = 0;
export const SBI_SRST_REASON_SYSTEM_FAILURE = 1;

// ---- what SbiHost.remoteFence is asked to do --------------------------------------------
export const SBI_FENCE_I = 0;
export const SBI_FENCE_SFENCE_VMA = 1;
export const SBI_FENCE_SFENCE_VMA_ASID = 2;
/** The size remoteFence gets for "the whole address space" (2^32 on RV32). */
export const SBI_FENCE_ALL = 0x1_0000_0000;

// ---- project extensions: reserved numbers (see docs/guest-abi.md) --------------------------
// Paravirtual MSRs, KVM's numbers (arch/x86/include/asm/kvm_para.h, msr-index.h).
export const MSR_IA32_TSC = 0x10;
export const MSR_KVM_STEAL_TIME = 0x4b56_4d03;
export const MSR_KVM_EOI_EN = 0x4b56_4d04;
export const SBI_PVMSR_READ = 0; // (index) -> low 32 bits
export const SBI_PVMSR_READ_HI = 1; // (index) -> high 32 bits
export const SBI_PVMSR_WRITE = 2; // (index, lo, hi)

// PAPR hcalls: FID = the hcall opcode (include/asm/hvcall.h).
export const H_REMOVE = 0x04;
export const H_ENTER = 0x08;
export const H_READ = 0x0c;
export const H_PROTECT = 0x18;
export const H_BULK_REMOVE = 0x124;
// PAPR return codes (a0 of the PAPR extension).
export const H_SUCCESS = 0;
export const H_HARDWARE = -1;
/** "Function not supported": numerically equal to SBI_ERR_NOT_SUPPORTED, on purpose. */
export const H_FUNCTION = -2;
export const H_PRIVILEGE = -3;
export const H_PARAMETER = -4;
export const H_PTEG_FULL = -6;
export const H_NOT_FOUND = -7;
