// Registers of one vCPU, fetched from the VMM worker when the VM is not
// running (after a load, pause, step or exit). One control call per change,
// never per frame.
import { h, hex32 } from './dom.ts';
import type { Session, SessionState } from './session.ts';
import type { VcpuRegs } from './vmm-api.ts';

const ABI = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];
const PRIV = ['U', 'S', '?', 'M'];

export function createRegisters(slot: HTMLElement, session: Session, vcpu: () => number): { refresh(): void } {
  const title = h('h2', {}, 'Registers');
  const summary = h('p', { class: 'hint', 'data-testid': 'regs-summary' }, 'Shown when the VM is paused, stepped or stopped.');
  const grid = h('dl', { class: 'regs' });
  slot.replaceChildren(h('div', { class: 'section-head' }, title), summary, grid);

  let seq = 0;
  const refresh = async () => {
    const s = session.current;
    const want = ++seq;
    if (s.vm === 'running' || s.vm === 'empty' || !s.views) {
      grid.replaceChildren();
      summary.textContent = s.vm === 'running'
        ? 'Pause or step the VM to read registers.'
        : 'Shown when the VM is paused, stepped or stopped.';
      return;
    }
    const n = vcpu();
    const regs = await session.regs(n);
    if (want !== seq) return;
    if (!regs) {
      summary.textContent = `Registers of vCPU ${n} are not available.`;
      grid.replaceChildren();
      return;
    }
    show(n, regs);
  };

  const show = (n: number, r: VcpuRegs) => {
    summary.textContent = `vCPU ${n}: pc ${hex32(r.pc)}, ${PRIV[r.priv] ?? r.priv}-mode`;
    const cells: Node[] = [];
    const add = (name: string, value: number) =>
      cells.push(h('div', {}, h('dt', {}, name), h('dd', {}, hex32(value))));
    add('pc', r.pc);
    r.x.forEach((v, i) => { if (i > 0) add(`${ABI[i] ?? `x${i}`}`, v); });
    for (const [name, value] of Object.entries(r.csrs)) add(name, value);
    grid.replaceChildren(...cells);
  };

  let lastKey = '';
  session.subscribe((s: SessionState) => {
    // Re-read after each finished control call and on state changes.
    const key = `${s.vm}|${s.busy ?? ''}|${s.views ? 1 : 0}`;
    if (key === lastKey || s.busy) { lastKey = key; return; }
    lastKey = key;
    void refresh();
  });
  return { refresh: () => void refresh() };
}
