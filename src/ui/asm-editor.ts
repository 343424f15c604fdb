// A plain assembly editor: write RV32 assembly, assemble it in the VMM worker,
// run it. Assembler errors are shown under the editor as "file:line:column:
// message", with a button that puts the cursor on the offending spot.
import { h, isAvailable, setAvailable, uniqueId } from './dom.ts';
import { findSourceLocation } from './errors.ts';
import type { Session } from './session.ts';

export const ASM_FILE_NAME = 'program.s';

const SAMPLE = `# Print a line on the UART, then exit with code 0
# through HTIF: store (code << 1) | 1 to tohost.
    .text
    .globl _start
_start:
    li    t0, 0x10000000    # UART THR
    la    t1, message
print:
    lbu   t2, 0(t1)
    beqz  t2, done
    sb    t2, 0(t0)
    addi  t1, t1, 1
    j     print
done:
    la    t1, tohost
    li    t2, 1
    sw    t2, 0(t1)
halt:
    j     halt

    .data
message:
    .asciz "Hello from the assembly editor\\n"
    .align 3
tohost:
    .word 0, 0
`;

export function createAsmEditor(slot: HTMLElement, session: Session): void {
  const areaId = uniqueId('asm');
  const errorId = uniqueId('asm-error');
  const area = h('textarea', {
    id: areaId, class: 'code', rows: 16, spellcheck: 'false', autocapitalize: 'off',
    autocomplete: 'off', wrap: 'off', 'aria-describedby': errorId, 'data-testid': 'asm-source',
  });
  area.value = SAMPLE;
  const run = h('button', { type: 'button', class: 'primary' }, 'Assemble & run');
  const errorText = h('pre', { class: 'asm-error-text' });
  const jump = h('button', { type: 'button', class: 'link' }, 'Show in editor');
  const error = h('div', { class: 'field-error', id: errorId, role: 'alert', 'data-testid': 'asm-error' });

  let location: ReturnType<typeof findSourceLocation> = null;
  jump.addEventListener('click', () => location && selectLine(area, location.line, location.column));

  run.addEventListener('click', async () => {
    if (!isAvailable(run)) return;
    const ok = await session.load({ kind: 'asm', source: area.value, name: ASM_FILE_NAME });
    if (ok) await session.run();
  });

  slot.replaceChildren(
    h('details', { class: 'asm', open: true },
      h('summary', {}, h('h2', {}, 'Assembly')),
      h('label', { for: areaId }, `Source (${ASM_FILE_NAME})`),
      area,
      h('div', { class: 'inline' }, run),
      error));

  session.subscribe((s) => {
    setAvailable(run, s.canRun && !s.busy);
    const msg = s.error?.source === 'asm' ? s.error.text : '';
    if (!msg) {
      if (!s.busy) error.replaceChildren();
      return;
    }
    location = findSourceLocation(msg);
    errorText.textContent = msg;
    error.replaceChildren(errorText, location ? jump : '');
  });
}

/** Put the caret at line:column (1-based) and select that line, so it is visible. */
function selectLine(area: HTMLTextAreaElement, line: number, column: number): void {
  const lines = area.value.split('\n');
  const l = Math.min(Math.max(1, line), lines.length);
  let start = 0;
  for (let i = 0; i < l - 1; i++) start += lines[i]!.length + 1;
  const len = lines[l - 1]!.length;
  const caret = start + Math.min(Math.max(0, column - 1), len);
  area.focus();
  area.setSelectionRange(caret, start + len);
  // Scroll the line into view: textarea has no API for it, so estimate by line height.
  const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 18;
  area.scrollTop = Math.max(0, (l - 3) * lineHeight);
}
