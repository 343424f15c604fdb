// The app as a user meets it, in a real Chromium with cross-origin isolation.
//
// Readiness comes from data attributes the app publishes, never from sleeps:
//   body[data-app-ready]  the shell is built
//   body[data-vm-state]   empty | loaded | running | paused | exited | error
//   body[data-busy]       "true" while a control call is in flight
//   meter table[data-samples], row[data-instret]   MIPS meter samples
// The first describe block needs only the shell; the second needs the real
// VMM worker and the built-in "hello" guest.
import { expect, test, type Page } from '@playwright/test';

const VM_TIMEOUT = 30_000;

async function openApp(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-app-ready', 'true');
}

async function waitForState(page: Page, state: string | RegExp): Promise<void> {
  await expect(page.locator('body')).toHaveAttribute('data-vm-state', state, { timeout: VM_TIMEOUT });
  await expect(page.locator('body')).toHaveAttribute('data-busy', 'false', { timeout: VM_TIMEOUT });
}

const terminalText = (page: Page) => page.locator('[data-testid="terminal"] .xterm-rows');
const meterRow = (page: Page, vcpu: number) => page.locator(`[data-testid="mips-meter"] tr[data-vcpu="${vcpu}"]`);
const samples = async (page: Page) =>
  Number(await page.locator('[data-testid="mips-meter"]').getAttribute('data-samples'));
const instret = async (page: Page, vcpu = 0) => Number(await meterRow(page, vcpu).getAttribute('data-instret'));

/** Wait until the meter has taken `n` more samples than now. */
async function nextSamples(page: Page, n: number): Promise<void> {
  const from = await samples(page);
  await expect.poll(() => samples(page), { timeout: VM_TIMEOUT }).toBeGreaterThanOrEqual(from + n);
}

test.describe('app shell', () => {
  test('the page and its workers are cross-origin isolated', async ({ page }) => {
    const worker = page.waitForEvent('worker');
    await openApp(page);
    expect(await page.evaluate(() => crossOriginIsolated && typeof SharedArrayBuffer === 'function')).toBe(true);
    await expect(page.locator('body')).toHaveAttribute('data-isolated', 'true');
    expect(await (await worker).evaluate(() => crossOriginIsolated)).toBe(true);
    await expect(page.locator('#banner')).toBeHidden();
  });

  test('renders every control', async ({ page }) => {
    await openApp(page);
    await expect(page.getByRole('heading', { level: 1, name: 'webkvm' })).toBeVisible();
    await expect(page.getByLabel('Built-in guest')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Load', exact: true })).toBeVisible();
    await expect(page.getByLabel('ELF executable')).toBeAttached();
    await expect(page.getByLabel(/^Source/)).toBeVisible();
    await expect(page.getByRole('button', { name: 'Assemble & run' })).toBeVisible();
    await expect(page.locator('#machine').getByRole('spinbutton', { name: 'vCPUs' })).toHaveAttribute('max', '8');
    await expect(page.getByRole('combobox', { name: 'Memory' })).toBeVisible();
    for (const name of ['Run', 'Pause', 'Step', 'Reset']) {
      await expect(page.getByRole('button', { name, exact: true })).toBeVisible();
    }
    // Nothing is loaded yet: Run is offered, Pause is not.
    await expect(page.getByRole('button', { name: 'Run', exact: true })).toBeEnabled();
    await expect(page.getByRole('button', { name: 'Pause', exact: true })).toBeDisabled();
    await expect(page.getByRole('button', { name: 'Pause live view' })).toHaveAttribute('aria-pressed', 'false');
    await expect(page.getByTestId('terminal')).toBeVisible();
    await expect(page.getByTestId('mips-meter')).toBeVisible();
    await expect(page.locator('section#panels')).toBeVisible();
    await expect(page.getByTestId('announcer')).toHaveAttribute('aria-live', 'polite');
    await expect(page.locator('body')).toHaveAttribute('data-vm-state', 'empty');
  });

  test('keyboard: the console can be left with Ctrl+] and the live view paused', async ({ page }) => {
    await openApp(page);
    await page.getByTestId('terminal').click();
    await expect(page.locator('.xterm-helper-textarea')).toBeFocused();
    await page.keyboard.press('Control+BracketRight');
    await expect(page.locator('.xterm-helper-textarea')).not.toBeFocused();
    expect(await page.evaluate(() => document.activeElement !== document.body)).toBe(true);

    const live = page.getByRole('button', { name: /live view/ });
    await live.focus();
    await page.keyboard.press('Enter');
    await expect(live).toHaveAttribute('aria-pressed', 'true');
    await expect(page.locator('body')).toHaveAttribute('data-live-view', 'paused');
    await page.keyboard.press('Space');
    await expect(live).toHaveAttribute('aria-pressed', 'false');
  });
});

test.describe('without cross-origin isolation', () => {
  test('a banner explains the problem and Run is disabled', async ({ page }) => {
    // Serve the document without COOP/COEP: the page loses isolation.
    await page.route('**/', async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers['cross-origin-opener-policy'];
      delete headers['cross-origin-embedder-policy'];
      await route.fulfill({ response, headers });
    });
    await openApp(page);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    await expect(page.locator('body')).toHaveAttribute('data-isolated', 'false');
    const banner = page.locator('#banner');
    await expect(banner).toBeVisible();
    await expect(banner).toContainText('Live multi-core mode needs cross-origin isolation');
    await expect(banner).toContainText('npm start');
    await expect(page.getByRole('button', { name: 'Run', exact: true })).toBeDisabled();
    await expect(page.getByRole('button', { name: 'Assemble & run' })).toBeDisabled();
  });

  test('when framed by a page that is not isolated, it offers a new tab', async ({ page, baseURL }) => {
    await page.setContent(`<iframe src="${baseURL}/" title="webkvm" width="1000" height="600"></iframe>`);
    const frame = page.frameLocator('iframe');
    await expect(frame.locator('body')).toHaveAttribute('data-app-ready', 'true');
    const link = frame.getByRole('link', { name: 'Open in a new tab' });
    await expect(link).toHaveAttribute('target', '_blank');
    await expect(link).toHaveAttribute('href', `${baseURL}/`);
    await expect(frame.getByRole('button', { name: 'Run', exact: true })).toBeDisabled();
  });
});

