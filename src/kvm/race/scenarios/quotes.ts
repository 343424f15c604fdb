// locking.txt (Linux 3.6, Documentation/virtual/kvm/locking.txt), in its own
// words, for the narratives. Typos ("Accssed") are the document's.
export const Q = {
  fastPf: 'On fast page fault path, we will use cmpxchg to atomically set the spte W bit if spte.SPTE_HOST_WRITEABLE = 1 and ' +
    'spte.SPTE_WRITE_PROTECT = 1, this is safe because whenever changing these bits can be detected by cmpxchg.',
  abaStart: 'At the beginning: gpte = gfn1 gfn1 is mapped to pfn1 on host spte is the shadow page table entry corresponding with gpte and spte = pfn1',
  abaRead: 'on fast page fault path: old_spte = *spte;',
  abaSwap: 'pfn1 is swapped out: spte = 0;',
  abaRealloc: 'pfn1 is re-alloced for gfn2.',
  abaRepoint: 'gpte is changed to point to gfn2 by the guest: spte = pfn1;',
  abaCmpxchg: 'if (cmpxchg(spte, old_spte, old_spte+W) mark_page_dirty(vcpu->kvm, gfn1) OOPS!!!',
  abaLost: 'We dirty-log for gfn1, that means gfn2 is lost in dirty-bitmap.',
  abaProblem: 'The mapping from gfn to pfn may be changed since we can only ensure the pfn is not changed during cmpxchg. This is a ABA problem',
  direct: 'For direct sp, we can easily avoid it since the spte of direct sp is fixed to gfn.',
  pin: 'For indirect sp, before we do cmpxchg, we call gfn_to_pfn_atomic() to pin gfn to pfn, because after gfn_to_pfn_atomic(): ' +
    '- We have held the refcount of pfn that means the pfn can not be freed and be reused for another gfn.',
  disabled: 'Currently, to simplify the whole things, we disable fast page fault for indirect shadow page.',
  dirtyStart: 'At the beginning: spte.W = 0 spte.Accessed = 1',
  dirtyRead: "In mmu_spte_clear_track_bits(): old_spte = *spte; /* 'if' condition is satisfied. */ if (old_spte.Accssed == 1 && old_spte.W == 0) spte = 0ull;",
  dirtyRace: 'on fast page fault path: spte.W = 1 memory write on the spte: spte.Dirty = 1',
  dirtyStore: 'else old_spte = xchg(spte, 0ull) if (old_spte.Accssed == 1) kvm_set_pfn_accessed(spte.pfn); if (old_spte.Dirty == 1) kvm_set_pfn_dirty(spte.pfn); OOPS!!!',
  dirtyLost: 'The Dirty bit is lost in this case.',
  volatile: 'In order to avoid this kind of issue, we always treat the spte as "volatile" if it can be updated out of mmu-lock, ' +
    'see spte_has_volatile_bits(), it means, the spte is always atomicly updated in this case.',
  flush: 'If the spte is updated from writable to readonly, we should flush all TLBs, otherwise rmap_write_protect will find a ' +
    "read-only spte, even though the writable spte might be cached on a CPU's TLB.",
  flushWhere: 'in order to easily audit the path, we see if TLBs need be flushed caused by this reason in mmu_spte_update() ' +
    'since this is a common function to update spte (present -> present).',
  // Added for the GET / notifier scenarios (locking.txt 3.6, same document).
  fastPfIntro: 'Fast page fault is the fast path which fixes the guest page fault out of the mmu-lock on x86. Currently, the page fault ' +
    'can be fast only if the shadow page table is present and it is caused by write-protect, that means we just need change the W bit of the spte.',
  dirtyOk: 'Then, we can ensure the dirty bitmaps is correctly set for a gfn.',
  mmuLock: 'Name: kvm->mmu_lock Type: spinlock_t Arch: any Protects: -shadow page/shadow tlb entry ' +
    'Comment: it is a spinlock since it is used in mmu notifier.',
} as const;
