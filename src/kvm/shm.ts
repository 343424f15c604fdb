// The two SharedArrayBuffers of a VM and the layout of `hv`.
//
//   ram  the host page pool: pfn p is bytes [p * 4096, p * 4096 + 4096). Guest
//        RAM pages plus ~12.5% spare pfns (for swap-in, migration, KSM
//        copy-on-write). Guest loads and stores only ever reach this buffer.
//   hv   everything else, as named regions of Int32 words: memslots, the
//        gfn->pfn table, dirty bitmaps, shadow pages, rmaps, locks, vCPU
//        request words, statistics, device registers and rings.
//
// The layout is a pure function of the config, computed by the same code in
// every thread: createVm() writes the config into the header, attachVm() reads
// it back and recomputes the identical layout (checked with a hash), so a
// worker needs nothing but the two buffers.
//
// Regions are listed in HV_REGIONS, in order, each with its size in words as a
// function of the config and an alignment in words. To give a module its own
// state in `hv`, add one row there; the module then finds it with
// vm.view('name') (or layout.region('name') for offsets).
//
// hv regions owned by the shadow MMU, in order (record layouts in fields.ts):
//   header        HDR_WORDS                magic, version, config, layout hash
//   kvm           KVM_WORDS                notifier seq/count, memslot gen, pool heads
//   locks         LOCK_SLOTS * LOCK_WORDS  mmu_lock, kvm_lock, tsc_write_lock, slots_lock
//   kvm-vcpu      vcpus * KVCPU_WORDS      mode, requests, flush ack, roots, stats
//   kvm-stats     STATS_WORDS              VM-wide counters, flushes by cause
//   memslots      32 * MEMSLOT_WORDS       flags, base gfn, npages, table/bitmap base
//   gfn-table     slotPages                host PTE per memslot page (pfn << 12 | flags)
//   rmap-heads    slotPages                pte list head per memslot page
//   dirty-bitmap  2 * slotPages / 32       per-slot bitmap + scratch half
//   pfn-refcount  poolPfns                 references per host page
//   pfn-flags     poolPfns                 PFN_ACCESSED / PFN_DIRTY per host page
//   pfn-free      ceil(poolPfns / 32)      bitmap, 1 = free
//   rmap-desc     rmapDescs * 4            pte_list_desc pool
//   sp-meta       shadowPages * 8          kvm_mmu_page metadata
//   sp-hash       spHashBuckets            hash bucket heads (gfn -> first page)
//   sp-gfns       shadowPages * 1024       gfn of each leaf SPTE (sp->gfns)
//   spt           shadowPages * 1024       the SPTEs; page i is words [i*1024, i*1024+1024)
// (then run control, devices, dirty rings), the swap area of host-ops.ts:
//   swap-map      16 + ceil(swapSlots/32)  swap area header + slot bitmap (1 = in use)
//   swap          swapSlots * 1024         swapped-out page contents (kvmSwapSlots)
// and last:
//   events        EV_REGION_WORDS          the event ring (event-format.ts)

import { check, KvmError } from './errors.ts';
import {
  DRING_STRIDE, HDR_LAYOUT_HASH, HDR_MAGIC, HDR_MEM_PAGES, HDR_POOL_PFNS, HDR_RAM_BASE, HDR_RMAP_DESCS,
  HDR_SHADOW_PAGES, HDR_SLOT_PAGES, HDR_TOTAL_WORDS, HDR_VCPUS, HDR_VERSION, HDR_WORDS, HV_MAGIC,
  HV_VERSION, KVCPU_NONPAGING_ROOT, KVCPU_ROOT, KVCPU_WORDS, KVM_DESC_FREE_COUNT, KVM_DESC_FREE_HEAD,
  KVM_MEMSLOTS_USED, KVM_MEM_SLOTS_NUM, KVM_POOL_FREE_COUNT, KVM_SP_FREE_COUNT, KVM_SP_FREE_HEAD,
  KVM_WORDS, LOCK_SLOTS, LOCK_WORDS, MEMSLOT_BASE_GFN, MEMSLOT_DIRTY_BASE, MEMSLOT_NPAGES,
  MEMSLOT_TABLE_BASE, MEMSLOT_WORDS, RMAP_DESC_NEXT, RMAP_DESC_WORDS, SP_LIST_NEXT, SP_META_WORDS,
  SP_NIL, STATS_WORDS, SWAP_MAP_HDR_WORDS,
  RACE_WORDS,
} from './fields.ts';
import { TRACE_ENTRIES, TRACE_ENTRY_WORDS, VCPU_STRIDE, VM_MSG_WORDS, VM_WORDS } from './vcpu-ctl.ts';
import { platformWords } from '../devices/platform.ts';
import { EV_REGION_WORDS } from './event-format.ts';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
/** Int32 words per 4 KiB page, and SPTEs per shadow page. */
export const PAGE_WORDS = 1024;

