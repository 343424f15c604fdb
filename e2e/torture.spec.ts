// The Torture panel with the real VMM worker: dirty_log_test in the browser.
// With every protection on and host operations running, every check passes
// while the counters climb; with the TLB flush after write-protect switched
// off, failed checks and lost pages appear.
//
// Readiness comes from data attributes only, never sleeps:
//   section[data-panel="torture"][data-torture-state]  idle | starting | running | stopped | error
//   ...[data-collections] [data-passed] [data-failed] [data-lost]
//   ...[data-swap-outs] [data-ksm-merges] [data-migrations]
import { expect, test, type Locator } from '@playwright/test';

const TIMEOUT = 30_000;

const num = (panel: Locator, attr: string) => async () => Number(await panel.getAttribute(attr));

test('Torture: checks pass with host ops, and no-flush loses pages', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-app-ready', 'true');
  const panel = page.locator('section[data-panel="torture"]');
  await expect(panel).toBeVisible();
  await expect(panel).toHaveAttribute('data-torture-state', 'idle');

  await panel.getByLabel('Torture vCPUs').fill('2');
  await panel.getByLabel('Pages per vCPU').fill('32');
  await panel.getByLabel('Host ops (swap, KSM, migrate)').check();
  await panel.getByRole('button', { name: 'Start torture' }).click();
  await expect(panel).toHaveAttribute('data-torture-state', 'running', { timeout: TIMEOUT });
  await expect(panel.getByRole('button', { name: 'Stop' })).toBeEnabled();
  await expect.poll(num(panel, 'data-passed'), { timeout: TIMEOUT }).toBeGreaterThan(10);
  await expect.poll(num(panel, 'data-swap-outs'), { timeout: TIMEOUT }).toBeGreaterThan(0);
  expect(await num(panel, 'data-migrations')()).toBeGreaterThan(0);
  expect(await panel.getAttribute('data-failed')).toBe('0');
  await expect(panel).toContainText(/Running \(2 vCPUs × 32 pages, bitmap, host ops\): \d+ passed, 0 failed\./);

  await panel.getByRole('button', { name: 'Stop' }).click();
  await expect(panel).toHaveAttribute('data-torture-state', 'stopped', { timeout: TIMEOUT });
  expect(await panel.getAttribute('data-failed')).toBe('0');
  await expect(panel.getByRole('button', { name: 'Start torture' })).toBeEnabled();

  // One protection off: GET_DIRTY_LOG without the TLB flush.
  await panel.getByLabel('Host ops (swap, KSM, migrate)').uncheck();
  await panel.getByLabel('Protection off').selectOption('no-flush');
  await panel.getByRole('button', { name: 'Start torture' }).click();
  await expect(panel).toHaveAttribute('data-torture-state', 'running', { timeout: TIMEOUT });
  await expect.poll(num(panel, 'data-failed'), { timeout: TIMEOUT }).toBeGreaterThan(0);
  await expect(panel.locator('.torture-lost li').first()).toContainText(/^LOST gfn 0x[0-9a-f]+ \(gpa 0x[0-9a-f]+\) at collection \d+: written, never in the dirty log$/);
  await expect(panel).toContainText(/UNSAFE no-flush/);
  await panel.getByRole('button', { name: 'Stop' }).click();
  await expect(panel).toHaveAttribute('data-torture-state', 'stopped', { timeout: TIMEOUT });
});
