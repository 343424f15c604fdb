// Exit codes of `webkvm run` (documented in README.md and docs/guest-abi.md).
//
// A guest's own exit code passes through unchanged when it fits in 1..GUEST_MAX,
// so a riscv-tests failure (HTIF code = the failing test number) shows as that
// number. The codes above GUEST_MAX belong to webkvm and never collide with a
// guest's.

export const EXIT_OK = 0;
/** Largest guest exit code passed through as is; larger ones are reported as GUEST_MAX. */
export const EXIT_GUEST_MAX = 119;
/** The guest hit --max-insns or --timeout without exiting (a hang). */
export const EXIT_HANG = 124;
/** Bad input: unknown option, unreadable or malformed ELF, assembly errors. */
export const EXIT_BAD_INPUT = 125;
/** The guest took a trap it had no working handler for (e.g. mtvec pointing nowhere). */
export const EXIT_GUEST_TRAP = 126;
/** webkvm itself failed (a bug): the message says where. */
export const EXIT_INTERNAL = 127;

export function guestExitCode(code: number): number {
  if (code === 0) return EXIT_OK;
  if (code < 0 || code > EXIT_GUEST_MAX) return EXIT_GUEST_MAX;
  return code;
}
