// The live panels (TLB timeline, fast/slow fault chart, locks) with the real
// VMM worker and vCPU workers, reading shared memory in a real Chromium.
//
// Phase 1, the built-in `dirty` guest on 4 vCPUs with dirty logging on:
// Run, wait until it exits (3 passes), GET_DIRTY_LOG -> the timeline has a
// dirty-log flush, the chart counted the slow faults of the first pass, the
// locks panel counted mmu_lock acquisitions.
// Phase 2, the same guest made to run forever (max_iterations = 0, edited in
// the assembly editor as a user would): after a GET_DIRTY_LOG the guest's
// next stores hit write-protected SPTEs and the chart counts fast-path fixes.
//
// Readiness comes from data attributes only, never sleeps:
//   section[data-panel="tlb-timeline"][data-flushes]  flush events seen;  [data-causes] their cause slugs
//   section[data-panel="fault-chart"][data-fast|data-slow]  summed counters
//   section[data-panel="locks"][data-mmu-lock-acq]   mmu_lock acquisitions
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';

const VM_TIMEOUT = 30_000;
const num = async (loc: import('@playwright/test').Locator, attr: string) => Number(await loc.getAttribute(attr));

test('TLB timeline, fault chart and locks panel follow the dirty guest', async ({ page }) => {
  await page.goto('/');
  const body = page.locator('body');
  await expect(body).toHaveAttribute('data-app-ready', 'true');
  const timeline = page.locator('section[data-panel="tlb-timeline"]');
  const faults = page.locator('section[data-panel="fault-chart"]');
  const locks = page.locator('section[data-panel="locks"]');
  const dirtyMap = page.locator('section[data-panel="dirty-map"]');
  await expect(timeline).toBeVisible();
  await expect(faults).toBeVisible();
  await expect(locks).toBeVisible();
  await expect(timeline.getByRole('img', { name: /Remote TLB flushes over time/ })).toBeVisible();
  await expect(locks.getByRole('table')).toContainText('mmu_lock');

  // ── phase 1: the built-in guest, as in the dirty-map test ──
  await page.getByLabel('Built-in guest').selectOption('dirty');
  await page.locator('#machine').getByRole('spinbutton', { name: 'vCPUs' }).fill('4');
  await page.getByRole('button', { name: 'Load', exact: true }).click();
  await expect(body).toHaveAttribute('data-vm-state', /^(loaded|paused)$/, { timeout: VM_TIMEOUT });
  await expect(body).toHaveAttribute('data-busy', 'false', { timeout: VM_TIMEOUT });
  await page.getByRole('checkbox', { name: 'Log dirty pages' }).check();
  await expect(dirtyMap).toHaveAttribute('data-logging', 'on', { timeout: VM_TIMEOUT });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(body).toHaveAttribute('data-vm-state', 'exited', { timeout: VM_TIMEOUT });

  await page.getByRole('button', { name: 'GET_DIRTY_LOG' }).click();
  await expect(dirtyMap).toHaveAttribute('data-get-count', '1', { timeout: VM_TIMEOUT });
  await expect(timeline).toHaveAttribute('data-causes', /(^| )dirty-log( |$)/, { timeout: VM_TIMEOUT });
  expect(await num(timeline, 'data-flushes')).toBeGreaterThan(0);
  expect(await num(timeline, 'data-flushes-dirty-log')).toBeGreaterThan(0);
  await expect(timeline.locator('li[data-cause="dirty-log"]')).toContainText(/dirty log [1-9]/);
  await expect(timeline.locator('.tlb-summary')).toContainText(/flushes seen .* latency median ≤/);
  await expect.poll(() => num(faults, 'data-slow'), { timeout: VM_TIMEOUT }).toBeGreaterThanOrEqual(4 * 256);
  await expect.poll(() => num(locks, 'data-mmu-lock-acq'), { timeout: VM_TIMEOUT }).toBeGreaterThan(0);
  await expect(locks.getByRole('table')).toContainText(/acquisitions/);

  // Hover the newest dirty-log flush on vCPU 0's lane: its details name the cause and the requester.
  const canvas = page.getByTestId('tlb-canvas');
  await canvas.focus();
  await page.keyboard.press('Home');
  await expect(timeline.locator('.tlb-details')).toContainText(/Flush #\d+, .* ago: \w[\w -]*, requested by (the VMM|vCPU \d), sent to vCPU/);
  await expect(timeline).toHaveAttribute('data-selected-seq', /^\d+$/);

  // ── phase 2: the guest running forever; after a GET its stores take the fast path ──
  const src = readFileSync(new URL('../src/guests/dirty.S', import.meta.url), 'utf8')
    .replace(/(max_iterations:\s*\.word\s+)\d+/, '$10');
  expect(src).toMatch(/max_iterations:\s*\.word\s+0\b/);
  await page.getByTestId('asm-source').fill(src);
  await page.getByRole('button', { name: 'Assemble & run' }).click();
  await expect(body).toHaveAttribute('data-vm-state', 'running', { timeout: VM_TIMEOUT });
  await expect(dirtyMap).toHaveAttribute('data-logging', 'on', { timeout: VM_TIMEOUT });
  await expect.poll(() => num(dirtyMap, 'data-dirty-pages'), { timeout: VM_TIMEOUT }).toBeGreaterThan(0);

  await page.getByRole('button', { name: 'GET_DIRTY_LOG' }).click();
  await expect(dirtyMap).toHaveAttribute('data-get-count', '2', { timeout: VM_TIMEOUT });
  await expect(timeline).toHaveAttribute('data-causes', /(^| )dirty-log( |$)/, { timeout: VM_TIMEOUT });
  await expect.poll(() => num(faults, 'data-fast'), { timeout: VM_TIMEOUT }).toBeGreaterThan(0);
  await expect.poll(() => num(faults, 'data-points'), { timeout: VM_TIMEOUT }).toBeGreaterThan(2);
  await expect.poll(() => num(locks, 'data-mmu-lock-acq'), { timeout: VM_TIMEOUT }).toBeGreaterThan(0);

  // The per-vCPU view redraws the chart with one line per vCPU and kind.
  await faults.getByRole('radio', { name: 'each vCPU' }).check();
  await expect(faults).toHaveAttribute('data-mode', 'vcpu');
  await expect(faults.locator('.u-legend')).toContainText('vCPU 3 fast');

  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(body).toHaveAttribute('data-vm-state', 'paused', { timeout: VM_TIMEOUT });
});
