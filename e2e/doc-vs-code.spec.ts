// The "locking.txt vs the 3.6 code" panel lists each difference, and its
// text is rendered as text (a row holding markup would show the markup).
import { expect, test } from '@playwright/test';

test('the doc-vs-code panel shows where locking.txt and the 3.6 code differ', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-app-ready', 'true');
  const panel = page.locator('section[data-panel="doc-vs-code"]');
  await expect(panel).toBeVisible();
  const table = panel.locator('table.doc-vs-code');
  await expect(table).toHaveAttribute('data-rows', /^[1-9]\d*$/);
  const rows = Number(await table.getAttribute('data-rows'));
  await expect(table.locator('tbody tr')).toHaveCount(rows);
  await expect(table).toContainText('SPTE_WRITE_PROTECT');
  await expect(table).toContainText('SPTE_MMU_WRITEABLE');
});
