// Pure helpers of the host-memory and shadow-MMU explorer panels (no DOM, so
// they are unit-tested in Node): reading a gfn typed by a user, a gfn-table
// word in words, and the count of live shadow pages by role (the
// hypervisor's own reader, from fields.ts, as `webkvm stat` counts them).
import { HOST_PTE_PRESENT, HOST_PTE_SWAPPED, HOST_PTE_WRITABLE, PAGE_SHIFT } from './shared-layout.ts';

export { countShadowPages } from '../kvm/fields.ts';

/**
 * KSM_MERGES_PER_PASS of src/kvm/host-bulk.ts: merges one "Merge all identical
 * pages" pass does at most (test/ui/dirty-panels.test.ts compares the two).
 */
export const KSM_PASS_LIMIT = 64;

/** A number typed as hex (0x80010) or decimal; NaN if it is neither. */
export function parseGfn(text: string): number {
  const t = text.trim().toLowerCase();
  if (/^0x[0-9a-f]+$/.test(t)) return parseInt(t.slice(2), 16);
  if (/^\d+$/.test(t)) return Number(t);
  return NaN;
}

export type HostPageState = 'resident' | 'ksm' | 'swapped' | 'unbacked';

export function hostPteState(pte: number): HostPageState {
  if ((pte & HOST_PTE_PRESENT) !== 0) return (pte & HOST_PTE_WRITABLE) !== 0 ? 'resident' : 'ksm';
  return (pte & HOST_PTE_SWAPPED) !== 0 ? 'swapped' : 'unbacked';
}

/** A host PTE word of the gfn table, in words. */
export function describeHostPte(pte: number, refcount: (pfn: number) => number): string {
  const state = hostPteState(pte);
  const n = pte >>> PAGE_SHIFT;
  if (state === 'resident') return `resident, writable: host pfn 0x${n.toString(16)} (refcount ${refcount(n)})`;
  if (state === 'ksm') return `KSM-shared, read-only: host pfn 0x${n.toString(16)} (refcount ${refcount(n)})`;
  if (state === 'swapped') return `swapped out to swap slot ${n}`;
  return 'never backed (no host page yet)';
}
