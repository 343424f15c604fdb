// The gfn->pfn ABA on an indirect shadow page (locking.txt 2.1, §2.4 / §7.1).
// vCPU 0 faults on a write-protected SPTE of an indirect page and reads it;
// meanwhile the host swaps pfn1 out, the guest repoints its PTE to gfn2, pfn1
// is reallocated to gfn2 and the SPTE comes back with the very same value.
// With the fast path allowed on indirect pages ('indirect-fast') the cmpxchg
// succeeds and marks gfn1: gfn2's write is in no dirty log. With the 3.6 rule
// (fast path on direct pages only) the fault takes the slow path, whose pinned
// pfn cannot be reused and whose notifier sequence forces a retry.
import { OP_GET_LOG, OP_CONTEXT, OP_STORE, OP_SWAP_OUT } from '../lane.ts';
import type { RaceEngine } from '../engine.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_INDIRECT_FAST_PF } from '../../unsafe.ts';
import { Q } from './quotes.ts';
import {
  GFN1, GFN2, GPTE_OF_VA, GPTE_RW, L1_PA, PRV_M, PRV_S, ROOT_PA, SATP, VA, gpte, hex, pagingVcpus,
} from './layout.ts';

/**
 * The script shared by aba-indirect and aba-pinned. `parkAt`: where vCPU 0's
 * write fault stops with the read SPTE in hand (the fast path's cmpxchg, or
 * the slow path after gfn_to_pfn when the fast path refuses the page).
 */
export async function abaScript(e: RaceEngine, parkAt: string, why: string): Promise<void> {
  e.mapGuest4k(ROOT_PA, L1_PA, VA, GFN1 * 4096, GPTE_RW);
  e.watchSpte({ label: `SPTE of va ${hex(VA)} (indirect shadow page)`, vcpu: 0, va: VA, nonpaging: false });
  e.watchGfn(GFN1, GFN2);
  e.watchTlb('vcpu0', VA);
  e.watchTlb('vcpu1', VA);
  await pagingVcpus(e, 'vcpu0', 'vcpu1');

  await e.command('vcpu0', OP_STORE, [VA, 1], 'done', {
    narrative: `vCPU 0 writes va ${hex(VA)}: the slow path shadows the guest's table with an indirect shadow page and maps gpte -> gfn1 ${hex(GFN1)} -> pfn1.`,
    quote: Q.abaStart,
  });
  await e.command('host', OP_GET_LOG, [], 'done', {
    narrative: 'The VMM collects the dirty log: gfn1 is reported and its SPTE write-protected (W cleared, HOST_WRITEABLE and MMU_WRITEABLE kept), so the next write faults.',
  });
  await e.command('vcpu0', OP_STORE, [VA, 3], { park: parkAt }, {
    narrative: `vCPU 0 writes again and faults on the write-protected SPTE. ${why}`,
    quote: Q.abaRead,
  }, { points: ['fast-pf:before-cmpxchg', 'slow-pf:after-pfn'] });
  await e.command('host', OP_SWAP_OUT, [GFN1], 'done', {
    narrative: 'The host swaps gfn1 out: invalidate_range_start zaps the SPTE through the rmap and pfn1 goes back to the pool, unless someone holds a reference to it.',
    quote: Q.abaSwap,
  });
  await e.silent('vcpu1', OP_CONTEXT, [PRV_M, 0]);
  await e.command('vcpu1', OP_STORE, [GPTE_OF_VA, gpte(GFN2 * 4096, GPTE_RW)], 'done', {
    narrative: `The guest kernel (on vCPU 1) repoints the PTE of va ${hex(VA)} from gfn1 to gfn2 ${hex(GFN2)}: a write to a shadowed page table, emulated.`,
    quote: Q.abaRepoint,
  });
  await e.silent('vcpu1', OP_CONTEXT, [PRV_S, SATP]);
  await e.command('vcpu1', OP_STORE, [VA, 2], 'done', {
    narrative: 'vCPU 1 writes va: the slow path walks the new gpte to gfn2, gives gfn2 its first host page (pfn1 again, if it was free) and installs the SPTE.',
    quote: Q.abaRealloc,
  });
  await e.command('host', OP_GET_LOG, [], 'done', {
    narrative: 'The VMM collects again: gfn2 is reported and its SPTE write-protected. If gfn2 got pfn1, the SPTE now holds exactly the value vCPU 0 read.',
    quote: Q.abaProblem,
  });
  await e.release('vcpu0', 'done', {
    narrative: 'vCPU 0 resumes its fault and finishes the write. The cmpxchg can only prove the SPTE value unchanged, not the gfn behind it.',
    quote: Q.abaCmpxchg,
  });
  await e.command('host', OP_GET_LOG, [], 'done', {
    narrative: 'The VMM collects once more. The checkers now look for a written page that no collection reported.',
    quote: Q.abaLost,
  });
}

export const abaIndirect: RaceScenario = {
  info: {
    name: 'aba-indirect',
    title: 'The gfn->pfn ABA on an indirect shadow page',
    source: 'locking.txt 2 "Fast page fault" case 1): The mapping from gfn to pfn (semantics §2.4, §7.1)',
    protection: 'fast page fault on direct shadow pages only (unsafe: indirect-fast)',
    lanes: ['vcpu0', 'host', 'vcpu1'],
    expectSafe: "the indirect page takes the slow path: the pinned pfn1 is not reused, the notifier sequence forces a retry, gfn2's write is logged",
    expectUnsafe: 'the cmpxchg succeeds on the recycled SPTE and marks gfn1: the write to gfn2 is missing from every dirty log',
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_INDIRECT_FAST_PF : 0),
  script: (e, unsafe) => abaScript(e, unsafe ? 'fast-pf:before-cmpxchg' : 'slow-pf:after-pfn', unsafe
    ? 'With indirect-fast the fast path takes it: it read the SPTE and the gfn (gfn1) and is about to cmpxchg.'
    : 'The page is indirect, so the fast path refuses it (3.6: direct only); the slow path pinned pfn1 with gfn_to_pfn and is about to take mmu_lock.'),
};
