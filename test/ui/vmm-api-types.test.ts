// The UI's copies of what the VMM worker structured-clones to it
// (src/ui/vmm-api.ts) must stay the shape src/kvm produces: the shadow-MMU
// explorer and page details (mmu-explain.ts), the torture counters
// (torture-run.ts), the bulk host operations (host-bulk.ts) and the dirty-log
// mode (dirty-collector.ts). Like race-types.test.ts, the checks are types, so
// drift fails `npx tsc --noEmit -p .`; and VmmService, which comlink exposes,
// must be usable as the UI's VmmApi method by method.
import { describe, expect, it } from 'vitest';
import type * as X from '../../src/kvm/mmu-explain.ts';
import type { TortureCounters } from '../../src/kvm/torture-run.ts';
import type { BulkResult } from '../../src/kvm/host-bulk.ts';
import type { DirtyLogMode } from '../../src/kvm/dirty-collector.ts';
import type { VmmService } from '../../src/kvm/vmm-service.ts';
import type * as U from '../../src/ui/vmm-api.ts';

/** True only if A and B are identical types (an optional field is told apart from a missing one). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const same = <T extends true>(): T => true as T;

/** What the service's method resolves to (comlink hands the UI the same value, cloned). */
type Answer<K extends keyof VmmService> = VmmService[K] extends (...a: never[]) => Promise<infer R> ? R : never;

export const CHECKS = [
  same<Same<U.HostPageInfo, X.HostPage>>(),
  same<Same<U.GuestStepView, X.GuestStep>>(),
  same<Same<U.ShadowPageInfo, X.ShadowPage>>(),
  same<Same<U.SpteView, X.SpteInfo>>(),
  same<Same<U.TortureCounters, TortureCounters>>(),
  same<Same<U.BulkResult, BulkResult>>(),
  same<Same<U.DirtyMode, DirtyLogMode>>(),
  // The answers as the service builds them (the explanation plus its text lines).
  same<Same<U.AddressWalk, Answer<'explainAddress'>>>(),
  same<Same<U.PageInfo, Answer<'describePage'>>>(),
  same<Same<U.TortureCounters | null, Answer<'tortureStatus'>>>(),
];

// The service has every method of the UI's API, and each can stand in for it (arguments and answers).
const asApi: U.VmmApi = {} as VmmService;

describe('src/ui/vmm-api.ts mirrors what the VMM service answers', () => {
  it('is checked by tsc: every mirrored type is the same shape', () => {
    expect(CHECKS.every((c) => c === true)).toBe(true);
    expect(asApi).toBeDefined();
  });
});
