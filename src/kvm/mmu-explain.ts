// The shadow-MMU explorer's two read-only questions, answered from `hv`:
//
//   explainAddress  for one vCPU and a guest virtual address: the guest's own
//                   walk (Sv32 level 1 then level 0, or "satp = bare"), the
//                   walk of the shadow page table the "hardware" would do
//                   (root -> level-2 SPTE -> level-1 SPTE, with each shadow
//                   page's role and the SPTE's bits), and the host pfn;
//   describePage    for one gfn: its host PTE (resident, KSM-shared, swapped,
//                   never backed) and every SPTE that maps it, found through
//                   the rmap, as kvm_unmap_rmapp would find them.
//
// Nothing here changes state: no A/D bits are set (walk.ts sets them in a
// real walk; we must not), no page is backed or swapped in (guest page-table
// words are read through the gfn table directly, from `ram` or from the swap
// slot), no lock is taken. explainAddress may therefore see a moment's
// inconsistent picture while vCPUs run, like any lock-free reader; the SPTE
// walk is the same lock-free walk the vCPUs do. describePage reads rmap
// chains that change under mmu_lock, so its caller holds mmu_lock (the VMM
// does) or accepts a bounded, possibly stale answer.

import {
  HOST_PTE_LOCKED, HOST_PTE_PRESENT, HOST_PTE_WRITABLE, KVCPU_NONPAGING_ROOT, KVCPU_ROOT,
  KVCPU_SATP, KVCPU_WORDS, PTE_LIST_EXT, RMAP_DESC_NEXT, RMAP_DESC_SPTE, RMAP_DESC_WORDS,
  ROLE_DIRECT, ROLE_INVALID, ROLE_LEVEL_MASK, ROLE_NONPAGING, SP_FLAGS, SP_FLAG_IN_USE, SP_GFN, SP_META_WORDS,
  SP_NIL, SP_ROLE,
} from './fields.ts';
import { gfnToMemslot, gfnToTableIndex } from './memslot.ts';
import { NONPAGING_ROOT_ROLE, PAGING_ROOT_ROLE, kvmMmuLookupPage, kvmMmuPageGetGfn } from './mmu-page.ts';
import type { VmShared } from './shm.ts';
import { PAGE_SHIFT, PAGE_WORDS } from './shm.ts';
import {
  SPTE_ACCESSED, SPTE_DIRTY, SPTE_EXEC, SPTE_HOST_WRITEABLE, SPTE_MMU_WRITEABLE, SPTE_READ, SPTE_USER, SPTE_WRITABLE,
  isLastSpte, isMmioSpte, isShadowPresentPte, spteToPfn,
} from './spte.ts';
import { hostPteIsSwapped, swapSlotWords } from './swap-store.ts';
import { SATP_MODE_SV32 } from '../cpu/csr-defs.ts';
import { PRV_M } from '../cpu/memory.ts';

// Guest Sv32 PTE bits (privileged spec): V R W X U G A D.
const GPTE_BITS = 'VRWXUGAD';
/** A torn rmap chain read without mmu_lock must not loop forever. */
const MAX_RMAP_ENTRIES = 4096;

/** The host side of a gfn: its 'gfn-table' word, decoded. */
export interface HostPage {
  /** 'mmio': gfn in no memslot. 'ksm': present but read-only (shared by a KSM merge). */
  state: 'resident' | 'ksm' | 'swapped' | 'unbacked' | 'mmio';
  /** The raw host PTE (pfn << 12 | HOST_PTE_*), 0 for unbacked / mmio. */
  hostPte: number;
  /** Host page, for resident and ksm pages; else -1. */
  pfn: number;
  /** Swap slot, for swapped pages; else -1. */
  swapSlot: number;
  /** Memslot id, or -1 for MMIO. */
  slot: number;
  /** References to the host page (mappings + in-flight pins); 0 if not resident. */
  refcount: number;
}

/** One guest page-table step (RISC-V numbering: level 1 = root table, level 0 = leaf table). */
export interface GuestStep {
  level: 1 | 0;
  tableGfn: number;
  index: number;
  /** Guest physical address of the PTE. */
  pteGpa: number;
  pte: number;
  /** 'V R W X U G A D' letters that are set, e.g. "VRWAD". */
  flags: string;
  kind: 'pointer' | 'leaf' | 'megapage' | 'invalid' | 'unreadable';
  /** Where the table word was read from (host page, swap slot, never backed). */
  source: string;
}

