// A lockless walk against a shadow-page free (semantics §2.8, §7.7, F7).
// vCPU 0's fast page fault walks the shadow tables without mmu_lock, in
// READING_SHADOW_PAGE_TABLES mode; it holds a pointer to the leaf shadow page
// X of the direct map and is parked before it reads the SPTE in it
// ('fast-pf:walking', which keeps the walker's mode). The host zaps X: under
// mmu_lock it empties and unlinks the page, then kvm_mmu_commit_zap_page
// flushes remote TLBs and waits for every vCPU whose mode is not
// OUTSIDE_GUEST_MODE, so it is blocked until the walk ends, and only then
// frees X. With 'no-walk-mode' the walker never publishes its mode: the flush
// does not wait, X is freed, and vCPU 1's next fault takes it for a page
// table of its own while vCPU 0 still reads it. The walk record
// (walk-record.ts) notes what the walker saw; the "lockless walk" checker
// finds the page freed and reused under it.
import { OP_GET_LOG, OP_LOAD, OP_STORE, OP_ZAP_SP } from '../lane.ts';
import type { RaceScenario } from '../scenario.ts';
import { UNSAFE_NO_WALK_MODE } from '../../unsafe.ts';
import { RACE_RAM, RACE_RAM_GFN } from '../engine.ts';
import { Q } from './quotes.ts';
import { GPTE_RW, L1_PA, ROOT_PA, hex, pagingVcpus, physVcpus } from './layout.ts';

/** vCPU 0's page g: index 0x90 of the direct map's leaf page for the whole 2 MiB of RAM. */
const GFN = RACE_RAM_GFN + 0x90;
const GPA = GFN * 4096;
/** vCPU 1's va with the same index (0x90) in its own level-1 table (the guest table at L1_PA). */
const VA1 = 0x4009_0000;
const GFN1 = RACE_RAM_GFN + 0xa0;
/** Another 4 MiB region of vCPU 1, touched in the setup so its root exists before the story starts. */
const VA_SETUP = 0x4040_0000;
const L1B_PA = RACE_RAM + 0x4000;

export const walkVsFree: RaceScenario = {
  info: {
    name: 'walk-vs-free',
    title: 'A lockless walk against a shadow-page free',
    source: 'walk_shadow_page_lockless_begin/end vs kvm_mmu_commit_zap_page (semantics §2.8, §7.7, F7)',
    protection: 'the walker publishes READING_SHADOW_PAGE_TABLES; the zapper frees only after a flush every such vCPU acknowledged (unsafe: no-walk-mode)',
    lanes: ['vcpu0', 'vcpu1', 'host'],
    expectSafe: "the zapper's flush waits for the walker (blocked) and frees the page only after the walk ended: clean",
    expectUnsafe: 'the flush does not wait; the page is freed and reused for vCPU 1\'s page table while vCPU 0 still reads it: the lockless-walk checker finds it',
  },
  unsafeBits: (unsafe) => (unsafe ? UNSAFE_NO_WALK_MODE : 0),
  async script(e, unsafe) {
    e.mapGuest4k(ROOT_PA, L1_PA, VA1, GFN1 * 4096, GPTE_RW);
    e.mapGuest4k(ROOT_PA, L1B_PA, VA_SETUP, (RACE_RAM_GFN + 0xb0) * 4096, GPTE_RW);
    e.watchSpte({ label: `SPTE of gpa ${hex(GPA)} (vCPU 0, direct shadow page)`, vcpu: 0, va: GPA, nonpaging: true });
    e.watchSpte({ label: `SPTE of va ${hex(VA1)} (vCPU 1, indirect shadow page)`, vcpu: 1, va: VA1, nonpaging: false });
    e.watchGfn(GFN, GFN1);
    e.watchTlb('vcpu0', GPA);
    await physVcpus(e, 'vcpu0');
    await pagingVcpus(e, 'vcpu1');
    await e.silent('vcpu1', OP_LOAD, [VA_SETUP]);

    await e.command('vcpu0', OP_STORE, [GPA, 1], 'done', {
      narrative: `vCPU 0 writes g ${hex(GFN)}: the slow path maps it writable in the direct map's leaf shadow page (the SPTE's spt index / 1024 is the page's number).`,
    });
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: "The VMM collects: g reported, its SPTE write-protected, TLBs flushed. The next write faults into the fast path.",
    });
    await e.command('vcpu0', OP_STORE, [GPA, 2], { park: 'fast-pf:walking' }, {
      narrative: 'vCPU 0 writes g and faults. fast_page_fault begins its lockless walk: walk_shadow_page_lockless_begin publishes READING_SHADOW_PAGE_TABLES (with no-walk-mode it does not: vCPU 0 stays OUTSIDE_GUEST_MODE). It read the root entry and holds the leaf shadow page (vcpu0.walk); reading the SPTE in it is next. No mmu_lock is held.',
      quote: Q.fastPfIntro,
    });
    await e.command('host', OP_ZAP_SP, [GFN], unsafe ? 'done' : 'blocked', {
      narrative: "The host reclaims the leaf shadow page under mmu_lock: kvm_mmu_prepare_zap_page empties it and unlinks it from the root (ROLE_INVALID), then kvm_mmu_commit_zap_page flushes remote TLBs. vCPU 1 (in guest mode) acks the kick at once. vCPU 0 is READING_SHADOW_PAGE_TABLES and cannot ack mid-walk: the flush waits, so the page is not freed. With no-walk-mode vCPU 0 looks OUTSIDE_GUEST_MODE: nobody waits for it, and the page goes back to the free list.",
      quote: Q.mmuLock,
    });
    if (!unsafe) {
      await e.release('vcpu0', 'done', {
        narrative: "vCPU 0 reads the SPTE: the page is zapped (emptied) but still its own, so it reads 0 and retries. walk_shadow_page_lockless_end publishes OUTSIDE_GUEST_MODE: the flush completes, the host frees the page and drops mmu_lock. The re-fault takes the slow path, builds a new leaf page and maps g writable; the write is logged.",
      });
      await e.join('host', {
        narrative: 'The zap is over: the page was freed only after the walker left it.',
      });
    }
    await e.command('vcpu1', OP_STORE, [VA1, 3], 'done', {
      narrative: `vCPU 1 writes va ${hex(VA1)}: its fault shadows the guest's level-1 table with a new indirect shadow page, taken from the head of the free list: the page just freed. Its SPTE at index 0x90 maps gfn ${hex(GFN1)}.`,
    });
    if (unsafe) {
      await e.release('vcpu0', 'done', {
        narrative: "vCPU 0's walk goes on in the page it holds, which is now vCPU 1's page table: it reads index 0x90, vCPU 1's SPTE for another gfn, as if it mapped g (already writable: a \"spurious\" fault, it retries). walk_shadow_page_lockless_end; the re-fault maps g properly. Nothing crashed, but the walker read a freed and reused page table: had it cmpxchg'd, it would have changed someone else's mapping.",
      });
    }
    await e.command('host', OP_GET_LOG, [], 'done', {
      narrative: 'A final collection; the checkers look at the dirty log, the SPTEs, and what each lockless walk saw.',
    });
  },
};
