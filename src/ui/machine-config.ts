// Machine settings: vCPU count and guest memory size. They apply when a VM is
// created, i.e. the next time a program is loaded.
import { h, uniqueId } from './dom.ts';
import type { MachineConfig } from './session.ts';

export const MAX_VCPUS = 8;
const MEMORY_CHOICES_MIB = [16, 32, 64, 128, 256, 512, 1024];
const DEFAULT_MEM_MIB = 64;

export interface MachineConfigView {
  read(): MachineConfig;
  setVcpus(n: number): void;
}

export function createMachineConfig(slot: HTMLElement): MachineConfigView {
  const cores = navigator.hardwareConcurrency || 1;
  const vcpuId = uniqueId('vcpus');
  const memId = uniqueId('mem');
  const noteId = uniqueId('vcpu-note');
  const vcpus = h('input', {
    id: vcpuId, type: 'number', min: 1, max: MAX_VCPUS, step: 1, inputmode: 'numeric',
    value: Math.min(2, cores), 'aria-describedby': noteId,
  });
  const mem = h('select', { id: memId },
    ...MEMORY_CHOICES_MIB.map((m) => h('option', { value: m, selected: m === DEFAULT_MEM_MIB }, `${m} MiB`)));
  const note = h('p', { class: 'hint', id: noteId });

  const clamp = (n: number) => Math.min(MAX_VCPUS, Math.max(1, Math.round(Number.isFinite(n) ? n : 1)));
  const updateNote = () => {
    const n = clamp(vcpus.valueAsNumber);
    const over = n > cores;
    note.classList.toggle('warn', over);
    note.textContent = over
      ? `${n} vCPUs on ${cores} logical core${cores === 1 ? '' : 's'}: vCPU threads take turns, so ` +
        'lock contention and flush latency grow. Applies at the next load.'
      : `1–${MAX_VCPUS}; this browser reports ${cores} logical core${cores === 1 ? '' : 's'}. ` +
        'Applies at the next load.';
  };
  vcpus.addEventListener('change', () => {
    vcpus.value = String(clamp(vcpus.valueAsNumber));
    updateNote();
  });
  vcpus.addEventListener('input', updateNote);
  updateNote();

  slot.replaceChildren(
    h('h2', {}, 'Machine'),
    h('div', { class: 'field-row' },
      h('div', { class: 'field' }, h('label', { for: vcpuId }, 'vCPUs'), vcpus),
      h('div', { class: 'field' }, h('label', { for: memId }, 'Memory'), mem)),
    note,
  );

  return {
    read: () => ({ vcpus: clamp(vcpus.valueAsNumber), memMiB: Number(mem.value) }),
    setVcpus(n) {
      vcpus.value = String(clamp(n));
      updateNote();
    },
  };
}