/** A shadow page's identity (kvm_mmu_page_role and gfn). */
export interface ShadowPage {
  sp: number;
  level: number;
  direct: boolean;
  nonpaging: boolean;
  invalid: boolean;
  /** Indirect: gfn of the guest table it shadows; direct: the first gfn it maps. */
  gfn: number;
}

/** One SPTE, decoded. */
export interface SpteInfo {
  page: ShadowPage;
  index: number;
  /** loc = sp * 1024 + index, an index into region 'spt'. */
  loc: number;
  spte: number;
  present: boolean;
  leaf: boolean;
  mmio: boolean;
  /** For a leaf: the pfn; a link: the child shadow page; MMIO: the gfn. */
  target: number;
  /** For a leaf: the gfn it maps (sp->gfns or the direct range). */
  gfn: number;
  bits: { R: boolean; W: boolean; X: boolean; U: boolean; A: boolean; D: boolean; HOST_WRITEABLE: boolean; MMU_WRITEABLE: boolean };
}

export interface AddressExplanation {
  vcpu: number;
  gva: number;
  satp: number;
  priv: number;
  /** 'bare': satp.MODE = Bare or M-mode: gva is the guest physical address. */
  mode: 'bare' | 'sv32';
  guest: GuestStep[];
  /** Why the guest walk stops without a translation (a guest page fault), or ''. */
  guestFault: string;
  /** Guest physical address, or -1 if the guest walk faults. */
  gpa: number;
  gfn: number;
  /** The shadow root the vCPU would use, or -1; and how it was found. */
  root: number;
  rootNote: string;
  shadow: SpteInfo[];
  /** Why the shadow walk stops before a present leaf, or ''. */
  shadowNote: string;
  host: HostPage | null;
}

export interface PageDescription {
  gfn: number;
  gpa: number;
  host: HostPage;
  /** Every SPTE in gfn's rmap. */
  sptes: SpteInfo[];
}

// ── host side ────────────────────────────────────────────────────────────────

/** Decode gfn's host PTE (no side effects). */
export function hostPageOf(vm: VmShared, gfn: number): HostPage {
  const slot = gfnToMemslot(vm, gfn);
  const idx = slot < 0 ? -1 : gfnToTableIndex(vm, gfn);
  if (idx < 0) return { state: 'mmio', hostPte: 0, pfn: -1, swapSlot: -1, slot: -1, refcount: 0 };
  const pte = Atomics.load(vm.gfnTable, idx);
  if ((pte & HOST_PTE_PRESENT) !== 0) {
    const pfn = pte >>> PAGE_SHIFT;
    const state = (pte & HOST_PTE_WRITABLE) !== 0 ? 'resident' : 'ksm';
    return { state, hostPte: pte, pfn, swapSlot: -1, slot, refcount: Atomics.load(vm.pfnRefcount, pfn) };
  }
  if (hostPteIsSwapped(pte)) return { state: 'swapped', hostPte: pte, pfn: -1, swapSlot: pte >>> PAGE_SHIFT, slot, refcount: 0 };
  return { state: 'unbacked', hostPte: pte, pfn: -1, swapSlot: -1, slot, refcount: 0 };
}

/**
 * One word of guest physical memory, read without backing or swapping
 * anything in: from the host page, from the swap slot, or 0 for a page never
 * touched (a first touch would give a zero page). null outside RAM or while a
 * swap copy holds the page locked.
 */
function peekGuestWord(vm: VmShared, gpa: number): { value: number; source: string } | null {
  const gfn = Math.floor(gpa / 4096);
  const h = hostPageOf(vm, gfn);
  const word = (gpa & 0xfff) >>> 2;
  if (h.state === 'resident' || h.state === 'ksm') {
    return { value: Atomics.load(vm.ramI32, h.pfn * PAGE_WORDS + word), source: `host pfn 0x${h.pfn.toString(16)}` };
  }
  if (h.state === 'swapped') {
    if ((h.hostPte & HOST_PTE_LOCKED) !== 0) return null;
    return { value: Atomics.load(swapSlotWords(vm, h.swapSlot), word), source: `swap slot ${h.swapSlot}` };
  }
  if (h.state === 'unbacked') return { value: 0, source: 'never backed (reads as zero)' };
  return null;
}

// ── shadow pages and SPTEs ───────────────────────────────────────────────────

