// Pure helpers of the host-memory and shadow-MMU explorer panels (no DOM, so
// they are unit-tested in Node): reading a gfn typed by a user, a gfn-table
// word in words, and the count of live shadow pages by role.
import {
  HOST_PTE_PRESENT, HOST_PTE_SWAPPED, HOST_PTE_WRITABLE, PAGE_SHIFT, ROLE_DIRECT, ROLE_INVALID, SP_FLAG_IN_USE, SP_FLAGS,
  SP_META_WORDS, SP_ROLE,
} from './shared-layout.ts';

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

/** Live shadow pages by role, as countShadowPages in src/kvm/stats.ts counts them. */
export function countShadowPages(meta: Int32Array): { direct: number; indirect: number } {
  let direct = 0;
  let indirect = 0;
  for (let m = 0; m + SP_META_WORDS <= meta.length; m += SP_META_WORDS) {
    if ((Atomics.load(meta, m + SP_FLAGS) & SP_FLAG_IN_USE) === 0) continue;
    const role = Atomics.load(meta, m + SP_ROLE);
    if ((role & ROLE_INVALID) !== 0) continue;
    if ((role & ROLE_DIRECT) !== 0) direct++;
    else indirect++;
  }
  return { direct, indirect };
}
