// The dirty-bitmap heat map: one cell per guest page of memslot 0.
//
// Each frame (never through comlink) it reads the slot's live dirty-bitmap
// words and gfn-table words from shared memory, folds the bits into a private
// heat array (set bit = full heat, then a fade, so a page lingers after
// GET_DIRTY_LOG clears its bit), maps heat through the cividis LUT into a
// private ImageData and puts it on a canvas that is one pixel per page. Pages
// that were ever backed by a host page show in a dim colour, so students see
// memory being touched even with logging off.
//
// Every collection (GET, GET + CLEAR, ring harvest, a migration round) comes
// back through comlink with its bitmap: its pages flash to full heat and fade
// over FADE_MS, and the bitmap goes into the dirty history (dirty-history.ts).
// A click on a cell shows the page's gfn, host pfn and history at once, and
// asks the VMM once (describePage) for the SPTEs in its rmap.
import { cividisCss, cividisLut, packRgb } from '../cividis.ts';
import { createDirtyControls, type DirtyControls } from '../dirty-controls.ts';
import { dirtyGrid, pageAtPoint, stepPage, type DirtyGrid } from '../dirty-grid.ts';
import { DirtyHeat } from '../dirty-heat.ts';
import { describeHistory, DirtyHistory } from '../dirty-history.ts';
import { selectGfn } from '../dirty-selection.ts';
import { userMessage } from '../errors.ts';
import { h, hex32, uniqueId } from '../dom.ts';
import { darkScheme } from '../media.ts';
import { registerPanel, type Frame } from '../panel.ts';
import type { Session } from '../session.ts';
import { PAGE_SHIFT } from '../shared-layout.ts';
import { followSlotView, type SlotSnapshot } from '../slot-view.ts';
import type { DirtyLog, VmmApi } from '../vmm-api.ts';

/** A page fades from full heat to cold in this long (no fade under reduced motion). */
const FADE_MS = 1500;
/** Text readouts change at most this often, so the DOM does not churn at 60 fps. */
const TEXT_INTERVAL_MS = 250;
const LEGEND_STOPS = 6;
const SELECTED_PIXEL = packRgb(0xff, 0xff, 0xff);

export const DIRTY_MAP_DESCRIPTION =
  'One cell per 4 KiB page of memslot 0. A cell lights up when markPageDirty sets its bit on a ' +
  'fast or slow write fault, and fades after a collection (GET_DIRTY_LOG, CLEAR_DIRTY_LOG, ring harvest) ' +
  'write-protects the page again. Dim cells are pages backed by a host page; click a cell for its ' +
  'host page, the SPTEs that map it and the collections it appeared in.';

interface Canvas {
  grid: DirtyGrid;
  heat: DirtyHeat;
  image: ImageData;
  pixels: Uint32Array;
}