export const MAX_VCPUS = 8;
export const DEFAULT_MEM_BYTES = 64 << 20;
export const MAX_MEM_BYTES = 1 << 30;
/** Guest physical address of the default memslot (QEMU virt's RAM). */
export const DEFAULT_RAM_BASE = 0x8000_0000;
/** Memslots live in the 32-bit guest physical space (gfns below 2^20). */
export const MAX_SLOT_PAGES = 1 << 20;
const MIN_SHADOW_PAGES = 8;
const MAX_SHADOW_PAGES = 16384;
const MAX_DEFAULT_SHADOW_PAGES = 4096;
const MIN_RMAP_DESCS = 16;
const MAX_RMAP_DESCS = 1 << 22;

export interface VmConfig {
  /** Guest RAM in the default memslot: a multiple of 4 KiB, at most 1 GiB. Default 64 MiB. */
  memBytes?: number;
  /** vCPUs, 1..8. Default 1. */
  vcpus?: number;
  /** Guest physical address of the default memslot (slot 0); null for none. Default 0x8000_0000. */
  ramBase?: number | null;
  /** Bytes all memslots together may cover (sizes the gfn->pfn table). Default 2 * memBytes. */
  slotBytes?: number;
  /** Shadow page pool (kvm_mmu_page count). Default 256 + memPages / 64, at most 4096. */
  shadowPages?: number;
  /** pte_list_desc pool for rmaps and parent pointers. Default max(1024, memPages). */
  rmapDescs?: number;
}

