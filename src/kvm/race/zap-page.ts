// The host lane's targeted shadow-page zap (race lab, walk-vs-free): zap the
// one direct leaf shadow page that maps a gfn, the way KVM reclaims a page:
// kvm_mmu_prepare_zap_page (empty it, unlink it from its parent, mark it
// invalid), then kvm_mmu_commit_zap_page (flush remote TLBs, wait for the
// acks of every vCPU in guest mode or in a lockless walk, and only then free
// it). All under mmu_lock, as in KVM.
import { ROLE_DIRECT, ROLE_INVALID, SP_GFN, SP_META_WORDS, SP_NIL, SP_ROLE } from '../fields.ts';
import type { Kvm } from '../kvm-host.ts';
import { kvmMmuCommitZapPage, kvmMmuPrepareZapPage, spHashFirst, spHashNext, spLevel } from '../mmu-page.ts';

/** Zap the direct level-1 shadow page mapping gfn; returns its index, or -1 if none maps it. */
export function raceZapDirectPageOf(kvm: Kvm, gfn: number): number {
  kvm.mmuLock.lock();
  try {
    const sp = directLeafPageOf(kvm, gfn);
    if (sp === SP_NIL) return -1;
    kvmMmuPrepareZapPage(kvm, sp);
    kvmMmuCommitZapPage(kvm);
    return sp;
  } finally {
    kvm.mmuLock.unlock();
  }
}

function directLeafPageOf(kvm: Kvm, gfn: number): number {
  const vm = kvm.vm;
  const meta = vm.spMeta;
  const base = gfn & ~0x3ff;
  for (let sp = spHashFirst(vm, base); sp !== SP_NIL; sp = spHashNext(vm, sp)) {
    const m = sp * SP_META_WORDS;
    const role = meta[m + SP_ROLE]!;
    if (meta[m + SP_GFN] === base && (role & ROLE_DIRECT) !== 0 && (role & ROLE_INVALID) === 0 && spLevel(vm, sp) === 1) return sp;
  }
  return SP_NIL;
}