export function shadowPageOf(vm: VmShared, sp: number): ShadowPage {
  const m = sp * SP_META_WORDS;
  const role = vm.spMeta[m + SP_ROLE]!;
  return {
    sp,
    level: role & ROLE_LEVEL_MASK,
    direct: (role & ROLE_DIRECT) !== 0,
    nonpaging: (role & ROLE_NONPAGING) !== 0,
    invalid: (role & ROLE_INVALID) !== 0 || (vm.spMeta[m + SP_FLAGS]! & SP_FLAG_IN_USE) === 0,
    gfn: vm.spMeta[m + SP_GFN]! >>> 0,
  };
}

export function spteInfo(vm: VmShared, loc: number): SpteInfo {
  const sp = Math.floor(loc / PAGE_WORDS);
  const index = loc % PAGE_WORDS;
  const page = shadowPageOf(vm, sp);
  const spte = Atomics.load(vm.spt, loc);
  const present = isShadowPresentPte(spte);
  const leaf = present && isLastSpte(spte, page.level);
  const mmio = !present && isMmioSpte(spte);
  const on = (bit: number) => (spte & bit) !== 0;
  return {
    page, index, loc, spte, present, leaf, mmio,
    target: spteToPfn(spte),
    gfn: page.level === 1 ? kvmMmuPageGetGfn(vm, sp, index) >>> 0 : -1,
    bits: {
      R: on(SPTE_READ), W: on(SPTE_WRITABLE), X: on(SPTE_EXEC), U: on(SPTE_USER), A: on(SPTE_ACCESSED), D: on(SPTE_DIRTY),
      HOST_WRITEABLE: on(SPTE_HOST_WRITEABLE), MMU_WRITEABLE: on(SPTE_MMU_WRITEABLE),
    },
  };
}

// ── explainAddress ───────────────────────────────────────────────────────────

function gpteFlags(pte: number): string {
  let s = '';
  for (let i = 0; i < 8; i++) if ((pte >>> i) & 1) s += GPTE_BITS[i];
  return s;
}

/** The guest's Sv32 walk, read-only. Fills e.guest, e.gpa / e.guestFault. */
function guestWalk(vm: VmShared, e: AddressExplanation): void {
  const va = e.gva;
  let table = e.satp & 0x3fffff;
  for (const level of [1, 0] as const) {
    const index = level === 1 ? va >>> 22 : (va >>> 12) & 0x3ff;
    const pteGpa = table * 4096 + index * 4;
    const w = peekGuestWord(vm, pteGpa);
    const step: GuestStep = { level, tableGfn: table, index, pteGpa, pte: 0, flags: '', kind: 'unreadable', source: '' };
    e.guest.push(step);
    if (!w) {
      step.source = 'not guest RAM';
      e.guestFault = `the level-${level} table at guest physical 0x${(table * 4096).toString(16)} is not RAM (access fault)`;
      return;
    }
    step.pte = w.value;
    step.source = w.source;
    step.flags = gpteFlags(w.value);
    const v = (w.value & 1) !== 0;
    const r = (w.value & 2) !== 0;
    const wr = (w.value & 4) !== 0;
    const x = (w.value & 8) !== 0;
    const ppn = w.value >>> 10;
    if (!v || (wr && !r)) {
      step.kind = 'invalid';
      e.guestFault = `level-${level} PTE is ${v ? 'W without R (reserved)' : 'not valid (V = 0)'}: the guest gets a page fault`;
      return;
    }
    if (!r && !x) {
      if (level === 0) {
        step.kind = 'invalid';
        e.guestFault = 'level-0 PTE is a pointer where a leaf must be: the guest gets a page fault';
        return;
      }
      step.kind = 'pointer';
      table = ppn;
      continue;
    }
    if (level === 1) {
      step.kind = 'megapage';
      if ((ppn & 0x3ff) !== 0) {
        e.guestFault = 'misaligned megapage (PPN[0] != 0): the guest gets a page fault';
        return;
      }
      e.gpa = (ppn >>> 10) * 0x400000 + (va & 0x3fffff);
    } else {
      step.kind = 'leaf';
      e.gpa = ppn * 4096 + (va & 0xfff);
    }
    return;
  }
}

