// The dirty-bitmap heat map with the real VMM worker: the `dirty` guest on
// 4 vCPUs with dirty logging on lights the map up; GET_DIRTY_LOG returns the
// pages and clears the live bits; collected cells fade; a click shows the
// SPTEs in the page's rmap; manual protect with CLEAR_DIRTY_LOG; the dirty
// ring; the pre-copy migration loop; a 1 GiB guest.
//
// Readiness comes from data attributes only, never sleeps:
//   section[data-panel="dirty-map"][data-logging]      off | pending | on
//   section[data-panel="dirty-map"][data-dirty-pages]  live dirty bits of slot 0 (per frame)
//   section[data-panel="dirty-map"][data-get-count]    collections so far
//   section[data-panel="dirty-map"][data-get-pages]    pages in the last collection
//   ...[data-hot-pages]      pages not yet faded (per frame)
//   ...[data-dirty-mode]     bitmap | clear | ring | pending
//   ...[data-clear-count]    CLEAR_DIRTY_LOG calls that succeeded
//   ...[data-detail-sptes]   SPTEs of the clicked page (after the VMM answered)
//   ...[data-migrate-state], [data-migrate-rounds]   the pre-copy loop
import { expect, test, type Page } from '@playwright/test';
import { runForeverDirty } from './dirty-guest.ts';

const VM_TIMEOUT = 30_000;

const attr = async (page: Page, name: string) =>
  Number(await page.locator('section[data-panel="dirty-map"]').getAttribute(name));

