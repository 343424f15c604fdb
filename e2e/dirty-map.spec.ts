// The dirty-bitmap heat map with the real VMM worker: the `dirty` guest on
// 4 vCPUs with dirty logging on lights the map up; GET_DIRTY_LOG returns the
// pages and clears the live bits.
//
// Readiness comes from data attributes only, never sleeps:
//   section[data-panel="dirty-map"][data-logging]      off | pending | on
//   section[data-panel="dirty-map"][data-dirty-pages]  live dirty bits of slot 0 (per frame)
//   section[data-panel="dirty-map"][data-get-count]    collections so far
//   section[data-panel="dirty-map"][data-get-pages]    pages in the last collection
import { expect, test } from '@playwright/test';

const VM_TIMEOUT = 30_000;

test('the dirty guest lights up the heat map and GET_DIRTY_LOG clears it', async ({ page }) => {
  await page.goto('/');
  const body = page.locator('body');
  await expect(body).toHaveAttribute('data-app-ready', 'true');
  const panel = page.locator('section[data-panel="dirty-map"]');
  await expect(panel).toBeVisible();
  await expect(page.getByRole('checkbox', { name: 'Log dirty pages' })).toBeDisabled();

  await page.getByLabel('Built-in guest').selectOption('dirty');
  await page.getByRole('spinbutton', { name: 'vCPUs' }).fill('4');
  await page.getByRole('button', { name: 'Load', exact: true }).click();
  await expect(body).toHaveAttribute('data-vm-state', /^(loaded|paused)$/, { timeout: VM_TIMEOUT });
  await expect(body).toHaveAttribute('data-busy', 'false', { timeout: VM_TIMEOUT });
  await expect(panel).toHaveAttribute('data-pages', /^[1-9]\d*$/);

  await page.getByRole('checkbox', { name: 'Log dirty pages' }).check();
  await expect(panel).toHaveAttribute('data-logging', 'on', { timeout: VM_TIMEOUT });
  expect(await panel.getAttribute('data-dirty-pages')).toBe('0');

  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const dirty = async () => Number(await panel.getAttribute('data-dirty-pages'));
  await expect.poll(dirty, { timeout: VM_TIMEOUT }).toBeGreaterThan(0);

  // The default guest stops after 3 passes; its bits stay set until collected.
  await expect(body).toHaveAttribute('data-vm-state', 'exited', { timeout: VM_TIMEOUT });
  const before = await dirty();
  expect(before).toBeGreaterThan(0);

  await page.getByRole('button', { name: 'GET_DIRTY_LOG' }).click();
  await expect(panel).toHaveAttribute('data-get-count', '1', { timeout: VM_TIMEOUT });
  expect(Number(await panel.getAttribute('data-get-pages'))).toBeGreaterThan(0);
  await expect.poll(dirty, { timeout: VM_TIMEOUT }).toBeLessThan(before);
  await expect(panel).toContainText(/GET_DIRTY_LOG #1: [\d,]+ pages collected in [\d.]+ ms/);

  // Hit-testing: a click on the first cell describes page 0 of the slot.
  await page.getByTestId('dirty-canvas').click({ position: { x: 1, y: 1 } });
  await expect(panel.locator('.dirty-cell')).toContainText(/page 0: gfn 0x80000, guest physical 0x80000000, host pfn/);
  await expect(panel).toHaveAttribute('data-frame-ms', /^\d+\.\d\d$/);
});