/** The root this vCPU would walk for this satp / privilege: its published one, else the hash's. */
function findRoot(vm: VmShared, e: AddressExplanation): void {
  const b = e.vcpu * KVCPU_WORDS;
  const bare = e.mode === 'bare';
  const mine = Atomics.load(vm.kvmVcpu, b + (bare ? KVCPU_NONPAGING_ROOT : KVCPU_ROOT));
  const rootPpn = Atomics.load(vm.kvmVcpu, b + KVCPU_SATP) & 0x3fffff;
  if (mine !== SP_NIL && (bare || rootPpn === (e.satp & 0x3fffff)) && !shadowPageOf(vm, mine).invalid) {
    e.root = mine;
    e.rootNote = `vCPU ${e.vcpu}'s ${bare ? 'nonpaging (guest-physical)' : 'paging'} root`;
    return;
  }
  const sp = bare ? kvmMmuLookupPage(vm, 0, NONPAGING_ROOT_ROLE) : kvmMmuLookupPage(vm, e.satp & 0x3fffff, PAGING_ROOT_ROLE);
  e.root = sp;
  e.rootNote = sp === SP_NIL
    ? `no shadow root for ${bare ? 'the guest-physical map' : `the guest table at gfn 0x${(e.satp & 0x3fffff).toString(16)}`} yet (the first access will fault and build it)`
    : `found in the shadow-page hash (vCPU ${e.vcpu} has not loaded it)`;
}

/** The lock-free SPTE walk (as vcpu-mmu.ts walkShadow, without setting A/D). */
function shadowWalk(vm: VmShared, e: AddressExplanation): void {
  if (e.root === SP_NIL) {
    e.shadowNote = e.rootNote;
    return;
  }
  // The shadow table is indexed by the guest virtual address (or, bare, the guest physical one).
  const va = e.mode === 'bare' ? e.gpa : e.gva;
  const l2 = spteInfo(vm, e.root * PAGE_WORDS + (va >>> 22));
  e.shadow.push(l2);
  if (!l2.present || l2.leaf) {
    e.shadowNote = l2.mmio ? 'an MMIO SPTE: the access exits to the device model' : 'level-2 SPTE not present: the next access faults (slow path) and builds it';
    return;
  }
  const l1 = spteInfo(vm, l2.target * PAGE_WORDS + ((va >>> 12) & 0x3ff));
  e.shadow.push(l1);
  if (l1.mmio) e.shadowNote = `an MMIO SPTE for gfn 0x${l1.target.toString(16)}: answered without the slow path`;
  else if (!l1.present) e.shadowNote = 'level-1 SPTE not present: the next access faults and the slow path installs it';
  else if (!l1.bits.W) e.shadowNote = l1.bits.MMU_WRITEABLE && l1.bits.HOST_WRITEABLE && l1.page.direct
    ? 'read-only but MMU_WRITEABLE and HOST_WRITEABLE: a write takes the fast page fault (cmpxchg, no mmu_lock)'
    : 'read-only: a write takes the slow path';
}

/**
 * explainAddress: the full picture for one vCPU and gva, read-only. `satp`
 * and `priv` are the vCPU's (its register snapshot); M-mode or satp bare
 * means no guest translation.
 */
export function explainAddress(vm: VmShared, vcpu: number, gva: number, satp: number, priv: number): AddressExplanation {
  const bare = priv === PRV_M || ((satp >>> 0) & SATP_MODE_SV32) === 0;
  const e: AddressExplanation = {
    vcpu, gva: gva >>> 0, satp: satp >>> 0, priv, mode: bare ? 'bare' : 'sv32', guest: [], guestFault: '',
    gpa: -1, gfn: -1, root: SP_NIL, rootNote: '', shadow: [], shadowNote: '', host: null,
  };
  if (bare) e.gpa = e.gva;
  else guestWalk(vm, e);
  if (e.gpa < 0) return e;
  e.gfn = Math.floor(e.gpa / 4096);
  e.host = hostPageOf(vm, e.gfn);
  if (bare && e.host.state === 'mmio') {
    e.rootNote = 'none needed';
    e.shadowNote = 'not RAM: an MMIO access, answered by the device model without a shadow walk';
    return e;
  }
  findRoot(vm, e);
  shadowWalk(vm, e);
  return e;
}

// ── describePage ─────────────────────────────────────────────────────────────

/** The SPTE locations in gfn's rmap (bounded; exact under mmu_lock). */
export function rmapLocations(vm: VmShared, gfn: number): number[] {
  const idx = gfnToTableIndex(vm, gfn);
  if (idx < 0) return [];
  const h = vm.rmapHeads[idx]!;
  if (h === 0) return [];
  if (h > 0) return [h - 1];
  const out: number[] = [];
  const desc = vm.rmapDesc;
  for (let d = -h - 1; d >= 0 && out.length < MAX_RMAP_ENTRIES; d = desc[d * RMAP_DESC_WORDS + RMAP_DESC_NEXT]!) {
    const b = d * RMAP_DESC_WORDS + RMAP_DESC_SPTE;
    for (let j = 0; j < PTE_LIST_EXT && desc[b + j] !== -1; j++) out.push(desc[b + j]!);
  }
  return out;
}

