// Variant of the ABA: the same interleaving on a *direct* shadow page (the
// guest-physical map). The SPTE's place fixes its gfn, so even when the
// recycled SPTE has the very same value the cmpxchg marks the right gfn:
// harmless with or without 'indirect-fast' (that switch only concerns
// indirect pages). Both settings must end clean.
import { OP_GET_LOG, OP_STORE, OP_SWAP_OUT } from '../lane.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_INDIRECT_FAST_PF } from '../../unsafe.ts';
import { Q } from './quotes.ts';
import { GFN1, hex, physPage } from './layout.ts';

const GPA = GFN1 * 4096;

export const abaDirect: RaceScenario = {
  info: {
    name: 'aba-direct',
    title: 'The same ABA on a direct shadow page is harmless',
    source: 'locking.txt 2 "Fast page fault" case 1): "For direct sp, we can easily avoid it" (semantics §2.4, §7.1 variant)',
    protection: 'none needed: a direct SPTE is fixed to its gfn (unsafe: indirect-fast, which changes nothing here)',
    lanes: ['vcpu0', 'host', 'vcpu1'],
    expectSafe: 'the recycled SPTE still stands for gfn1, so marking gfn1 is right: clean',
    expectUnsafe: 'still clean: indirect-fast only concerns indirect pages, and a direct SPTE cannot change gfn',
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_INDIRECT_FAST_PF : 0),
  oopsWhenUnsafe: false,
  async script(e) {
    await physPage(e, GFN1, 'direct shadow page', 'vcpu0', 'vcpu1');
    await e.command('vcpu0', OP_STORE, [GPA, 1], 'done', {
      narrative: `vCPU 0 writes guest-physical ${hex(GPA)}: the direct map (a direct shadow page) maps gfn1 -> pfn1.`,
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: 'The VMM collects: gfn1 is reported and its SPTE write-protected (MMU_WRITEABLE kept).',
    });
    await e.command('vcpu0', OP_STORE, [GPA, 3], { park: 'fast-pf:before-cmpxchg' }, {
      narrative: 'vCPU 0 writes again; the fast path takes the fault (direct page) and has read the SPTE. Its gfn comes from the page and the index, not from a guest PTE.',
      quote: Q.abaRead,
    });
    await e.command('host', OP_SWAP_OUT, [GFN1], 'done', {
      narrative: 'The host swaps gfn1 out: the SPTE is zapped and pfn1 freed.',
      quote: Q.abaSwap,
    });
    await e.command('vcpu1', OP_STORE, [GPA, 2], 'done', {
      narrative: 'vCPU 1 writes gfn1: it is swapped in (to pfn1 again, if free) and the same SPTE slot is filled again, for gfn1 again.',
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: 'The VMM collects: gfn1 reported, SPTE write-protected: maybe the very value vCPU 0 read.',
    });
    await e.release('vcpu0', 'done', {
      narrative: 'vCPU 0 resumes: whether its cmpxchg succeeds or not, the SPTE it fixes can only stand for gfn1, so marking gfn1 is right.',
      quote: Q.direct,
    });
    await e.command('host', OP_GET_LOG, [], 'done', { narrative: 'Final collection; the checkers look for a lost write.' });
  },
};
