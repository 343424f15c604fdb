// Shared by the dirty-map and host-memory specs: start the dirty guest with
// max_iterations = 0 (its vCPUs write their regions until stopped) from the
// assembly editor, as a user who edited the built-in source would.  dirty.S
// keeps max_iterations in its own file and `.include`s the rest from
// src/guests/lib, which the editor's assembler resolves too (guestInclude).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';

const VM_TIMEOUT = 30_000;

/** dirty.S with max_iterations = 0: the vCPUs write their regions until stopped. */
export function foreverDirtySource(): string {
  const src = readFileSync(join(process.cwd(), 'src/guests/dirty.S'), 'utf8');
  const patched = src.replace(/^(max_iterations:\s*\.word\s+)\d+/m, '$10');
  if (patched === src) throw new Error('dirty.S has no max_iterations word to patch');
  return patched;
}

/** Start the never-ending dirty guest on `vcpus` vCPUs from the assembly editor. */
export async function runForeverDirty(page: Page, vcpus: number): Promise<void> {
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-app-ready', 'true');
  await page.locator('#machine').getByRole('spinbutton', { name: 'vCPUs' }).fill(String(vcpus));
  await page.getByTestId('asm-source').fill(foreverDirtySource());
  await page.getByRole('button', { name: 'Assemble & run' }).click();
  await expect(page.locator('body')).toHaveAttribute('data-vm-state', 'running', { timeout: VM_TIMEOUT });
  await expect(page.locator('body')).toHaveAttribute('data-busy', 'false', { timeout: VM_TIMEOUT });
}