test.describe('with the VMM worker', () => {
  test('the hello guest prints its banner and echoes typed input', async ({ page }) => {
    await openApp(page);
    await page.getByLabel('Built-in guest').selectOption('hello');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await waitForState(page, 'running');
    await expect(terminalText(page)).toContainText(/hello/i, { timeout: VM_TIMEOUT });

    await page.getByTestId('terminal').click();
    await page.keyboard.type('webkvm42');
    await expect(terminalText(page)).toContainText('webkvm42', { timeout: VM_TIMEOUT });
  });

  test('Run, Pause and Reset change the state; the MIPS meter follows', async ({ page }) => {
    await openApp(page);
    // A guest that never sleeps, so instret grows as fast as the vCPU runs.
    await page.getByLabel(/^Source/).fill('        .text\n        .globl _start\n_start:\n        addi t0, t0, 1\n        j _start\n');
    await page.getByRole('button', { name: 'Assemble & run' }).click();
    await waitForState(page, 'running');
    await expect(meterRow(page, 0)).toBeVisible();

    // Moves while running.
    const before = await instret(page);
    await expect.poll(() => instret(page), { timeout: VM_TIMEOUT }).toBeGreaterThan(before);
    await expect.poll(async () => Number(await meterRow(page, 0).getAttribute('data-mips')), { timeout: VM_TIMEOUT })
      .toBeGreaterThan(0);

    // Stops while paused (one sample to let the last batch land, then two more).
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await waitForState(page, 'paused');
    await nextSamples(page, 1);
    const frozen = await instret(page);
    await nextSamples(page, 2);
    expect(await instret(page)).toBe(frozen);
    expect(Number(await meterRow(page, 0).getAttribute('data-mips'))).toBe(0);

    // Resumes.
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await waitForState(page, 'running');
    await expect.poll(() => instret(page), { timeout: VM_TIMEOUT }).toBeGreaterThan(frozen);

    // Reset stops the machine and brings the program back to its start.
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    await waitForState(page, /^(loaded|paused)$/);
    await expect(page.getByRole('button', { name: 'Pause', exact: true })).toBeDisabled();
  });

  test('an assembly error shows file:line:column and the app stays usable', async ({ page }) => {
    await openApp(page);
    await page.getByLabel(/^Source/).fill('        .text\n_start:\n        addi t0, t0, 1\n        bogus t0, t1\n');
    await page.getByRole('button', { name: 'Assemble & run' }).click();
    const error = page.getByTestId('asm-error');
    await expect(error).toContainText(/program\.s:4:\d+/, { timeout: VM_TIMEOUT });
    await expect(error).not.toContainText(/\bat .*:\d+:\d+\)/); // no stack frames
    await expect(page.locator('body')).toHaveAttribute('data-busy', 'false');

    // The editor jumps to the error.
    await page.getByRole('button', { name: 'Show in editor' }).click();
    await expect(page.getByLabel(/^Source/)).toBeFocused();
    const caretLine = await page.getByLabel(/^Source/).evaluate((el: HTMLTextAreaElement) =>
      el.value.slice(0, el.selectionStart).split('\n').length);
    expect(caretLine).toBe(4);

    // Still responsive: a fixed program assembles and runs.
    await page.getByLabel(/^Source/).fill('        .text\n_start:\n        addi t0, t0, 1\n        j _start\n');
    await page.getByRole('button', { name: 'Assemble & run' }).click();
    await waitForState(page, 'running');
    await expect(error).toBeHidden();
  });

  test('uploading a file that is not an ELF shows a clear error', async ({ page }) => {
    await openApp(page);
    await page.getByTestId('elf-input').setInputFiles({
      name: 'garbage.elf',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('this is not an ELF file, just some text padding it out to a few dozen bytes'),
    });
    const error = page.getByTestId('elf-error');
    await expect(error).not.toBeEmpty({ timeout: VM_TIMEOUT });
    const text = (await error.textContent()) ?? '';
    expect(text).toMatch(/ELF|ENOEXEC|EINVAL/);
    expect(text).not.toMatch(/\n\s+at |undefined|\[object Object\]/);
    await expect(page.getByTestId('status-error')).toBeVisible();
    await expect(page.locator('body')).not.toHaveAttribute('data-vm-state', 'running');
  });
});
