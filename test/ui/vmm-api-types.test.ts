// src/ui/vmm-api.ts re-exports the data types src/kvm builds (type-only, so
// they cannot drift); what it writes out itself is the comlink contract: the
// API, its arguments and the answers VmmService shapes on the spot. Those must
// stay what the service takes and answers, or a panel would show "undefined"
// instead of failing. The checks are types, so drift fails
// `npx tsc --noEmit -p .`; the runtime test only keeps vitest from reporting
// an empty file.
import { describe, expect, it } from 'vitest';
import type { VmmService } from '../../src/kvm/vmm-service.ts';
import type * as U from '../../src/ui/vmm-api.ts';

/** True only if A and B are identical types (an optional field is told apart from a missing one). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const same = <T extends true>(): T => true as T;

/** What the service's method resolves to (comlink hands the UI the same value, cloned). */
type Answer<K extends keyof VmmService> = VmmService[K] extends (...a: never[]) => Promise<infer R> ? R : never;

export const CHECKS = [
  // The answers as the service builds them (the explanation plus its text lines).
  same<Same<U.AddressWalk, Answer<'explainAddress'>>>(),
  same<Same<U.PageInfo, Answer<'describePage'>>>(),
  same<Same<U.TortureCounters | null, Answer<'tortureStatus'>>>(),
  same<Same<U.DirtyLog, Answer<'getDirtyLog'>>>(),
  same<Same<U.VcpuRegs, Answer<'getRegs'>>>(),
  same<Same<U.LoadedProgram, Answer<'loadProgram'>>>(),
  same<Same<U.VmHandles, Answer<'createVm'>>>(),
  // A method's parameter is only checked both ways here (asApi below lets a method's parameters vary).
  same<Same<U.TortureStartOptions, Parameters<VmmService['startTorture']>[0]>>(),
];

// The service has every method of the UI's API, and each can stand in for it (arguments and answers).
const asApi: U.VmmApi = {} as VmmService;

describe('src/ui/vmm-api.ts is what the VMM service answers', () => {
  it('is checked by tsc: every answer the UI writes out is the same shape', () => {
    expect(CHECKS.every((c) => c === true)).toBe(true);
    expect(asApi).toBeDefined();
  });
});
