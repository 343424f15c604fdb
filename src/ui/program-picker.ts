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

  const current = () => GUESTS.find((g) => g.name === select.value) ?? null;
  const describe = () => {
    const g = current();
    desc.textContent = g
      ? `${g.description} (${g.vcpus} vCPU${g.vcpus === 1 ? '' : 's'})`
      : 'No built-in guests are available in this build; upload an ELF or write assembly below.';
  };
  select.addEventListener('change', () => {
    describe();
    const g = current();
    if (g) onGuestChosen(g);
  });
  load.addEventListener('click', () => {
    const g = current();
    if (g && isAvailable(load)) void session.load({ kind: 'guest', name: g.name });
  });
  describe();
  const first = current();
  if (first) onGuestChosen(first);

  slot.replaceChildren(
    h('label', { for: selectId }, 'Built-in guest'),
    h('div', { class: 'inline' }, select, load),
    desc,
  );
  if (GUESTS.length === 0) select.disabled = true;

  session.subscribe((s) => setAvailable(load, s.canRun && !s.busy && GUESTS.length > 0));

  return {
    selected: () => {
      const g = current();
      return g ? { kind: 'guest', name: g.name } : null;
    },
  };
}
