// errno-style errors, as the KVM ioctls report them (api.txt: "-1 on error" with errno set).
// Every error a user can see is one of these: an errno name for scripts and a
// sentence that names the problem and where, for people.

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  E2BIG: 7,
  ENOEXEC: 8,
  EAGAIN: 11,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENXIO: 6,
  EINVAL: 22,
  ENOTTY: 25,
  ENOSPC: 28,
  ERANGE: 34,
  ENOSYS: 38,
} as const;

export type ErrnoName = keyof typeof ERRNO;

export class KvmError extends Error {
  readonly errno: number;
  constructor(readonly code: ErrnoName, message: string) {
    super(`${code}: ${message}`);
    this.name = 'KvmError';
    this.errno = ERRNO[code];
  }
}

/** Throw a KvmError unless `cond` holds. */
export function check(cond: unknown, code: ErrnoName, message: string): asserts cond {
  if (!cond) throw new KvmError(code, message);
}
