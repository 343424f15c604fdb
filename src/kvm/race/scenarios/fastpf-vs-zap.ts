// The fast page fault against an MMU-notifier invalidation (semantics §7.6).
// vCPU 0's fast path has read a write-protected SPTE. The host starts swapping
// g out: invalidate_range_start takes mmu_lock, exchanges the SPTE with 0 (it
// is volatile: the D bit reaches the host page) and raises
// mmu_notifier_count. vCPU 0's cmpxchg then fails on the changed value; it
// faults again, takes the slow path, and under mmu_lock sees count != 0: it
// retries until invalidate_range_end, and maps whatever backs g then.
// The protection the retry loop shows is the count check of
// mmu_notifier_retry ('no-notifier-retry' removes it): without it the
// re-fault maps the old pfn, which the host frees a moment later. The zap's
// exchange ('plain-clear') is not what saves this interleaving: nothing sets D
// between the zap's read and its store here (that race is lost-dirty-bit).
import { OP_GET_LOG, OP_STORE, OP_SWAP_OUT } from '../lane.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_NO_NOTIFIER_RETRY } from '../../unsafe.ts';
import { RACE_RAM_GFN } from '../engine.ts';
import { Q } from './quotes.ts';
import { hex, physPage } from './layout.ts';

const GFN = RACE_RAM_GFN + 0x70;
const GPA = GFN * 4096;

export const fastpfVsZap: RaceScenario = {
  info: {
    name: 'fastpf-vs-zap',
    title: 'The fast page fault against an MMU-notifier zap (the sequence retry)',
    source: 'fast_page_fault vs kvm_mmu_notifier_invalidate_range_start/end and mmu_notifier_retry (semantics §7.6, §2.9, §6 T4)',
    protection: 'the zap exchanges the volatile SPTE (the cmpxchg fails); the slow fault retries while mmu_notifier_count != 0 (unsafe: no-notifier-retry)',
    lanes: ['vcpu0', 'host'],
    expectSafe: "the cmpxchg fails, the re-fault spins in the slow path until invalidate_range_end, then maps g's new page: clean",
    expectUnsafe: 'the re-fault maps the old pfn during the invalidation; the host then swaps g out and frees that pfn: an SPTE maps a free page',
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_NO_NOTIFIER_RETRY : 0),
  async script(e, unsafe) {
    await physPage(e, GFN, 'g, direct shadow page', 'vcpu0');
    await e.command('vcpu0', OP_STORE, [GPA, 1], 'done', {
      narrative: `vCPU 0 writes g ${hex(GFN)}: the slow path maps it writable; the write sets D.`,
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: 'The VMM collects: g reported, its SPTE write-protected (W cleared; D, HOST_WRITEABLE and MMU_WRITEABLE kept) and TLBs flushed.',
    });
    await e.command('vcpu0', OP_STORE, [GPA, 2], { park: 'fast-pf:before-cmpxchg' }, {
      narrative: 'vCPU 0 writes g: fault on the read-only SPTE, the fast path read it (no mmu_lock) and is about to cmpxchg W in.',
      quote: Q.fastPfIntro,
    });
    await e.command('host', OP_SWAP_OUT, [GFN], { park: 'notifier:after-start' }, {
      narrative: "The host starts swapping g out. invalidate_range_start, under mmu_lock: mmu_notifier_count = 1, the SPTE exchanged with 0 (its D bit goes to the host page: kvm_set_pfn_dirty), TLBs flushed. The host PTE still points at g's page; changing it and invalidate_range_end are next.",
      quote: Q.volatile,
    });
    await e.release('vcpu0', unsafe ? 'done' : 'blocked', {
      narrative: "vCPU 0's cmpxchg fails: the SPTE is 0, not the value it read. It faults again: not present, so the slow path reads mmu_notifier_seq, looks g's pfn up (the old page, still there), takes mmu_lock and asks mmu_notifier_retry: count != 0, retry, and again, until the range ends. With no-notifier-retry it maps the old pfn at once.",
      quote: Q.mmuLock,
    });
    await e.release('host', 'done', {
      narrative: "The swap-out goes on: g's contents go to a swap slot, the host PTE says swapped, the old pfn is freed; invalidate_range_end bumps the sequence and drops the count.",
    });
    if (!unsafe) {
      await e.join('vcpu0', {
        narrative: 'The count is 0 again: the next retry finds nothing to stop it, swaps g in (a new page) and maps it. The write lands there.',
      });
    }
    await e.command('vcpu0', OP_STORE, [GPA, 3], 'done', {
      narrative: "vCPU 0 writes g once more: through the SPTE that maps g's page now, or, unprotected, into the freed pfn.",
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: 'A final collection; the checkers compare every SPTE with the host page backing its gfn.',
    });
  },
};
