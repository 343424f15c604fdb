// The host-memory panel with the real VMM worker: the never-ending dirty guest
// on 4 vCPUs; swap out, migrate and KSM-merge pages with the buttons; the
// counters move, the guest keeps running, a gfn in no memslot answers EFAULT;
// a heat-map click picks the page; the shadow-MMU explorer walks an address.
//
// Readiness comes from data attributes, never sleeps:
//   section[data-panel="host-memory"][data-swap-outs|data-swap-ins|data-merges|
//     data-cow-copies|data-migrations|data-invalidations|data-notifier-flushes]
//   ...[data-host-result] ok | error, [data-host-errno], [data-host-ops]
//   section[data-panel="mmu-explorer"][data-walk-mode|data-walk-leaf|data-walk-pfn|data-direct|data-indirect]
import { expect, test, type Page } from '@playwright/test';
import { runForeverDirty } from './dirty-guest.ts';

const VM_TIMEOUT = 30_000;

const host = (page: Page) => page.locator('section[data-panel="host-memory"]');
const counter = async (page: Page, name: string) => Number(await host(page).getAttribute(`data-${name}`));
const instret = async (page: Page) =>
  Number(await page.locator('[data-testid="mips-meter"] tr[data-vcpu="0"]').getAttribute('data-instret'));

/** Press a host-memory button and wait for its answer. */
async function hostOp(page: Page, button: string): Promise<void> {
  const before = Number((await host(page).getAttribute('data-host-ops')) ?? 0);
  const errors = await host(page).getAttribute('data-host-errno');
  await page.getByRole('button', { name: button, exact: true }).click();
  await expect.poll(async () => {
    const ops = Number((await host(page).getAttribute('data-host-ops')) ?? 0);
    const errno = await host(page).getAttribute('data-host-errno');
    return ops > before || (errno !== null && errno !== errors) ? 'answered' : 'waiting';
  }, { timeout: 60_000 }).toBe('answered');
}

test('swap out, migrate and merge pages of a running 4-vCPU guest', async ({ page }) => {
  test.setTimeout(180_000);
  await runForeverDirty(page, 4);
  const panel = host(page);
  await expect(panel).toHaveAttribute('data-swap-outs', '0', { timeout: VM_TIMEOUT });
  const gfn = page.getByLabel('gfn', { exact: true });

  // Swap out the guest's code page: its next instruction fetch swaps it back in.
  await gfn.fill('0x80000');
  await hostOp(page, 'Swap out');
  await expect(page.getByTestId('host-result')).toContainText('Swapped out gfn 0x80000');
  await expect.poll(() => counter(page, 'swap-outs'), { timeout: VM_TIMEOUT }).toBe(1);
  await expect.poll(() => counter(page, 'swap-ins'), { timeout: VM_TIMEOUT }).toBeGreaterThanOrEqual(1);
  await expect.poll(() => counter(page, 'invalidations'), { timeout: VM_TIMEOUT }).toBeGreaterThanOrEqual(1);

  // Migrate the data page to another host page.
  await gfn.fill('0x80001');
  await hostOp(page, 'Migrate');
  await expect(page.getByTestId('host-result')).toContainText(/Migrated gfn 0x80001 to host pfn 0x[0-9a-f]+/);
  await expect.poll(() => counter(page, 'migrations'), { timeout: VM_TIMEOUT }).toBe(1);
  await expect(page.getByTestId('host-page-state')).toContainText(/gfn 0x80001: resident, writable: host pfn 0x/);

  // A ksmd pass: the regions' pages hold the same iteration number, so many are identical;
  // the guest's next writes to them break the sharing (copy-on-write).
  await hostOp(page, 'Merge all identical pages');
  await expect(page.getByTestId('host-result')).toContainText(/ksmd pass: \d+ resident pages scanned, [1-9]\d* merged/);
  await expect.poll(() => counter(page, 'merges'), { timeout: VM_TIMEOUT }).toBeGreaterThan(0);
  await expect.poll(async () => (await counter(page, 'cow-copies')) + (await counter(page, 'cow-reuses')), { timeout: VM_TIMEOUT })
    .toBeGreaterThan(0);

  // Swap out random resident pages.
  await page.getByLabel('random pages to swap').fill('8');
  await hostOp(page, 'Swap out random pages');
  await expect(page.getByTestId('host-result')).toContainText(/Swapped out [1-8] of 8 random resident pages/);
  await expect.poll(() => counter(page, 'swap-outs'), { timeout: VM_TIMEOUT }).toBeGreaterThan(1);
  await expect.poll(() => counter(page, 'notifier-flushes'), { timeout: VM_TIMEOUT }).toBeGreaterThan(0);

  // A gfn in no memslot: EFAULT with its message, nothing changes.
  const outs = await counter(page, 'swap-outs');
  await gfn.fill('0x1');
  await hostOp(page, 'Swap out');
  await expect(panel).toHaveAttribute('data-host-result', 'error');
  await expect(panel).toHaveAttribute('data-host-errno', 'EFAULT');
  await expect(page.getByTestId('host-result')).toContainText(/EFAULT: swap-out: gfn 0x1 \(guest physical 0x1000\) is in no memslot/);
  expect(await counter(page, 'swap-outs')).toBe(outs);

  // Two pages with different contents do not merge: EINVAL.
  await gfn.fill('0x80000');
  await page.getByLabel('second gfn (merge)').fill('0x80001');
  await hostOp(page, 'KSM merge');
  await expect(page.getByTestId('host-result')).toContainText(/EINVAL: ksm-merge: /);

  // The guest kept running through all of it.
  await expect(page.locator('body')).toHaveAttribute('data-vm-state', 'running');
  const before = await instret(page);
  await expect.poll(() => instret(page), { timeout: VM_TIMEOUT }).toBeGreaterThan(before);

  // Pick a page on the heat map: the gfn field follows.
  await gfn.fill('');
  await page.getByTestId('dirty-canvas').click({ position: { x: 1, y: 1 } });
  await expect(gfn).toHaveValue('0x80000');
});

test('the shadow-MMU explorer walks an address and counts shadow pages', async ({ page }) => {
  test.setTimeout(120_000);
  await runForeverDirty(page, 2);
  const mmu = page.locator('section[data-panel="mmu-explorer"]');
  await expect.poll(async () => Number(await mmu.getAttribute('data-direct')), { timeout: VM_TIMEOUT }).toBeGreaterThan(0);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.locator('body')).toHaveAttribute('data-vm-state', 'paused', { timeout: VM_TIMEOUT });
  await page.getByLabel('guest virtual address').fill('0x80000000');
  await page.getByRole('button', { name: 'Explain' }).click();
  await expect(mmu).toHaveAttribute('data-walk-mode', 'bare', { timeout: VM_TIMEOUT });
  await expect(mmu).toHaveAttribute('data-walk-leaf', 'direct');
  await expect(mmu).toHaveAttribute('data-walk-pfn', /^\d+$/);
  const walk = page.getByTestId('mmu-walk');
  await expect(walk).toContainText('satp = bare');
  await expect(walk).toContainText(/shadow level 1: sp #\d+ \(direct, nonpaging, level 1, maps gfn 0x80000\+\)/);
  await expect(walk).toContainText(/host: resident in host pfn 0x/);
  await page.getByLabel('guest virtual address').fill('not an address');
  await page.getByRole('button', { name: 'Explain' }).click();
  await expect(mmu).toHaveAttribute('data-walk-state', 'error');
});
