// Where locking.txt (Linux 3.6) and the 3.6 code it describes disagree, what
// each says and which one webkvm follows. The project rule is "follow the doc
// and show the difference": this list is what the "locking.txt vs the code"
// panel shows and docs/doc-vs-code.md repeats. Sources: kvm-semantics.md
// §2.4, §2.5, §2.7, §2.9, §2.10 (../shared/reference).

export interface DocVsCode {
  /** Short name of the rule. */
  topic: string;
  /** What Documentation/virtual/kvm/locking.txt (3.6) says. */
  doc: string;
  /** What the 3.6 code (arch/x86/kvm/mmu.c, virt/kvm/kvm_main.c) does. */
  code: string;
  /** What webkvm does, and why. */
  webkvm: string;
  /** Where to watch it in the app or the CLI. */
  see: string;
}

export const DOC_VS_CODE: readonly DocVsCode[] = [
  {
    topic: 'Fast page fault guard',
    doc: 'Set W with cmpxchg if SPTE_HOST_WRITEABLE = 1 and SPTE_WRITE_PROTECT = 1.',
    code: 'spte_is_locklessly_modifiable() tests SPTE_HOST_WRITEABLE and SPTE_MMU_WRITEABLE; no SPTE_WRITE_PROTECT bit exists.',
    webkvm:
      'Follows the meaning the doc intends, with the code\'s bit: HOST_WRITEABLE (bit 10) and MMU_WRITEABLE (bit 11) ' +
      'read in one value. The doc\'s name is an erratum still present in current kernels.',
    see: 'Shadow-MMU explorer (the SPTE flags); webkvm explain',
  },
  {
    topic: 'Fast path on indirect shadow pages',
    doc: 'Only direct shadow pages; for indirect ones the gfn would have to be pinned first (gfn_to_pfn_atomic), else the gfn→pfn ABA loses a dirty page.',
    code: 'fast_page_fault() is called only for direct MMUs; no pinning variant exists.',
    webkvm: 'Direct only, as both say. --unsafe indirect-fast replays the ABA the doc warns about.',
    see: 'Torture panel (protection off: indirect-fast); webkvm torture --unsafe indirect-fast',
  },
  {
    topic: 'When an SPTE update needs a TLB flush',
    doc: 'Flush when an SPTE goes from writable to read-only.',
    code: 'mmu_spte_update() returns "flush" iff the old W = 1 and the new W = 0 (later kernels: old MMU_WRITEABLE).',
    webkvm: 'The 3.6 rule, which is the doc\'s. Every flush records its cause and latency.',
    see: 'TLB timeline; webkvm events --types tlb_flush',
  },
  {
    topic: 'Lock kinds',
    doc: 'kvm_lock and the TSC lock are raw spinlocks, mmu_lock a spinlock_t ("used in mmu notifier"); the overview and acquisition order are "(to be written)".',
    code: 'As the doc says; kvm_lock is taken outside mmu_lock (mmu_shrink).',
    webkvm:
      'Futex-style mutexes (spin briefly, then Atomics.wait): vCPU workers outnumber cores, and a spinning waiter ' +
      'would burn the core its holder needs. slots_lock is taken before mmu_lock (GET_DIRTY_LOG), kvm_lock (kvm_stat reads) inside neither.',
    see: 'Locks panel; webkvm stat',
  },
  {
    topic: 'KSM and change_pte',
    doc: 'Mentions KSM only in passing: a pinned, writable pfn cannot be shared between gfns by KSM.',
    code: 'KSM also calls change_pte, which re-points SPTEs read-only to the merged page (W and HOST_WRITEABLE clear).',
    webkvm:
      'Zaps the SPTEs inside the same invalidation instead; the next fault maps the shared page without ' +
      'HOST_WRITEABLE. Same end state, one fault later (Linux 6.9 removed change_pte for this reason).',
    see: 'Host-memory panel (merge); webkvm hostmem',
  },
  {
    topic: 'GET_DIRTY_LOG order',
    doc: 'Rule 3: an SPTE going writable → read-only needs all TLBs flushed, or a CPU keeps a cached writable entry. The GET_DIRTY_LOG order itself is only in an x86.c comment.',
    code: 'x86.c: under mmu_lock xchg each word with 0, write-protect its pages, flush still under mmu_lock, then copy out.',
    webkvm: 'The 3.6 order exactly. --unsafe no-flush skips the flush and the torture names the pages lost.',
    see: 'Dirty map (GET_DIRTY_LOG); webkvm torture --unsafe no-flush',
  },
];