export interface ResolvedVmConfig {
  readonly memBytes: number;
  readonly memPages: number;
  readonly vcpus: number;
  /** -1: no default memslot. */
  readonly ramBase: number;
  /** Host pages in `ram`: memPages plus 12.5% spare. */
  readonly poolPfns: number;
  readonly slotPages: number;
  readonly shadowPages: number;
  readonly rmapDescs: number;
  readonly spHashBuckets: number;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Validate a config and fill in the defaults. Throws KvmError EINVAL / ENOMEM. */
export function resolveVmConfig(cfg: VmConfig = {}): ResolvedVmConfig {
  const memBytes = cfg.memBytes ?? DEFAULT_MEM_BYTES;
  check(isInt(memBytes) && memBytes > 0, 'EINVAL', `createVm: memBytes ${String(memBytes)} is not a positive integer`);
  check(memBytes % PAGE_SIZE === 0, 'EINVAL', `createVm: memBytes ${memBytes} is not a multiple of ${PAGE_SIZE} (the page size)`);
  check(memBytes <= MAX_MEM_BYTES, 'ENOMEM', `createVm: memBytes ${memBytes} is more than the ${MAX_MEM_BYTES} bytes (1 GiB) a VM may have`);
  const vcpus = cfg.vcpus ?? 1;
  check(isInt(vcpus) && vcpus >= 1 && vcpus <= MAX_VCPUS, 'EINVAL', `createVm: vcpus ${String(vcpus)} is not an integer in 1..${MAX_VCPUS}`);
  const memPages = memBytes / PAGE_SIZE;

  const rb = cfg.ramBase === undefined ? DEFAULT_RAM_BASE : cfg.ramBase;
  let ramBase = -1;
  if (rb !== null) {
    check(isInt(rb) && rb >= 0 && rb % PAGE_SIZE === 0, 'EINVAL', `createVm: ramBase ${String(rb)} is not a page-aligned address`);
    check(rb + memBytes <= 2 ** 32, 'EINVAL', `createVm: RAM at 0x${rb.toString(16)} + ${memBytes} bytes does not fit in the 32-bit physical space`);
    ramBase = rb | 0;
  }

  const slotBytes = cfg.slotBytes ?? Math.min(2 * memBytes, MAX_SLOT_PAGES * PAGE_SIZE);
  check(isInt(slotBytes) && slotBytes % PAGE_SIZE === 0, 'EINVAL', `createVm: slotBytes ${String(slotBytes)} is not a multiple of ${PAGE_SIZE}`);
  check(slotBytes >= memBytes, 'EINVAL', `createVm: slotBytes ${slotBytes} is smaller than memBytes ${memBytes}`);
  check(slotBytes <= MAX_SLOT_PAGES * PAGE_SIZE, 'ENOMEM', `createVm: slotBytes ${slotBytes} is more than the 4 GiB physical space`);
  // Each slot's table range starts on a multiple of 32 pages (one dirty-bitmap
  // word), so leave room for that rounding in every slot.
  const slotPages = roundUp(slotBytes / PAGE_SIZE, 32) + 32 * KVM_MEM_SLOTS_NUM;

  // Every vCPU may pin two roots, and a fault needs a few free pages on top.
  const minShadow = MIN_SHADOW_PAGES + 2 * vcpus;
  const shadowPages = cfg.shadowPages ?? Math.min(MAX_DEFAULT_SHADOW_PAGES, 256 + (memPages >>> 6));
  check(isInt(shadowPages) && shadowPages >= minShadow && shadowPages <= MAX_SHADOW_PAGES, 'EINVAL',
    `createVm: shadowPages ${String(shadowPages)} is not an integer in ${minShadow}..${MAX_SHADOW_PAGES} (for ${vcpus} vCPUs)`);
  const rmapDescs = cfg.rmapDescs ?? Math.max(1024, memPages);
  check(isInt(rmapDescs) && rmapDescs >= MIN_RMAP_DESCS && rmapDescs <= MAX_RMAP_DESCS, 'EINVAL',
    `createVm: rmapDescs ${String(rmapDescs)} is not an integer in ${MIN_RMAP_DESCS}..${MAX_RMAP_DESCS}`);

  let spHashBuckets = 64;
  while (spHashBuckets < shadowPages) spHashBuckets <<= 1;

  return {
    memBytes, memPages, vcpus, ramBase,
    poolPfns: memPages + Math.ceil(memPages / 8),
    slotPages, shadowPages, rmapDescs, spHashBuckets,
  };
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

// ── the region table ─────────────────────────────────────────────────────────

export interface HvRegionSpec {
  readonly name: string;
  /** Size in Int32 words for a config (0 is allowed: the region is then empty). */
  readonly words: (c: ResolvedVmConfig) => number;
  /** Alignment of the first word, in words (a power of two; default 16 = 64 bytes). */
  readonly align?: number;
}


/**
 * Every region of `hv`, in order. THE one table to extend: append a row for a
 * new module's state. Changing it changes HDR_LAYOUT_HASH, so buffers made by
 * another build are refused by attachVm instead of being misread.
 */
export const HV_REGIONS: readonly HvRegionSpec[] = [
  // The shadow MMU and its foundation (record layouts in fields.ts).
  { name: 'header', words: () => HDR_WORDS },
  { name: 'kvm', words: () => KVM_WORDS },
  { name: 'locks', words: () => LOCK_SLOTS * LOCK_WORDS },
  { name: 'kvm-vcpu', words: (c) => c.vcpus * KVCPU_WORDS },
  { name: 'kvm-stats', words: () => STATS_WORDS },
  { name: 'memslots', words: () => KVM_MEM_SLOTS_NUM * MEMSLOT_WORDS },
  { name: 'gfn-table', words: (c) => c.slotPages },
  { name: 'rmap-heads', words: (c) => c.slotPages },
  { name: 'dirty-bitmap', words: (c) => (2 * c.slotPages) / 32 },
  { name: 'pfn-refcount', words: (c) => c.poolPfns },
  { name: 'pfn-flags', words: (c) => c.poolPfns },
  { name: 'pfn-free', words: (c) => Math.ceil(c.poolPfns / 32) },
  { name: 'rmap-desc', words: (c) => c.rmapDescs * RMAP_DESC_WORDS },
  { name: 'sp-meta', words: (c) => c.shadowPages * SP_META_WORDS },
  { name: 'sp-hash', words: (c) => c.spHashBuckets },
  { name: 'sp-gfns', words: (c) => c.shadowPages * PAGE_WORDS, align: PAGE_WORDS },
  { name: 'spt', words: (c) => c.shadowPages * PAGE_WORDS, align: PAGE_WORDS },
  // Run control and devices (sizes from their owners' modules).
  { name: 'vm', words: () => VM_WORDS },
  { name: 'vcpu', words: (c) => c.vcpus * VCPU_STRIDE },
  { name: 'vm-msg', words: () => VM_MSG_WORDS },
  { name: 'trace', words: () => TRACE_ENTRIES * TRACE_ENTRY_WORDS },
  // Every device of the board, sub-allocated by src/devices/platform.ts.
  { name: 'platform', words: (c) => platformWords({ nvcpus: c.vcpus }) },
  // Per-vCPU dirty rings (dirty-ring.ts).
  { name: 'dirty-ring', words: (c) => c.vcpus * DRING_STRIDE },
  // The swap area of the host-memory operations (swap-store.ts, host-ops.ts).
  { name: 'swap-map', words: (c) => SWAP_MAP_HDR_WORDS + Math.ceil(kvmSwapSlots(c) / 32) },
  { name: 'swap', words: (c) => kvmSwapSlots(c) * PAGE_WORDS, align: PAGE_WORDS },
  // The multi-producer event ring (events.ts; format in event-format.ts).
  { name: 'events', words: () => EV_REGION_WORDS },
  // The race lab's pause points and lane mailboxes (src/kvm/race/pause-points.ts).
  { name: 'race', words: () => RACE_WORDS },
];

/** Swap slots of a VM: one per 16 guest pages, 16..4096 (at most 16 MiB of `hv`). */
export function kvmSwapSlots(c: ResolvedVmConfig): number {
  return Math.min(4096, Math.max(16, c.memPages >>> 4));
}

export interface HvRegion {
  readonly name: string;
  /** First word (Int32 index into hv). */
  readonly offset: number;
  readonly words: number;
}

export class HvLayout {
  readonly regions: readonly HvRegion[];
  readonly totalWords: number;
  /** FNV-1a over names, offsets and sizes. */
  readonly hash: number;
  private readonly byName = new Map<string, HvRegion>();

  constructor(c: ResolvedVmConfig, table: readonly HvRegionSpec[] = HV_REGIONS) {
    const regions: HvRegion[] = [];
    let at = 0;
    let h = 0x811c9dc5;
    for (const spec of table) {
      const align = spec.align ?? 16;
      const words = spec.words(c);
      if (!(isInt(words) && words >= 0)) throw new KvmError('EINVAL', `hv layout: region '${spec.name}' has a bad size ${String(words)}`);
      if (this.byName.has(spec.name)) throw new KvmError('EEXIST', `hv layout: region '${spec.name}' is listed twice`);
      at = roundUp(at, align);
      const r = { name: spec.name, offset: at, words };
      regions.push(r);
      this.byName.set(spec.name, r);
      at += words;
      for (const ch of `${spec.name}:${r.offset}:${words};`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
    }
    this.regions = regions;
    this.totalWords = roundUp(at, 16);
    this.hash = h | 0;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  region(name: string): HvRegion {
    const r = this.byName.get(name);
    if (r === undefined) throw new KvmError('EINVAL', `hv layout: no region named '${name}'`);
    return r;
  }

  /** The form the UI takes (VmHandles.layout): byte offsets and word counts. */
  toRecord(): Record<string, { offset: number; words: number }> {
    const out: Record<string, { offset: number; words: number }> = {};
    for (const r of this.regions) out[r.name] = { offset: r.offset * 4, words: r.words };
    return out;
  }
}

/**
 * Typed views of one VM's buffers, as seen from one thread. Build it with
 * createVm() (once, in the VMM) or attachVm() (in every other worker).
 */
export class VmShared {
  readonly hvI32: Int32Array;
  readonly ramI32: Int32Array;
  readonly ramU8: Uint8Array;
  // The shadow MMU's regions (see the table above and fields.ts).
  readonly header: Int32Array;
  readonly kvm: Int32Array;
  readonly locks: Int32Array;
  readonly kvmVcpu: Int32Array;
  readonly stats: Int32Array;
  readonly memslots: Int32Array;
  readonly gfnTable: Int32Array;
  readonly rmapHeads: Int32Array;
  readonly dirtyBitmap: Int32Array;
  readonly pfnRefcount: Int32Array;
  readonly pfnFlags: Int32Array;
  readonly pfnFree: Int32Array;
  readonly rmapDesc: Int32Array;
  readonly spMeta: Int32Array;
  readonly spHash: Int32Array;
  readonly spGfns: Int32Array;
  readonly spt: Int32Array;
  /** Region 'race': pause points check race[RACE_ARMED] (src/kvm/race/pause-points.ts). */
  readonly race: Int32Array;
  /** Region 'dirty-ring': every vCPU's ring, pushed to on each logged write fault (dirty-ring.ts). */
  readonly dirtyRing: Int32Array;

  constructor(
    readonly hv: SharedArrayBuffer,
    readonly ram: SharedArrayBuffer,
    readonly config: ResolvedVmConfig,
    readonly layout: HvLayout,
  ) {
    this.hvI32 = new Int32Array(hv);
    this.ramI32 = new Int32Array(ram);
    this.ramU8 = new Uint8Array(ram);
    this.header = this.view('header');
    this.kvm = this.view('kvm');
    this.locks = this.view('locks');
    this.kvmVcpu = this.view('kvm-vcpu');
    this.stats = this.view('kvm-stats');
    this.memslots = this.view('memslots');
    this.gfnTable = this.view('gfn-table');
    this.rmapHeads = this.view('rmap-heads');
    this.dirtyBitmap = this.view('dirty-bitmap');
    this.pfnRefcount = this.view('pfn-refcount');
    this.pfnFlags = this.view('pfn-flags');
    this.pfnFree = this.view('pfn-free');
    this.rmapDesc = this.view('rmap-desc');
    this.spMeta = this.view('sp-meta');
    this.spHash = this.view('sp-hash');
    this.spGfns = this.view('sp-gfns');
    this.spt = this.view('spt');
    this.race = this.view('race');
    this.dirtyRing = this.view('dirty-ring');
  }

  private readonly views = new Map<string, Int32Array>();

  /** An Int32Array over region `name` of hv (made once per thread, then cached). */
  view(name: string): Int32Array {
    let v = this.views.get(name);
    if (v === undefined) {
      const r = this.layout.region(name);
      v = new Int32Array(this.hv, r.offset * 4, r.words);
      this.views.set(name, v);
    }
    return v;
  }
}

function allocShared(bytes: number, what: string): SharedArrayBuffer {
  if (typeof SharedArrayBuffer !== 'function') {
    throw new KvmError('ENOSYS', 'createVm: SharedArrayBuffer is not available (the page is not cross-origin isolated)');
  }
  try {
    return new SharedArrayBuffer(bytes);
  } catch {
    throw new KvmError('ENOMEM', `createVm: could not allocate ${bytes} bytes for ${what}`);
  }
}

/** Allocate and initialise both buffers of a new VM. */
export function createVm(cfg: VmConfig = {}): VmShared {
  const c = resolveVmConfig(cfg);
  const layout = new HvLayout(c);
  const hv = allocShared(layout.totalWords * 4, 'hv');
  const ram = allocShared(c.poolPfns * PAGE_SIZE, 'the ram pool');
  const vm = new VmShared(hv, ram, c, layout);
  initHv(vm);
  return vm;
}

/** Rebuild the views of a VM from its two buffers (in another worker). */
export function attachVm(hv: SharedArrayBuffer, ram: SharedArrayBuffer): VmShared {
  check(hv instanceof SharedArrayBuffer && ram instanceof SharedArrayBuffer, 'EINVAL', 'attachVm: hv and ram must be SharedArrayBuffers');
  check(hv.byteLength >= HDR_WORDS * 4, 'EINVAL', `attachVm: hv is only ${hv.byteLength} bytes`);
  const h = new Int32Array(hv, 0, HDR_WORDS);
  check(h[HDR_MAGIC] === HV_MAGIC, 'EINVAL', 'attachVm: hv does not start with the webkvm magic (not a VM buffer)');
  check(h[HDR_VERSION] === HV_VERSION, 'EINVAL', `attachVm: hv layout version ${h[HDR_VERSION]}, this build reads ${HV_VERSION}`);
  const c = resolveVmConfig({
    memBytes: h[HDR_MEM_PAGES]! * PAGE_SIZE,
    vcpus: h[HDR_VCPUS],
    ramBase: h[HDR_RAM_BASE] === -1 ? null : h[HDR_RAM_BASE]! >>> 0,
    slotBytes: (h[HDR_SLOT_PAGES]! - 32 * KVM_MEM_SLOTS_NUM) * PAGE_SIZE,
    shadowPages: h[HDR_SHADOW_PAGES],
    rmapDescs: h[HDR_RMAP_DESCS],
  });
  const layout = new HvLayout(c);
  check(c.poolPfns === h[HDR_POOL_PFNS] && c.slotPages === h[HDR_SLOT_PAGES], 'EINVAL', 'attachVm: the header config does not resolve to the same sizes');
  check(layout.totalWords === h[HDR_TOTAL_WORDS] && layout.hash === h[HDR_LAYOUT_HASH] && hv.byteLength === layout.totalWords * 4, 'EINVAL',
    'attachVm: hv was laid out by a different build (region table hash or size differs)');
  check(ram.byteLength === c.poolPfns * PAGE_SIZE, 'EINVAL', `attachVm: ram is ${ram.byteLength} bytes, expected ${c.poolPfns * PAGE_SIZE}`);
  return new VmShared(hv, ram, c, layout);
}

/** One-time initialisation of a fresh hv (no other thread can see it yet). */
function initHv(vm: VmShared): void {
  const c = vm.config;
  const hd = vm.header;
  hd[HDR_MAGIC] = HV_MAGIC;
  hd[HDR_VERSION] = HV_VERSION;
  hd[HDR_MEM_PAGES] = c.memPages;
  hd[HDR_VCPUS] = c.vcpus;
  hd[HDR_POOL_PFNS] = c.poolPfns;
  hd[HDR_SLOT_PAGES] = c.slotPages;
  hd[HDR_SHADOW_PAGES] = c.shadowPages;
  hd[HDR_RMAP_DESCS] = c.rmapDescs;
  hd[HDR_TOTAL_WORDS] = vm.layout.totalWords;
  hd[HDR_LAYOUT_HASH] = vm.layout.hash;
  hd[HDR_RAM_BASE] = c.ramBase;

  // Shadow page free list: 0 -> 1 -> ... -> n-1.
  for (let i = 0; i < c.shadowPages; i++) vm.spMeta[i * SP_META_WORDS + SP_LIST_NEXT] = i + 1 < c.shadowPages ? i + 1 : SP_NIL;
  vm.kvm[KVM_SP_FREE_HEAD] = 0;
  vm.kvm[KVM_SP_FREE_COUNT] = c.shadowPages;
  vm.spHash.fill(SP_NIL);
  // pte_list_desc free list.
  for (let i = 0; i < c.rmapDescs; i++) vm.rmapDesc[i * RMAP_DESC_WORDS + RMAP_DESC_NEXT] = i + 1 < c.rmapDescs ? i + 1 : -1;
  vm.kvm[KVM_DESC_FREE_HEAD] = 0;
  vm.kvm[KVM_DESC_FREE_COUNT] = c.rmapDescs;
  // Host page pool: every pfn free.
  vm.pfnFree.fill(-1);
  const tail = c.poolPfns & 31;
  if (tail !== 0) vm.pfnFree[vm.pfnFree.length - 1] = (1 << tail) - 1;
  vm.kvm[KVM_POOL_FREE_COUNT] = c.poolPfns;
  for (let v = 0; v < c.vcpus; v++) {
    vm.kvmVcpu[v * KVCPU_WORDS + KVCPU_ROOT] = SP_NIL;
    vm.kvmVcpu[v * KVCPU_WORDS + KVCPU_NONPAGING_ROOT] = SP_NIL;
  }

  // The default memslot: what KVM_SET_USER_MEMORY_REGION(slot 0, RAM) does on
  // an empty VM (set-memory-region.ts), minus checks that cannot fail here.
  if (c.ramBase !== -1) {
    vm.memslots[MEMSLOT_BASE_GFN] = c.ramBase >>> PAGE_SHIFT;
    vm.memslots[MEMSLOT_NPAGES] = c.memPages;
    vm.memslots[MEMSLOT_TABLE_BASE] = 0;
    vm.memslots[MEMSLOT_DIRTY_BASE] = 0;
    vm.kvm[KVM_MEMSLOTS_USED] = 1;
  }
}