export function registerDirtyMapPanel(api: VmmApi | null, session: Session): void {
  const lut = cividisLut();
  const canvas = h('canvas', {
    class: 'dirty-canvas', width: 256, height: 1, tabindex: 0, 'data-testid': 'dirty-canvas',
    role: 'img', 'aria-label': 'Dirty pages of memslot 0; use the arrow keys to inspect a page and Enter for its SPTEs',
  });
  const ctx = canvas.getContext('2d', { alpha: false })!;
  const stats = h('p', { class: 'dirty-stats', 'aria-live': 'off' });
  const getInfo = h('p', { class: 'dirty-stats' }, 'No collection yet.');
  // Not a live region (it changes on every hover and frame): the canvas points at it
  // with aria-describedby, so a screen reader reads it when the map has focus.
  const cellId = uniqueId('dirty-cell');
  const cell = h('p', { class: 'dirty-cell', id: cellId }, 'Hover or click a cell.');
  canvas.setAttribute('aria-describedby', cellId);
  const timing = h('span', { class: 'dirty-timing', 'data-testid': 'dirty-frame-ms' });
  const detail = h('pre', { class: 'dirty-detail', 'data-testid': 'dirty-page-detail', 'aria-live': 'polite' });

  let root: HTMLElement = h('div');
  let controls: DirtyControls | null = null;
  const slotOf = followSlotView(0);
  let c: Canvas | null = null;
  let snap: SlotSnapshot | null = null;
  let hover = -1;
  let pinned = -1;
  let lastText = 0;
  let frameMs = 0;
  let dirtyNow = 0;
  let gets = 0;
  let history: DirtyHistory | null = null;
  let detailSeq = 0;
  let colours = themeColours();
  darkScheme.onChange(() => (colours = themeColours()));

  const publish = (log: DirtyLog, label: string) => {
    gets += 1;
    const pages = snap?.pages ?? log.bitmap.length * 32;
    if (!history || history.pages !== pages) history = new DirtyHistory(pages);
    const round = history.record(log.bitmap, log.pages, label, performance.now());
    c?.heat.flash(log.bitmap);
    root.dataset.getPages = String(log.pages);
    root.dataset.getCount = String(gets);
    root.dataset.round = String(round);
    getInfo.textContent =
      `${label} #${gets}: ${log.pages.toLocaleString()} page${log.pages === 1 ? '' : 's'} collected in ${log.ms.toFixed(2)} ms.`;
  };

  /** Pages of the slot backed by a host page now (a migration's full first round). */
  const backedPages = (): number => {
    if (!snap) return 0;
    let n = 0;
    const t = snap.gfnTable;
    for (let i = 0; i < t.length; i++) if (t[i] !== 0) n++;
    return n;
  };

  /** Details of a clicked page: what the UI knows now, then the rmap from the VMM. */
  const showDetail = (page: number) => {
    if (!snap || page < 0 || page >= snap.pages) return;
    const gfn = snap.baseGfn + page;
    selectGfn(gfn);
    const seq = ++detailSeq;
    const hist = history ? describeHistory(history.page(page)) : 'no collection yet';
    const head = [describe(page), `dirty history: ${hist}`];
    detail.textContent = [...head, 'SPTEs: asking the VMM…'].join('\n');
    root.dataset.detailGfn = String(gfn);
    delete root.dataset.detailSptes;
    if (!api) return;
    api.describePage(gfn).then((d) => {
      if (seq !== detailSeq) return;
      detail.textContent = [...head, ...d.lines].join('\n');
      root.dataset.detailSptes = String(d.sptes.length);
    }, (e: unknown) => {
      if (seq === detailSeq) detail.textContent = [...head, `SPTEs: ${userMessage(e)}`].join('\n');
    });
  };

  const ensureCanvas = (pages: number): Canvas => {
    if (c && c.grid.pages === pages) return c;
    const grid = dirtyGrid(pages);
    canvas.width = grid.width;
    canvas.height = grid.height;
    const image = ctx.createImageData(grid.width, grid.height);
    const pixels = new Uint32Array(image.data.buffer);
    c = { grid, heat: new DirtyHeat(pages), image, pixels };
    root.dataset.pages = String(pages);
    return c;
  };

  const describe = (page: number): string => {
    if (!snap || page < 0 || page >= snap.pages) return 'Hover or click a cell.';
    const gfn = snap.baseGfn + page;
    const pte = snap.gfnTable[page]! >>> 0;
    const pfn = pte >>> PAGE_SHIFT;
    const bit = (Atomics.load(snap.dirty, page >>> 5) >>> (page & 31)) & 1;
    return `page ${page}: gfn 0x${gfn.toString(16)}, guest physical ${hex32(gfn * 4096)}, ` +
      `host pfn ${pte === 0 ? '— (not backed)' : `0x${pfn.toString(16)}`}, dirty bit ${bit ? 'set' : 'clear'}` +
      (pinned === page ? ' (selected)' : '');
  };

  const pointTo = (ev: MouseEvent): number => {
    if (!c) return -1;
    const r = canvas.getBoundingClientRect();
    return pageAtPoint(c.grid, ev.clientX - r.left, ev.clientY - r.top, r.width, r.height);
  };
  canvas.addEventListener('mousemove', (ev) => {
    hover = pointTo(ev);
    cell.textContent = describe(hover >= 0 ? hover : pinned);
  });
  canvas.addEventListener('mouseleave', () => {
    hover = -1;
    cell.textContent = describe(pinned);
  });
  canvas.addEventListener('click', (ev) => {
    pinned = pointTo(ev);
    cell.textContent = describe(pinned);
    showDetail(pinned);
  });
  canvas.addEventListener('keydown', (ev) => {
    if (c && ev.key === 'Enter' && pinned >= 0) {
      ev.preventDefault();
      showDetail(pinned);
      return;
    }
    if (!c || !ev.key.startsWith('Arrow')) return;
    ev.preventDefault();
    pinned = stepPage(c.grid, pinned, ev.key);
    cell.textContent = describe(pinned);
  });

  /** Per-frame figures reach the DOM only when they change: no attribute write per frame. */
  const shown = { dirtyPages: -1, hotPages: -1 };
  const showCount = (key: keyof typeof shown, n: number) => {
    if (shown[key] === n) return;
    shown[key] = n;
    root.dataset[key] = String(n);
  };

  const draw = (f: Frame) => {
    const slot = slotOf(f.views);
    snap = slot ? slot.read() : null;
    if (!snap) {
      showCount('dirtyPages', 0);
      const why = f.views ? (slot?.problem || 'No memslot 0.') : 'No VM yet: load or run a guest.';
      if (stats.textContent !== why) stats.textContent = why;
      return;
    }
    const t0 = performance.now();
    const cv = ensureCanvas(snap.pages);
    // Reduced motion: no fade, heat simply follows the bit.
    const decay = f.reducedMotion ? -1 : Math.max(1, Math.round((f.dt || 16) * 255 / FADE_MS));
    dirtyNow = cv.heat.fold(snap.dirty, decay);
    // The selected page stays findable: white in the map.
    const hot = cv.heat.render(cv.pixels, snap.gfnTable, lut, colours.backed, colours.unbacked, pinned, SELECTED_PIXEL);
    // An idle VM changes no pixel: skip the upload (up to 1 MiB per frame at 262,144 pages).
    if (cv.heat.changed) ctx.putImageData(cv.image, 0, 0);
    const ms = performance.now() - t0;
    frameMs = frameMs === 0 ? ms : frameMs * 0.9 + ms * 0.1;
    showCount('dirtyPages', dirtyNow);
    // Pages still fading (or dirty): falls to 0 about FADE_MS after the last collection.
    showCount('hotPages', hot);

    if (f.now - lastText >= TEXT_INTERVAL_MS) {
      lastText = f.now;
      root.dataset.frameMs = frameMs.toFixed(2);
      timing.textContent = `draw ${frameMs.toFixed(2)} ms`;
      const logging = snap.flags & 1 ? 'logging on' : 'logging off';
      stats.textContent = `${dirtyNow.toLocaleString()} of ${snap.pages.toLocaleString()} pages dirty now · ${logging}`;
      const shown = hover >= 0 ? hover : pinned;
      if (shown >= 0) cell.textContent = describe(shown);
    }
  };

  registerPanel({
    id: 'dirty-map',
    title: 'Dirty bitmap (memslot 0)',
    description: DIRTY_MAP_DESCRIPTION,
    mount(body) {
      root = body.parentElement ?? body;
      root.dataset.dirtyPages = '0';
      controls = createDirtyControls(api, root, { publish, backedPages });
      body.append(
        controls.element,
        h('div', { class: 'dirty-frame' }, canvas),
        legend(),
        h('div', { class: 'dirty-readout' }, stats, timing),
        getInfo,
        cell,
        detail,
      );
      let hadVm: boolean | null = null;
      session.subscribe((s) => {
        const has = s.views !== null;
        if (has !== hadVm) {
          hadVm = has;
          controls?.vmChanged(has);
        }
      });
    },
    draw,
    reset() {
      c = null;
      snap = null;
      history = null;
      detailSeq++;
      detail.textContent = '';
      hover = pinned = -1;
      frameMs = 0;
      cell.textContent = 'Hover or click a cell.';
      controls?.vmChanged(session.current.views !== null);
    },
  });

  function legend(): HTMLElement {
    const stops = Array.from({ length: LEGEND_STOPS }, (_, i) => `${cividisCss(i / (LEGEND_STOPS - 1))} ${(100 * i) / (LEGEND_STOPS - 1)}%`);
    return h('div', { class: 'dirty-legend' },
      h('span', { class: 'legend-item' }, h('span', { class: 'swatch dirty-swatch-unbacked' }), 'never backed'),
      h('span', { class: 'legend-item' }, h('span', { class: 'swatch dirty-swatch-backed' }), 'backed, clean'),
      h('span', { class: 'legend-item' },
        h('span', { class: 'legend-label' }, 'faded'),
        h('span', { class: 'dirty-ramp', style: `background: linear-gradient(to right, ${stops.join(', ')})` }),
        h('span', { class: 'legend-label' }, 'dirty now')));
  }
}

/**
 * Canvas colours (the canvas is not styled by CSS; the legend swatches in
 * styles.css use the same numbers). Backed-but-clean is a dim navy just below
 * the cold end of cividis, so a fading cell settles into it without a jump;
 * never-backed follows the page background.
 */
function themeColours(): { backed: number; unbacked: number } {
  return {
    backed: packRgb(0x1c, 0x2a, 0x45),
    unbacked: darkScheme.matches ? packRgb(0x0d, 0x11, 0x17) : packRgb(0xe4, 0xe8, 0xed),
  };
}
