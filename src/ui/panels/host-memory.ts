// The host-memory panel: what the host kernel does to guest pages behind
// KVM's back, through the MMU-notifier protocol (src/kvm/host-ops.ts):
// swap a page out, KSM-merge two identical pages into one read-only host
// page, migrate a page to another host page; and in bulk, as kswapd and ksmd
// would. Each button is one comlink call to the VMM worker.
//
// Live figures come from shared memory, read at most every TEXT_INTERVAL_MS:
// the selected page's host PTE (gfn-table), the swap area and host-op
// counters ('swap-map'), MMU-notifier invalidations and the TLB flushes they
// caused ('kvm-stats'), the notifier sequence and free host pages ('kvm').
import { h, uniqueId } from '../dom.ts';
import { onGfnSelected, selectedGfn } from '../dirty-selection.ts';
import { describeHostPte, hostPteState, KSM_PASS_LIMIT, parseGfn } from '../host-mmu-logic.ts';
import { userMessage } from '../errors.ts';
import { registerPanel, type Frame } from '../panel.ts';
import type { Session } from '../session.ts';
import {
  FLUSH_CAUSE_MMU_NOTIFIER, HOSTOP_KSM_COW_COPIES, HOSTOP_KSM_COW_REUSES, HOSTOP_KSM_MERGES, HOSTOP_MIGRATIONS,
  KVM_MMU_NOTIFIER_SEQ, KVM_POOL_FREE_COUNT, PAGE_WORDS, REGION_KVM, REGION_KVM_STATS, REGION_PFN_REFCOUNT, REGION_SWAP, REGION_SWAP_MAP, STAT_FLUSH_CAUSE,
  STAT_NOTIFIER_INVALIDATE, SWAP_INS, SWAP_OUTS, SWAP_USED,
} from '../shared-layout.ts';
import type { SharedViews } from '../shared-views.ts';
import { followSlotView } from '../slot-view.ts';
import type { VmmApi } from '../vmm-api.ts';

const TEXT_INTERVAL_MS = 250;
const DEFAULT_BULK = 16;

export const HOST_MEMORY_DESCRIPTION =
  'The host swaps, merges (KSM) and migrates guest pages while the vCPUs run. Each operation runs ' +
  'invalidate_range_start/end around the change: the SPTEs of the page, found through its rmap, are ' +
  'zapped and remote TLBs flushed, and a page fault that looked the old host page up meanwhile retries. ' +
  'The next guest access faults the page back in (swap-in, copy-on-write for a KSM page).';

interface Counter {
  key: string;
  label: string;
  read(v: SharedViews): number;
}

function word(v: SharedViews, region: string, i: number): number {
  const r = v.region(region);
  return r && i < r.words ? Atomics.load(r.u32, i) : 0;
}

const COUNTERS: Counter[] = [
  { key: 'swapUsed', label: 'swap slots in use', read: (v) => word(v, REGION_SWAP_MAP, SWAP_USED) },
  { key: 'swapOuts', label: 'swap-outs', read: (v) => word(v, REGION_SWAP_MAP, SWAP_OUTS) },
  { key: 'swapIns', label: 'swap-ins (faults)', read: (v) => word(v, REGION_SWAP_MAP, SWAP_INS) },
  { key: 'merges', label: 'KSM merges', read: (v) => word(v, REGION_SWAP_MAP, HOSTOP_KSM_MERGES) },
  { key: 'cowCopies', label: 'KSM copy-on-write copies', read: (v) => word(v, REGION_SWAP_MAP, HOSTOP_KSM_COW_COPIES) },
  { key: 'cowReuses', label: 'KSM copy-on-write reuses', read: (v) => word(v, REGION_SWAP_MAP, HOSTOP_KSM_COW_REUSES) },
  { key: 'migrations', label: 'migrations', read: (v) => word(v, REGION_SWAP_MAP, HOSTOP_MIGRATIONS) },
  { key: 'invalidations', label: 'MMU-notifier invalidations', read: (v) => word(v, REGION_KVM_STATS, STAT_NOTIFIER_INVALIDATE) },
  { key: 'notifierFlushes', label: 'remote TLB flushes (mmu notifier)', read: (v) => word(v, REGION_KVM_STATS, STAT_FLUSH_CAUSE + FLUSH_CAUSE_MMU_NOTIFIER) },
  { key: 'notifierSeq', label: 'mmu_notifier_seq', read: (v) => word(v, REGION_KVM, KVM_MMU_NOTIFIER_SEQ) },
  { key: 'freePfns', label: 'free host pages', read: (v) => word(v, REGION_KVM, KVM_POOL_FREE_COUNT) },
];