test('the dirty guest lights up the heat map and GET_DIRTY_LOG clears it', async ({ page }) => {
  await page.goto('/');
  const body = page.locator('body');
  await expect(body).toHaveAttribute('data-app-ready', 'true');
  const panel = page.locator('section[data-panel="dirty-map"]');
  await expect(panel).toBeVisible();
  await expect(page.getByRole('checkbox', { name: 'Log dirty pages' })).toBeDisabled();

  await page.getByLabel('Built-in guest').selectOption('dirty');
  await page.locator('#machine').getByRole('spinbutton', { name: 'vCPUs' }).fill('4');
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

test('manual protect, fading, the SPTEs of a page, and the pre-copy loop', async ({ page }) => {
  test.setTimeout(150_000);
  await runForeverDirty(page, 4);
  const panel = page.locator('section[data-panel="dirty-map"]');
  const mode = page.getByLabel('Collection mode');

  // Manual protect: GET only copies, so the live bits stay; CLEAR_DIRTY_LOG clears and re-protects.
  await mode.selectOption('clear');
  await expect(panel).toHaveAttribute('data-dirty-mode', 'clear', { timeout: VM_TIMEOUT });
  await page.getByRole('checkbox', { name: 'Log dirty pages' }).check();
  await expect(panel).toHaveAttribute('data-logging', 'on', { timeout: VM_TIMEOUT });
  await expect.poll(() => attr(page, 'data-dirty-pages'), { timeout: VM_TIMEOUT }).toBeGreaterThan(0);
  await page.getByRole('button', { name: 'GET_DIRTY_LOG' }).click();
  await expect(panel).toHaveAttribute('data-get-count', '1', { timeout: VM_TIMEOUT });
  await expect(panel).toContainText(/GET_DIRTY_LOG \(copy\) #1: [\d,]+ pages collected/);
  await page.getByLabel('CLEAR from page').fill('3');
  await page.getByRole('button', { name: 'CLEAR_DIRTY_LOG' }).click();
  await expect(panel.locator('.dirty-msg')).toContainText(/EINVAL: KVM_CLEAR_DIRTY_LOG\(slot 0, first_page 3.*first_page must be a multiple of 64/);
  await page.getByLabel('CLEAR from page').fill('0');
  await page.getByRole('button', { name: 'CLEAR_DIRTY_LOG' }).click();
  await expect(panel).toHaveAttribute('data-clear-count', '1', { timeout: VM_TIMEOUT });
  await expect(panel.locator('.dirty-msg')).toContainText(/CLEAR_DIRTY_LOG pages 0\.\.\d+: bits cleared/);

  // Click page 0 (the guest's code, gfn 0x80000): its rmap holds the direct nonpaging SPTE the vCPUs share.
  await page.getByTestId('dirty-canvas').click({ position: { x: 1, y: 1 } });
  await expect.poll(() => attr(page, 'data-detail-sptes'), { timeout: VM_TIMEOUT }).toBeGreaterThanOrEqual(1);
  const detail = page.getByTestId('dirty-page-detail');
  await expect(detail).toContainText(/page 0: gfn 0x80000/);
  await expect(detail).toContainText(/dirty history: /);
  await expect(detail).toContainText(/SPTEs? in its rmap:/);
  await expect(detail).toContainText(/sp #\d+ \(direct, nonpaging, level 1, maps gfn 0x80000\+\) \[0\] = 0x[0-9a-f]+ P\S* HOST_WRITEABLE=1 MMU_WRITEABLE=1 pfn 0x/);

  // Fading: pause the guest, collect; the collected cells go cold within a few seconds.
  await mode.selectOption('bitmap');
  await expect(panel).toHaveAttribute('data-dirty-mode', 'bitmap', { timeout: VM_TIMEOUT });
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.locator('body')).toHaveAttribute('data-vm-state', 'paused', { timeout: VM_TIMEOUT });
  await page.getByRole('button', { name: 'GET_DIRTY_LOG' }).click();
  await expect(panel).toHaveAttribute('data-get-count', '2', { timeout: VM_TIMEOUT });
  expect(await attr(page, 'data-get-pages')).toBeGreaterThan(0);
  await expect.poll(() => attr(page, 'data-dirty-pages'), { timeout: VM_TIMEOUT }).toBe(0);
  await expect.poll(() => attr(page, 'data-hot-pages'), { timeout: 10_000 }).toBe(0);

  // The pre-copy loop against the running guest: a full round, then dirty rounds.
  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await expect(page.locator('body')).toHaveAttribute('data-vm-state', 'running', { timeout: VM_TIMEOUT });
  await page.getByLabel('max rounds').fill('4');
  await page.getByLabel('stop below').fill('1');
  await page.getByRole('button', { name: 'Migrate (pre-copy)' }).click();
  await expect(panel).toHaveAttribute('data-migrate-state', /^(converged|max-rounds)$/, { timeout: 60_000 });
  const rounds = page.getByTestId('migrate-rounds').locator('li');
  expect(await rounds.count()).toBeGreaterThanOrEqual(2);
  await expect(rounds.first()).toHaveAttribute('data-kind', 'full');
  expect(Number(await rounds.first().getAttribute('data-pages'))).toBeGreaterThan(0);
  await expect(page.getByTestId('migrate-summary')).toContainText(/(Converged|Did not converge in 4 rounds): [\d,]+ pages sent/);
  await expect(rounds.nth(1)).toContainText(/^round 2( \(stop and copy\))?: [\d,]+ pages$/);
});

test('the dirty ring: only before the first run, then harvest + reset', async ({ page }) => {
  test.setTimeout(120_000);
  await runForeverDirty(page, 2);
  const panel = page.locator('section[data-panel="dirty-map"]');
  // The guest has run: the ring can no longer be enabled, and the mode stays bitmap.
  await page.getByLabel('Collection mode').selectOption('ring');
  await expect(panel.locator('.dirty-msg')).toContainText(/EBUSY: dirty ring: KVM_CAP_DIRTY_LOG_RING must be enabled before the vCPUs first run/);
  await expect(panel).toHaveAttribute('data-dirty-mode', 'bitmap');

  // A fresh VM: choose the ring after loading, before Run.
  await page.getByLabel('Built-in guest').selectOption('dirty');
  await page.getByRole('button', { name: 'Load', exact: true }).click();
  await expect(page.locator('body')).toHaveAttribute('data-vm-state', /^(loaded|paused)$/, { timeout: VM_TIMEOUT });
  await expect(page.locator('body')).toHaveAttribute('data-busy', 'false', { timeout: VM_TIMEOUT });
  await page.getByLabel('Collection mode').selectOption('ring');
  await expect(panel).toHaveAttribute('data-dirty-mode', 'ring', { timeout: VM_TIMEOUT });
  await page.getByRole('checkbox', { name: 'Log dirty pages' }).check();
  await expect(panel).toHaveAttribute('data-logging', 'on', { timeout: VM_TIMEOUT });
  await expect(page.getByRole('button', { name: 'GET_DIRTY_LOG' })).toBeHidden();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(page.locator('body')).toHaveAttribute('data-vm-state', /^(running|exited)$/, { timeout: VM_TIMEOUT });
  // Harvest until the rings gave pages (a vCPU whose ring is soft-full waits for this).
  await expect.poll(async () => {
    await page.getByRole('button', { name: 'Harvest ring + reset' }).click();
    return attr(page, 'data-get-pages');
  }, { timeout: VM_TIMEOUT }).toBeGreaterThan(0);
  await expect(panel).toContainText(/Ring harvest #\d+: [\d,]+ pages? collected/);
  // The guest finishes its three passes: harvesting kept it going past the ring's size.
  await expect.poll(async () => {
    await page.getByRole('button', { name: 'Harvest ring + reset' }).click();
    return page.locator('body').getAttribute('data-vm-state');
  }, { timeout: 60_000 }).toBe('exited');
  await expect(page.locator('[data-testid="terminal"] .xterm-rows')).toContainText('every page checked', { timeout: VM_TIMEOUT });
});

test('1 GiB of RAM: 262,144 cells, drawn and timed by the panel', async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-app-ready', 'true');
  await page.getByRole('combobox', { name: 'Memory' }).selectOption('1024');
  await page.getByLabel('Built-in guest').selectOption('dirty');
  await page.locator('#machine').getByRole('spinbutton', { name: 'vCPUs' }).fill('2');
  await page.getByRole('button', { name: 'Load', exact: true }).click();
  await expect(page.locator('body')).toHaveAttribute('data-vm-state', /^(loaded|paused)$/, { timeout: 60_000 });
  const panel = page.locator('section[data-panel="dirty-map"]');
  await expect(panel).toHaveAttribute('data-pages', '262144', { timeout: VM_TIMEOUT });
  await page.getByRole('checkbox', { name: 'Log dirty pages' }).check();
  await expect(panel).toHaveAttribute('data-logging', 'on', { timeout: VM_TIMEOUT });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect.poll(() => attr(page, 'data-dirty-pages'), { timeout: VM_TIMEOUT }).toBeGreaterThan(0);
  // The panel measures its own draw (fold + render + putImageData of 512 x 512) while the guest
  // writes. Speed is the benchmark's business (ui.heatmap_frame_ms.* of npm run bench), not a
  // test's: here the figure must be measured and reported, and it is recorded with the run.
  await expect(panel).toHaveAttribute('data-frame-ms', /^\d+\.\d\d$/);
  const frameMs = await attr(page, 'data-frame-ms');
  expect(frameMs).toBeGreaterThan(0);
  test.info().annotations.push({ type: 'heat-map draw, 262,144 pages (ms)', description: String(frameMs) });
});
