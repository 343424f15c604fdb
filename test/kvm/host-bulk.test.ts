// Bulk host operations (src/kvm/host-bulk.ts): kswapd-style random swap-out
// and a ksmd pass, on a single-threaded VM (no vCPU in guest mode, so flushes
// never wait).
import { describe, expect, it } from 'vitest';
import { HOST_PTE_PRESENT, HOST_PTE_SWAPPED, HOST_PTE_WRITABLE, HOSTOP_KSM_MERGES } from '../../src/kvm/fields.ts';
import { kvmKsmMergeIdentical, kvmSwapOutRandom } from '../../src/kvm/host-bulk.ts';
import { Kvm } from '../../src/kvm/kvm-host.ts';
import { gfnToTableIndex } from '../../src/kvm/memslot.ts';
import type { VmShared } from '../../src/kvm/shm.ts';
import { RAM, RAM_GFN, makeVm, pfnOf, writePhys } from './mmu-helpers.ts';

const pte = (vm: VmShared, gfn: number) => vm.gfnTable[gfnToTableIndex(vm, gfn)]!;

describe('bulk host operations', () => {
  it('swaps out exactly N random resident pages and leaves the others', () => {
    const vm = makeVm();
    for (let i = 0; i < 20; i++) pfnOf(vm, RAM_GFN + i);
    let seed = 1;
    const r = kvmSwapOutRandom(new Kvm(vm), 8, 0, () => ((seed = (seed * 48271) % 2147483647) / 2147483647));
    expect(r).toEqual({ done: 8, considered: 8, stoppedBy: '' });
    const states = Array.from({ length: 20 }, (_, i) => pte(vm, RAM_GFN + i));
    expect(states.filter((p) => (p & HOST_PTE_SWAPPED) !== 0)).toHaveLength(8);
    expect(states.filter((p) => (p & HOST_PTE_PRESENT) !== 0)).toHaveLength(12);
    expect(() => kvmSwapOutRandom(new Kvm(vm), 0)).toThrow(/EINVAL/);
  });

  it('stops with the errno when the swap area fills up', () => {
    const vm = makeVm(); // 16 MiB: 256 swap slots
    for (let i = 0; i < 300; i++) pfnOf(vm, RAM_GFN + i);
    const r = kvmSwapOutRandom(new Kvm(vm), 300);
    expect(r.done).toBe(256);
    expect(r.stoppedBy).toMatch(/^ENOSPC: swap-out: swap area full/);
  });

  it('a ksmd pass merges identical pages into the first of each kind, read-only, up to its limit', () => {
    const vm = makeVm();
    for (let i = 0; i < 6; i++) pfnOf(vm, RAM_GFN + i); // six zero pages
    writePhys(vm, RAM + 6 * 4096, 7); // two pages holding 7
    writePhys(vm, RAM + 7 * 4096, 7);
    writePhys(vm, RAM + 8 * 4096, 9); // one unique page
    const r = kvmKsmMergeIdentical(new Kvm(vm));
    expect(r).toEqual({ done: 6, considered: 9, stoppedBy: '' });
    const pfn = (g: number) => pte(vm, RAM_GFN + g) >>> 12;
    expect(new Set([0, 1, 2, 3, 4, 5].map(pfn)).size).toBe(1);
    expect(pfn(6)).toBe(pfn(7));
    expect(pfn(8)).not.toBe(pfn(6));
    expect(pte(vm, RAM_GFN + 3) & HOST_PTE_WRITABLE).toBe(0);
    expect(pte(vm, RAM_GFN + 8) & HOST_PTE_WRITABLE).toBe(HOST_PTE_WRITABLE);
    expect(vm.view('swap-map')[HOSTOP_KSM_MERGES]).toBe(6);
    // A second pass finds nothing new; a limit bounds a pass.
    expect(kvmKsmMergeIdentical(new Kvm(vm)).done).toBe(0);
    const vm2 = makeVm();
    for (let i = 0; i < 10; i++) pfnOf(vm2, RAM_GFN + i);
    expect(kvmKsmMergeIdentical(new Kvm(vm2), 0, 3).done).toBe(3);
  });
});
