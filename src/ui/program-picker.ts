// Built-in guest programs: pick one, load it. Run with nothing loaded also
// loads the selected guest, so "pick, Run" is the shortest path.
import { h, isAvailable, setAvailable, uniqueId } from './dom.ts';
import { GUESTS, type GuestInfo } from './guests.ts';
import type { Session } from './session.ts';
import type { ProgramSource } from './vmm-api.ts';

export interface ProgramPicker {
  selected(): ProgramSource | null;
}

export function createProgramPicker(
  slot: HTMLElement,
  session: Session,
  onGuestChosen: (g: GuestInfo) => void,
): ProgramPicker {
  const selectId = uniqueId('guest');
  const descId = uniqueId('guest-desc');
  const select = h('select', { id: selectId, 'aria-describedby': descId, 'data-testid': 'guest-select' },
    ...GUESTS.map((g) => h('option', { value: g.name }, g.title)));
  const load = h('button', { type: 'button' }, 'Load');
  const desc = h('p', { class: 'hint', id: descId });
  // The chosen guest's parameters (pages per vCPU, pattern...), kept per guest.
  const paramBox = h('div', { class: 'guest-params', 'data-testid': 'guest-params' });
  const values = new Map<string, Record<string, number>>();

  const current = () => GUESTS.find((g) => g.name === select.value) ?? null;
  const paramsOf = (g: GuestInfo): Record<string, number> => {
    let v = values.get(g.name);
    if (!v) values.set(g.name, (v = Object.fromEntries(g.params.map((p) => [p.name, p.value]))));
    return v;
  };
  const source = (g: GuestInfo): ProgramSource => ({ kind: 'guest', name: g.name, params: { ...paramsOf(g) } });
  const showParams = () => {
    const g = current();
    if (!g || g.params.length === 0) return paramBox.replaceChildren();
    const v = paramsOf(g);
    paramBox.replaceChildren(...g.params.map((p) => {
      const id = uniqueId(`param-${p.name}`);
      const input = h('input', { id, type: 'number', step: '1', value: String(v[p.name]), title: p.help, 'data-param': p.name });
      input.addEventListener('change', () => {
        const n = Number(input.value);
        if (Number.isInteger(n)) v[p.name] = n;
        else input.value = String(v[p.name]); // keep the last good value; the worker checks the range
      });
      return h('div', { class: 'inline' }, h('label', { for: id, title: p.help }, p.name), input);
    }));
  };
  const describe = () => {
    const g = current();
    desc.textContent = g
      ? `${g.description} (${g.vcpus} vCPU${g.vcpus === 1 ? '' : 's'})`
      : 'No built-in guests are available in this build; upload an ELF or write assembly below.';
  };
  select.addEventListener('change', () => {
    describe();
    showParams();
    const g = current();
    if (g) onGuestChosen(g);
  });
  load.addEventListener('click', () => {
    const g = current();
    if (g && isAvailable(load)) void session.load(source(g));
  });
  describe();
  showParams();
  const first = current();
  if (first) onGuestChosen(first);

  slot.replaceChildren(
    h('label', { for: selectId }, 'Built-in guest'),
    h('div', { class: 'inline' }, select, load),
    desc,
    paramBox,
  );
  if (GUESTS.length === 0) select.disabled = true;

  session.subscribe((s) => setAvailable(load, s.canRun && !s.busy && GUESTS.length > 0));

  return {
    selected: () => {
      const g = current();
      return g ? source(g) : null;
    },
  };
}
