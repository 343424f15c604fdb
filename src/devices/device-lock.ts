// A small mutex in one Int32 word of `hv`, for device state that several vCPU
// workers change together (UART registers, PLIC claim/complete, the console
// ring producers). It is not the hypervisor's mmu_lock (src/kvm owns that, with
// statistics); it only serialises a few dozen instructions of device emulation.
//
// Word values: 0 free, 1 held, 2 held and somebody may be sleeping on it
// (the classic futex mutex). A waiter spins briefly, because critical sections
// are tiny, then sleeps on Atomics.wait: with more vCPU workers than cores the
// holder may be descheduled, and spinning against it would burn the core it
// needs. A thread that may not block (a browser main thread) only spins; no
// device lock is ever taken there in practice, this just keeps it safe.

const SPIN_LIMIT = 100;

/** How long one sleep lasts before re-checking, in ms (a lost notify cannot hang us). */
const SLEEP_MS = 2;

let blockingAllowed: boolean | undefined;

/** Whether this thread may call Atomics.wait (false on a browser main thread). */
function canBlock(): boolean {
  if (blockingAllowed === undefined) {
    try {
      // The value differs, so where waiting is allowed this returns "not-equal"
      // at once; where it is not, it throws before comparing.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blockingAllowed = true;
    } catch {
      blockingAllowed = false;
    }
  }
  return blockingAllowed;
}

/** Take the lock at view[index], waiting as long as needed. */
export function lockDevice(view: Int32Array, index: number): void {
  if (Atomics.compareExchange(view, index, 0, 1) === 0) return;
  for (let spin = 0; spin < SPIN_LIMIT; spin++) {
    // Read-only spin: only try the CAS when the word looks free.
    if (Atomics.load(view, index) === 0 && Atomics.compareExchange(view, index, 0, 1) === 0) return;
  }
  const block = canBlock();
  // Announce a waiter (2) so the holder's unlock notifies; exchanging returns 0
  // exactly when we got the lock (and we then hold it marked contended, which
  // only costs one spare notify).
  while (Atomics.exchange(view, index, 2) !== 0) {
    if (block) Atomics.wait(view, index, 2, SLEEP_MS);
  }
}

/** Take the lock only if it is free right now. */
export function tryLockDevice(view: Int32Array, index: number): boolean {
  return Atomics.compareExchange(view, index, 0, 1) === 0;
}

/** Release a lock taken with lockDevice or tryLockDevice. */
export function unlockDevice(view: Int32Array, index: number): void {
  if (Atomics.exchange(view, index, 0) === 2) Atomics.notify(view, index, 1);
}
