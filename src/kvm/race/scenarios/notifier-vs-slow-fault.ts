// The MMU-notifier sequence against a slow page fault (semantics §7.9, §2.9).
// The fault reads mmu_notifier_seq and looks g's pfn P up outside mmu_lock
// (P pinned). Meanwhile the host swaps g out: invalidate_range_start/end run
// to the end, g's host PTE says "swapped", the sequence moves. When the fault
// takes mmu_lock, mmu_notifier_retry sees the new sequence and the fault
// retries (and swaps g back in). With 'no-notifier-retry' it installs P, a
// page that backs nothing any more and is freed when the fault drops its pin:
// the guest then writes into a free page.
import { OP_GET_LOG, OP_STORE, OP_SWAP_OUT } from '../lane.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_NO_NOTIFIER_RETRY } from '../../unsafe.ts';
import { RACE_RAM_GFN } from '../engine.ts';
import { Q } from './quotes.ts';
import { hex, physPage } from './layout.ts';

const GFN = RACE_RAM_GFN + 0x78;
const GPA = GFN * 4096;

export const notifierVsSlowFault: RaceScenario = {
  info: {
    name: 'notifier-vs-slow-fault',
    title: 'The MMU-notifier sequence against a slow page fault',
    source: 'mmu_notifier_seq / mmu_notifier_retry in the slow page fault vs invalidate_range_start/end (semantics §7.9, §2.9, §6 T4)',
    protection: 'read mmu_notifier_seq before gfn_to_pfn, retry under mmu_lock if it moved or the count is non-zero (unsafe: no-notifier-retry)',
    lanes: ['vcpu0', 'host'],
    expectSafe: 'the fault sees the sequence moved and retries; the retry swaps g in and maps its new page: clean',
    expectUnsafe: 'the fault installs the pfn it looked up, which the swap-out freed: an SPTE maps a free page and the write goes there',
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_NO_NOTIFIER_RETRY : 0),
  async script(e) {
    await physPage(e, GFN, 'g, direct shadow page', 'vcpu0');
    await e.command('vcpu0', OP_STORE, [GPA, 2], { park: 'slow-pf:after-pfn' }, {
      narrative: `vCPU 0 writes g ${hex(GFN)} for the first time: no SPTE, so the slow path. It read mmu_notifier_seq, then gfn_to_pfn gave g its host page P and pinned it. mmu_lock and the install are next.`,
      quote: Q.mmuLock,
    }, { points: ['slow-pf:after-pfn'], arg: GFN });
    await e.command('host', OP_SWAP_OUT, [GFN], 'done', {
      narrative: "Meanwhile the host swaps g out: invalidate_range_start (count 1, no SPTE to zap), g's contents to swap, host PTE 'swapped', the table's reference on P dropped (the fault's pin keeps it for now), invalidate_range_end: seq + 1, count 0.",
    });
    await e.release('vcpu0', 'done', {
      narrative: 'The fault takes mmu_lock. mmu_notifier_retry: the sequence moved, so it drops its pin on P (now free) and retries: a new gfn_to_pfn swaps g in, and that page is mapped. With no-notifier-retry it maps P, then drops its pin: P is free, and mapped.',
    });
    await e.command('vcpu0', OP_STORE, [GPA, 3], 'done', {
      narrative: "vCPU 0 writes g again, through whatever its SPTE maps: g's page, or the free P.",
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: 'A final collection; the checkers compare every SPTE with the host page backing its gfn.',
    });
  },
};
