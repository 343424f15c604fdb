// Built-in guest parameters: the picker shows the chosen guest's documented
// words with their defaults; the values set there reach the assembled guest.
import { expect, test } from '@playwright/test';

const VM_TIMEOUT = 30_000;

test('the dirty guest runs with the working set and pattern set in the picker', async ({ page }) => {
  await page.goto('/');
  const body = page.locator('body');
  await expect(body).toHaveAttribute('data-app-ready', 'true');
  await page.getByLabel('Built-in guest').selectOption('dirty');
  const params = page.getByTestId('guest-params');
  await expect(params.getByLabel('max_iterations')).toHaveValue('3');
  await params.getByLabel('pages_per_vcpu').fill('8');
  await params.getByLabel('pattern').fill('2');
  await params.getByLabel('max_iterations').fill('1');
  await page.locator('#machine').getByRole('spinbutton', { name: 'vCPUs' }).fill('2');
  await page.getByRole('button', { name: 'Load', exact: true }).click();
  await expect(body).toHaveAttribute('data-busy', 'false', { timeout: VM_TIMEOUT });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(body).toHaveAttribute('data-vm-state', 'exited', { timeout: VM_TIMEOUT });
  const term = page.locator('[data-testid="terminal"] .xterm-rows');
  await expect(term).toContainText('2 vCPUs, 8 pages each, 1 iterations, pattern hot/cold', { timeout: VM_TIMEOUT });
  await expect(term).toContainText('PASS');
});
