// Load a RISC-V ELF from the user's disk. The bytes go to the VMM worker as
// data; nothing from the file is ever run or rendered as page content.
import { h, uniqueId } from './dom.ts';
import type { Session } from './session.ts';

/** Larger than any guest RAM we offer; refuse before copying it around. */
const MAX_ELF_BYTES = 64 * 1024 * 1024;

export function createElfUpload(slot: HTMLElement, session: Session): void {
  const inputId = uniqueId('elf');
  const errorId = uniqueId('elf-error');
  const input = h('input', {
    id: inputId, type: 'file', class: 'file-input', 'data-testid': 'elf-input',
    'aria-describedby': errorId,
  });
  const error = h('p', { class: 'field-error', id: errorId, role: 'alert', 'data-testid': 'elf-error' });

  // A problem found here (too big) or reported by the VMM for the last ELF load.
  let localError = '';
  let sessionError = '';
  const show = () => (error.textContent = localError || sessionError);

  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    input.value = ''; // choosing the same file again must fire change again
    if (!file) return;
    localError = file.size > MAX_ELF_BYTES
      ? `${file.name} is ${(file.size / 1048576).toFixed(1)} MiB; the limit is ${MAX_ELF_BYTES / 1048576} MiB.`
      : '';
    show();
    if (localError) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    await session.load({ kind: 'elf', bytes, name: file.name });
  });

  slot.replaceChildren(
    h('label', { for: inputId }, 'ELF executable'),
    input,
    h('p', { class: 'hint' }, 'A statically linked RV32 ELF (e.g. a riscv-tests program); it exits through tohost.'),
    error,
  );

  session.subscribe((s) => {
    // Not disabled while busy: that would drop keyboard focus; a load started
    // while another runs is refused by the session instead.
    input.disabled = !s.canRun;
    sessionError = s.error?.source === 'elf' ? s.error.text : '';
    show();
  });
}