/** describePage: gfn's host page and the SPTEs mapping it. Call under mmu_lock for an exact rmap. */
export function describePage(vm: VmShared, gfn: number): PageDescription {
  return {
    gfn, gpa: gfn * 4096, host: hostPageOf(vm, gfn),
    sptes: rmapLocations(vm, gfn).map((loc) => spteInfo(vm, loc)),
  };
}

// ── text, for the CLI and the UI ─────────────────────────────────────────────

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

export function formatShadowPage(p: ShadowPage): string {
  const kind = p.direct ? (p.nonpaging ? 'direct, nonpaging' : 'direct') : 'indirect';
  const what = p.direct ? `maps gfn ${hex(p.gfn)}+` : `shadows guest table gfn ${hex(p.gfn)}`;
  return `sp #${p.sp} (${kind}, level ${p.level}, ${what}${p.invalid ? ', INVALID' : ''})`;
}

export function formatSpte(s: SpteInfo): string {
  const b = s.bits;
  const flags = [
    s.present ? 'P' : '-', b.R ? 'R' : '-', b.W ? 'W' : '-', b.X ? 'X' : '-', b.U ? 'U' : '-', b.A ? 'A' : '-', b.D ? 'D' : '-',
  ].join('');
  const wr = `HOST_WRITEABLE=${b.HOST_WRITEABLE ? 1 : 0} MMU_WRITEABLE=${b.MMU_WRITEABLE ? 1 : 0}`;
  const target = s.mmio ? `MMIO gfn ${hex(s.target)}` : !s.present ? 'not present' : s.leaf ? `pfn ${hex(s.target)}` : `-> sp #${s.target}`;
  return `${formatShadowPage(s.page)} [${s.index}] = ${hex(s.spte)} ${flags} ${wr} ${target}`;
}

export function formatHostPage(h: HostPage): string {
  switch (h.state) {
    case 'resident': return `resident in host pfn ${hex(h.pfn)} (writable, refcount ${h.refcount})`;
    case 'ksm': return `KSM-shared read-only host pfn ${hex(h.pfn)} (refcount ${h.refcount})`;
    case 'swapped': return `swapped out to slot ${h.swapSlot}`;
    case 'unbacked': return 'never backed (no host page yet)';
    default: return 'in no memslot (MMIO)';
  }
}

/** The walk as lines of text (the CLI prints them; the UI shows the same). */
export function formatExplanation(e: AddressExplanation): string[] {
  const out = [`vCPU ${e.vcpu}, gva ${hex(e.gva)}, satp ${hex(e.satp)}, priv ${['U', 'S', '?', 'M'][e.priv & 3]}`];
  if (e.mode === 'bare') out.push('guest: satp = bare (or M-mode): no guest page tables, gpa = gva');
  for (const g of e.guest) {
    out.push(`guest level ${g.level}: table gfn ${hex(g.tableGfn)} [${g.index}] at gpa ${hex(g.pteGpa)} = ${hex(g.pte)} ${g.flags || '-'} (${g.kind}; ${g.source})`);
  }
  if (e.guestFault) {
    out.push(`guest: ${e.guestFault}`);
    return out;
  }
  out.push(`gpa ${hex(e.gpa)} (gfn ${hex(e.gfn)})`);
  out.push(`shadow root: ${e.root === SP_NIL ? 'none' : `sp #${e.root}`}: ${e.rootNote}`);
  e.shadow.forEach((s, i) => out.push(`shadow level ${2 - i}: ${formatSpte(s)}`));
  if (e.shadowNote) out.push(`shadow: ${e.shadowNote}`);
  if (e.host) out.push(`host: ${formatHostPage(e.host)}`);
  return out;
}

/** A page's host state and rmap as lines of text. */
export function formatPageDescription(d: PageDescription): string[] {
  const out = [`gfn ${hex(d.gfn)} (guest physical ${hex(d.gpa)}): ${formatHostPage(d.host)}`];
  if (d.sptes.length === 0) out.push('no SPTE maps it (rmap empty): the next access faults');
  else out.push(`${d.sptes.length} SPTE${d.sptes.length === 1 ? '' : 's'} in its rmap:`, ...d.sptes.map((s) => `  ${formatSpte(s)}`));
  return out;
}