export function registerHostMemoryPanel(api: VmmApi | null, session: Session): void {
  const ids = { a: uniqueId('host-gfn'), b: uniqueId('host-gfn-b'), n: uniqueId('host-n') };
  const gfnA = h('input', { type: 'text', id: ids.a, class: 'host-gfn', placeholder: '0x80100', spellcheck: 'false', autocomplete: 'off' });
  const gfnB = h('input', { type: 'text', id: ids.b, class: 'host-gfn', placeholder: '0x80101', spellcheck: 'false', autocomplete: 'off' });
  const pickA = h('button', { type: 'button', class: 'link' }, 'use the heat-map page');
  const pickB = h('button', { type: 'button', class: 'link' }, 'use the heat-map page');
  const swap = h('button', { type: 'button' }, 'Swap out');
  const merge = h('button', { type: 'button' }, 'KSM merge');
  const migrate = h('button', { type: 'button' }, 'Migrate');
  const bulkN = h('input', { type: 'number', id: ids.n, min: 1, max: 4096, step: 1, value: DEFAULT_BULK, class: 'dirty-num' });
  const swapRandom = h('button', { type: 'button' }, 'Swap out random pages');
  const mergeAll = h('button', { type: 'button' }, 'Merge all identical pages');
  const result = h('p', { class: 'host-result', role: 'status', 'data-testid': 'host-result' });
  const pageState = h('p', { class: 'host-page', 'data-testid': 'host-page-state' }, 'Type a gfn or click a page on the heat map.');
  const cells = new Map<string, HTMLElement>();
  const table = h('table', { class: 'host-counters' },
    h('tbody', {}, ...COUNTERS.map((c) => {
      const td = h('td', { 'data-counter': c.key }, '0');
      cells.set(c.key, td);
      return h('tr', {}, h('th', { scope: 'row' }, c.label), td);
    })));

  let root: HTMLElement = h('div');
  let hasVm = false;
  let busy = false;
  const slotOf = followSlotView(0);
  let lastText = 0;

  const sync = () => {
    for (const b of [swap, merge, migrate, swapRandom, mergeAll]) b.disabled = !api || !hasVm || busy;
  };
  const say = (text: string, errno = '') => {
    result.textContent = text;
    result.classList.toggle('dirty-msg-error', errno !== '');
    root.dataset.hostResult = errno ? 'error' : 'ok';
    if (errno) root.dataset.hostErrno = errno;
    else delete root.dataset.hostErrno;
  };
  const gfnOf = (input: HTMLInputElement, what: string): number => {
    const g = parseGfn(input.value);
    if (!Number.isInteger(g)) throw { code: 'EINVAL', message: `${what}: '${input.value}' is not a gfn (hex like 0x80100, or decimal)` };
    return g;
  };

  /** One host operation; its answer or its errno in the result line. */
  const act = (fn: (a: VmmApi) => Promise<string>) => async () => {
    if (!api || !hasVm || busy) return;
    busy = true;
    sync();
    try {
      say(await fn(api));
      root.dataset.hostOps = String(Number(root.dataset.hostOps ?? 0) + 1);
    } catch (e) {
      const text = userMessage(e);
      say(text, /^(E[A-Z0-9]+):/.exec(text)?.[1] ?? 'EFAULT');
    } finally {
      busy = false;
      sync();
    }
  };
  const hex = (n: number) => `0x${n.toString(16)}`;

  swap.addEventListener('click', act(async (a) => {
    const g = gfnOf(gfnA, 'swap-out');
    return (await a.swapOutPage(g))
      ? `Swapped out gfn ${hex(g)}: its SPTEs were zapped, its host page went back to the pool; the next access swaps it in.`
      : `gfn ${hex(g)} is not resident (never touched, or already swapped out): nothing to do.`;
  }));
  merge.addEventListener('click', act(async (a) => {
    const g1 = gfnOf(gfnA, 'ksm-merge');
    const g2 = gfnOf(gfnB, 'ksm-merge');
    return (await a.ksmMergePages(g1, g2))
      ? `Merged gfn ${hex(g2)} into gfn ${hex(g1)}'s host page, read-only: a write to either breaks the sharing (copy-on-write).`
      : `gfns ${hex(g1)} and ${hex(g2)} already share one host page.`;
  }));
  migrate.addEventListener('click', act(async (a) => {
    const g = gfnOf(gfnA, 'migrate');
    const pfn = await a.migratePage(g);
    return pfn < 0 ? `gfn ${hex(g)} is not resident: nothing to migrate.`
      : `Migrated gfn ${hex(g)} to host pfn ${hex(pfn)}; the old host page is free, the old SPTEs are gone.`;
  }));
  swapRandom.addEventListener('click', act(async (a) => {
    const n = Math.max(1, Math.round(Number.isFinite(bulkN.valueAsNumber) ? bulkN.valueAsNumber : DEFAULT_BULK));
    const r = await a.swapOutRandom(n);
    return `Swapped out ${r.done} of ${n} random resident pages${r.stoppedBy ? `; stopped: ${r.stoppedBy}` : '.'}`;
  }));
  mergeAll.addEventListener('click', act(async (a) => {
    const r = await a.ksmMergeIdentical();
    const more = r.done >= KSM_PASS_LIMIT ? ` (a pass merges at most ${KSM_PASS_LIMIT}, like ksmd's pages_to_scan: click again for more)` : '';
    return `ksmd pass: ${r.considered} resident pages scanned, ${r.done} merged into an identical page${more}${r.stoppedBy ? `; stopped: ${r.stoppedBy}` : '.'}`;
  }));
  const pick = (input: HTMLInputElement) => () => {
    const g = selectedGfn();
    if (g >= 0) input.value = hex(g);
    else say('Click a page on the dirty-bitmap heat map first.');
  };
  pickA.addEventListener('click', pick(gfnA));
  pickB.addEventListener('click', pick(gfnB));
  onGfnSelected((g) => {
    if (gfnA.value.trim() === '') gfnA.value = hex(g);
  });

  const drawPage = (views: SharedViews) => {
    const g = parseGfn(gfnA.value);
    const snap = slotOf(views)?.read();
    if (!Number.isInteger(g) || !snap) {
      pageState.textContent = 'Type a gfn or click a page on the heat map.';
      return;
    }
    const i = g - snap.baseGfn;
    if (i < 0 || i >= snap.pages) {
      pageState.textContent = `gfn ${hex(g)} is outside memslot 0 (gfns ${hex(snap.baseGfn)}–${hex(snap.baseGfn + snap.pages - 1)}).`;
      root.dataset.pageState = 'outside';
      return;
    }
    const pte = Atomics.load(snap.gfnTable, i);
    const refs = views.region(REGION_PFN_REFCOUNT);
    pageState.textContent = `gfn ${hex(g)}: ${describeHostPte(pte, (pfn) => (refs && pfn < refs.words ? Atomics.load(refs.i32, pfn) : 0))}`;
    root.dataset.pageState = hostPteState(pte);
  };

  const draw = (f: Frame) => {
    if (!f.views || f.now - lastText < TEXT_INTERVAL_MS) return;
    lastText = f.now;
    for (const c of COUNTERS) {
      const v = c.read(f.views);
      const cell = cells.get(c.key)!;
      const text = c.key === 'swapUsed' ? `${v} of ${(f.views.region(REGION_SWAP)?.words ?? 0) / PAGE_WORDS}` : v.toLocaleString('en');
      if (cell.textContent !== text) cell.textContent = text;
      root.dataset[c.key] = String(v);
    }
    drawPage(f.views);
  };

  registerPanel({
    id: 'host-memory',
    title: 'Host memory: swap, KSM, migration',
    description: HOST_MEMORY_DESCRIPTION,
    mount(body) {
      root = body.parentElement ?? body;
      body.append(
        h('div', { class: 'host-inputs' },
          h('label', { for: ids.a }, 'gfn'), gfnA, pickA,
          h('label', { for: ids.b }, 'second gfn (merge)'), gfnB, pickB),
        h('div', { class: 'dirty-controls' }, swap, merge, migrate),
        h('div', { class: 'dirty-controls' },
          h('label', { for: ids.n }, 'random pages to swap'), bulkN, swapRandom, mergeAll),
        result,
        pageState,
        table);
      session.subscribe((s) => {
        hasVm = s.views !== null;
        sync();
      });
    },
    draw,
    reset() {
      lastText = 0;
    },
  });
}
