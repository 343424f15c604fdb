// The shadow-MMU explorer: for a vCPU and a guest virtual address, the whole
// translation as KVM's shadow MMU holds it:
//   gva -> the guest's page-table entries (Sv32 level 1, level 0; or
//          "satp = bare": gva is already guest physical)
//       -> the SPTEs the vCPU's "hardware" walks (shadow root, level 2,
//          level 1), each with its shadow page's role and its bits
//       -> the host pfn.
// The walk is done read-only in the VMM worker (src/kvm/mmu-explain.ts), one
// comlink call per Explain. The counts of direct and indirect shadow pages
// come from the kvm_mmu_page metadata in shared memory, a few times a second.
import { h, uniqueId } from '../dom.ts';
import { userMessage } from '../errors.ts';
import { registerPanel, type Frame } from '../panel.ts';
import type { Session } from '../session.ts';
import { REGION_SP_META } from '../shared-layout.ts';
import type { SharedViews } from '../shared-views.ts';
import type { AddressWalk, VmmApi } from '../vmm-api.ts';
import { countShadowPages, parseGfn } from '../host-mmu-logic.ts';

const TEXT_INTERVAL_MS = 250;

export const MMU_EXPLORER_DESCRIPTION =
  'Pick a vCPU and a guest virtual address: the guest page-table walk, then the shadow page table ' +
  'the vCPU really uses (indirect pages shadow guest tables; direct pages map guest-physical memory ' +
  'or a megapage), down to the host page. SPTE bits: W writable, HOST_WRITEABLE the host page may be ' +
  'written, MMU_WRITEABLE the fast page fault may set W; A/D as the walk set them.';

export function registerMmuExplorerPanel(api: VmmApi | null, session: Session): void {
  const ids = { vcpu: uniqueId('mmu-vcpu'), gva: uniqueId('mmu-gva') };
  const vcpu = h('input', { type: 'number', id: ids.vcpu, min: 0, max: 7, step: 1, value: 0, class: 'dirty-num' });
  const gva = h('input', { type: 'text', id: ids.gva, class: 'host-gfn', value: '0x80000000', spellcheck: 'false', autocomplete: 'off' });
  const explain = h('button', { type: 'button', 'data-testid': 'mmu-explain' }, 'Explain');
  const usePc = h('button', { type: 'button', class: 'link' }, "use the vCPU's pc");
  const counts = h('p', { class: 'dirty-stats', 'data-testid': 'mmu-counts' }, 'No VM yet.');
  const walk = h('ol', { class: 'mmu-walk', 'data-testid': 'mmu-walk', 'aria-live': 'polite' });
  const note = h('p', { class: 'dirty-msg' });

  let root: HTMLElement = h('div');
  let hasVm = false;
  let lastText = 0;

  const sync = () => {
    explain.disabled = !api || !hasVm;
    usePc.disabled = !api || !hasVm;
  };
  const vcpuNo = () => Math.max(0, Math.round(Number.isFinite(vcpu.valueAsNumber) ? vcpu.valueAsNumber : 0));

  const show = (w: AddressWalk) => {
    walk.replaceChildren(...w.lines.map((l) => h('li', { class: /^shadow|^guest|^host/.test(l) ? 'mmu-step' : '' }, l)));
    root.dataset.walkMode = w.mode;
    root.dataset.walkGpa = w.gpa < 0 ? '' : String(w.gpa);
    const leaf = w.shadow[1];
    root.dataset.walkPfn = leaf && leaf.present && leaf.leaf ? String(leaf.target) : '';
    root.dataset.walkLeaf = leaf ? (leaf.page.direct ? 'direct' : 'indirect') : '';
    root.dataset.walkState = 'ok';
    note.textContent = '';
  };

  explain.addEventListener('click', async () => {
    if (!api || !hasVm) return;
    const addr = parseGfn(gva.value);
    if (!Number.isInteger(addr) || addr > 0xffffffff) {
      note.textContent = `'${gva.value}' is not a 32-bit address (hex like 0x80001000, or decimal)`;
      root.dataset.walkState = 'error';
      return;
    }
    try {
      show(await api.explainAddress(vcpuNo(), addr));
    } catch (e) {
      note.textContent = userMessage(e);
      root.dataset.walkState = 'error';
    }
  });
  usePc.addEventListener('click', async () => {
    const regs = await session.regs(vcpuNo());
    if (regs) gva.value = `0x${regs.pc.toString(16)}`;
  });

  const draw = (f: Frame) => {
    if (!f.views || f.now - lastText < TEXT_INTERVAL_MS) return;
    lastText = f.now;
    drawCounts(f.views);
  };
  const drawCounts = (views: SharedViews) => {
    const meta = views.region(REGION_SP_META);
    if (!meta) return;
    const c = countShadowPages(meta.i32);
    root.dataset.direct = String(c.direct);
    root.dataset.indirect = String(c.indirect);
    counts.textContent = `Shadow pages in use: ${c.direct} direct (guest-physical map, megapages), ${c.indirect} indirect (shadowing guest page tables).`;
    vcpu.max = String(Math.max(0, views.vcpus - 1));
  };

  registerPanel({
    id: 'mmu-explorer',
    title: 'Shadow MMU explorer',
    description: MMU_EXPLORER_DESCRIPTION,
    mount(body) {
      root = body.parentElement ?? body;
      body.append(
        h('div', { class: 'dirty-controls' },
          h('label', { for: ids.vcpu }, 'vCPU'), vcpu,
          h('label', { for: ids.gva }, 'guest virtual address'), gva, explain, usePc),
        counts, note, walk);
      session.subscribe((s) => {
        hasVm = s.views !== null;
        sync();
      });
    },
    draw,
    reset() {
      lastText = 0;
      walk.replaceChildren();
      counts.textContent = 'No VM yet.';
    },
  });
}
