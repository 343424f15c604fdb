// The Race lab panel with the real VMM worker and real lane workers: for two
// scenarios, run with the protection off and step through the UI to the
// checker's OOPS, then run with it on and see the same steps end clean; and
// open a #race=... link and land on its step.
//
// Readiness comes from data attributes on the panel section, never sleeps:
//   data-race-state     idle | loading | running | ready | error
//   data-race-scenario, data-race-unsafe, data-race-step, data-race-steps
//   data-race-verdict   none | pending | clean | oops;  data-race-expected
import { expect, test, type Locator, type Page } from '@playwright/test';

const TIMEOUT = 45_000;

async function openPanel(page: Page, path = '/'): Promise<Locator> {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-app-ready', 'true');
  const panel = page.locator('section[data-panel="race-lab"]');
  await expect(panel).toBeVisible();
  return panel;
}

async function run(panel: Locator, name: string, protectionOn: boolean): Promise<number> {
  await expect(panel.getByLabel('Scenario').locator(`option[value="${name}"]`)).toHaveCount(1, { timeout: TIMEOUT });
  await panel.getByLabel('Scenario').selectOption(name);
  await panel.getByRole('switch', { name: 'Protection' }).setChecked(protectionOn);
  await panel.getByRole('button', { name: 'Run scenario' }).click();
  await expect(panel).toHaveAttribute('data-race-state', 'ready', { timeout: TIMEOUT });
  await expect(panel).toHaveAttribute('data-race-scenario', name);
  await expect(panel).toHaveAttribute('data-race-unsafe', String(!protectionOn));
  await expect(panel).toHaveAttribute('data-race-step', '0');
  const steps = Number(await panel.getAttribute('data-race-steps'));
  expect(steps).toBeGreaterThan(2);
  return steps;
}

/** Step forward, button by button, to the last step; the verdict waits for it. */
async function stepToEnd(panel: Locator, steps: number): Promise<void> {
  const step = panel.getByRole('button', { name: 'Step forward' });
  for (let i = 1; i < steps; i++) {
    await expect(panel).toHaveAttribute('data-race-verdict', 'pending');
    await step.click();
    await expect(panel).toHaveAttribute('data-race-step', String(i));
    const current = panel.locator('li[aria-current="step"]');
    await expect(current).toHaveAttribute('data-step', String(i));
    await expect(current).toContainText('current step');
  }
}

async function expectOops(panel: Locator, checker: RegExp): Promise<void> {
  await expect(panel).toHaveAttribute('data-race-verdict', 'oops');
  await expect(panel).toHaveAttribute('data-race-expected', 'true');
  const verdict = panel.getByTestId('race-verdict');
  await expect(verdict.getByRole('heading')).toHaveText(/^OOPS: the .+ checker found \d+ violations?\.$/);
  await expect(verdict.getByRole('heading')).toHaveText(checker);
  await expect(verdict.getByRole('list', { name: 'Violations' }).getByRole('listitem').first()).not.toBeEmpty();
  await expect(verdict).toContainText('This is the expected outcome with the protection off.');
}

async function expectClean(panel: Locator): Promise<void> {
  await expect(panel).toHaveAttribute('data-race-verdict', 'clean');
  await expect(panel).toHaveAttribute('data-race-expected', 'true');
  const verdict = panel.getByTestId('race-verdict');
  await expect(verdict.getByRole('heading')).toHaveText(/^Clean: the .+ checker found nothing wrong\.$/);
  await expect(verdict.getByRole('list', { name: 'Violations' })).toHaveCount(0);
  await expect(verdict).toContainText('This is the expected outcome with the protection on.');
}

const SCENARIOS: { name: string; checker: RegExp; snapshot: RegExp }[] = [
  { name: 'lost-dirty-bit', checker: /host dirty flag/, snapshot: /HOST_WRITEABLE/ },
  { name: 'stale-tlb', checker: /stale TLB/, snapshot: /vCPU 0: gva 0x[0-9a-f]+ → pfn 0x[0-9a-f]+, writable/ },
];

for (const s of SCENARIOS) {
  test(`Race lab: ${s.name} ends in the OOPS with the protection off, clean with it on`, async ({ page }) => {
    const panel = await openPanel(page);
    const steps = await run(panel, s.name, false);
    // Every lane of the scenario is a column, and step 0 shows its snapshot.
    await expect(panel.locator('.race-lane-head', { hasText: /^vCPU 0$/ })).toHaveCount(1);
    await expect(panel.locator('.race-lane-head', { hasText: /^host \/ VMM$/ })).toHaveCount(1);
    await expect(panel.locator('li[aria-current="step"] .race-snapshot')).toContainText(s.snapshot);
    await stepToEnd(panel, steps);
    await expectOops(panel, s.checker);

    // Back one step: the verdict waits again; the arrow key in the lanes comes back.
    await panel.getByRole('button', { name: 'Step back' }).click();
    await expect(panel).toHaveAttribute('data-race-step', String(steps - 2));
    await expect(panel).toHaveAttribute('data-race-verdict', 'pending');
    await panel.getByTestId('race-lanes').focus();
    await page.keyboard.press('ArrowDown');
    await expect(panel).toHaveAttribute('data-race-step', String(steps - 1));
    await expectOops(panel, s.checker);
    await expect(panel.getByLabel('Link to this step')).toHaveValue(
      new RegExp(`#race=${s.name}&unsafe=1&step=${steps - 1}$`));

    // The same scenario with the protection on: the same kind of steps, a clean end.
    const safeSteps = await run(panel, s.name, true);
    await stepToEnd(panel, safeSteps);
    await expectClean(panel);
    await panel.getByTestId('race-lanes').press('Home');
    await expect(panel).toHaveAttribute('data-race-step', '0');
    await expect(panel).toHaveAttribute('data-race-verdict', 'pending');
  });
}

test('Race lab: a #race= link opens the run at its step; a bad link says why it was ignored', async ({ page }) => {
  const panel = await openPanel(page, '/#race=stale-tlb&unsafe=1&step=3');
  await expect(panel).toHaveAttribute('data-race-state', 'ready', { timeout: TIMEOUT });
  await expect(panel).toHaveAttribute('data-race-scenario', 'stale-tlb');
  await expect(panel).toHaveAttribute('data-race-unsafe', 'true');
  await expect(panel).toHaveAttribute('data-race-step', '3');
  await expect(panel.locator('li[aria-current="step"]')).toHaveAttribute('data-step', '3');
  await expect(panel.getByRole('switch', { name: 'Protection' })).not.toBeChecked();
  await expect(panel.getByTestId('race-lanes')).toBeFocused();
  await expect(panel.getByTestId('race-message')).toBeHidden();

  // Copy link puts the same link on the clipboard.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await panel.getByRole('button', { name: 'Copy link' }).click();
  await expect(panel.getByText('Link copied.')).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toMatch(/\/#race=stale-tlb&unsafe=1&step=3$/);

  // Play runs on to the end by itself, where the verdict shows.
  await panel.getByRole('button', { name: 'Play steps' }).click();
  await expect(panel).toHaveAttribute('data-race-step', '4', { timeout: TIMEOUT });
  await expect(panel).toHaveAttribute('data-race-verdict', 'oops');
  await expect(panel.getByRole('button', { name: 'Play steps' })).toHaveAttribute('aria-disabled', 'true');

  // Unknown names are ignored, with a message; nothing from the fragment becomes markup.
  await page.evaluate(() => { location.hash = '#race=%3Cimg%20src%3Dx%3E&step=1'; });
  await expect(panel.getByTestId('race-message')).toContainText('names no valid scenario');
  await expect(panel.locator('img[src="x"]')).toHaveCount(0);
  await page.evaluate(() => { location.hash = '#race=no-such-race&step=1'; });
  await expect(panel.getByTestId('race-message')).toContainText('unknown scenario "no-such-race"');
  await expect(panel).toHaveAttribute('data-race-step', '4'); // the run on screen stays where it was

  // A bad step number is ignored: the run opens at step 0 and says so.
  await page.evaluate(() => { location.hash = '#race=lost-dirty-bit&unsafe=0&step=1e9'; });
  await expect(panel).toHaveAttribute('data-race-scenario', 'lost-dirty-bit', { timeout: TIMEOUT });
  await expect(panel).toHaveAttribute('data-race-state', 'ready', { timeout: TIMEOUT });
  await expect(panel).toHaveAttribute('data-race-step', '0');
  await expect(panel.getByTestId('race-message')).toContainText('Ignored step="1e9"');

  // Replay stops: tick the host's pause point; Step runs on to the step that parks there.
  const armed = panel.getByRole('group', { name: /Replay stops/ }).getByLabel(/spte:after-read/);
  await armed.check();
  await panel.getByRole('button', { name: 'Step forward' }).click();
  await expect(panel.locator('li[aria-current="step"]')).toContainText('parked at spte:after-read');
  expect(Number(await panel.getAttribute('data-race-step'))).toBeGreaterThan(1);
});

test('Race lab: free play (live) drives stale-tlb by hand to the OOPS, one action at a time', async ({ page }) => {
  const panel = await openPanel(page);
  await expect(panel.getByLabel('Scenario').locator('option[value="stale-tlb"]')).toHaveCount(1, { timeout: TIMEOUT });
  await panel.getByLabel('Scenario').selectOption('stale-tlb');
  await panel.getByRole('switch', { name: 'Protection' }).setChecked(false);
  await panel.getByRole('button', { name: 'Start free play' }).click();
  await expect(panel).toHaveAttribute('data-race-live', 'on', { timeout: TIMEOUT });
  await expect(panel).toHaveAttribute('data-race-steps', '0');
  const vcpu = panel.locator('fieldset.race-live-lane[data-lane="vcpu0"]');
  const host = panel.locator('fieldset.race-live-lane[data-lane="host"]');
  const steps = async (n: number) => {
    await expect(panel).toHaveAttribute('data-race-live', 'on', { timeout: TIMEOUT });
    await expect(panel).toHaveAttribute('data-race-steps', String(n));
  };

  // vCPU 0 writes the page: a live step, drawn in the lanes.
  await vcpu.getByLabel('Operation on vCPU 0').selectOption('write');
  await vcpu.getByLabel('va', { exact: true }).fill('0x80030000');
  await vcpu.getByLabel('value', { exact: true }).fill('1');
  await vcpu.getByRole('button', { name: 'Issue on vCPU 0' }).click();
  await steps(1);
  await expect(panel.locator('li[aria-current="step"]')).toContainText('store 0x1 to 0x80030000');

  // Arm GET_DIRTY_LOG before its flush, run it: the host parks there.
  await host.getByLabel('get-log:before-flush').check();
  await expect(panel).toHaveAttribute('data-race-live', 'on');
  await expect(host.getByLabel('get-log:before-flush')).toBeChecked();
  await host.getByLabel('Operation on host / VMM').selectOption('get-log');
  await host.getByRole('button', { name: 'Issue on host / VMM' }).click();
  await steps(2);
  await expect(host).toHaveAttribute('data-lane-state', 'parked');
  await expect(host).toContainText('parked at get-log:before-flush');
  await expect(panel.locator('li[aria-current="step"]')).toContainText('parked at get-log:before-flush');

  // A wrong action is refused and changes nothing.
  await expect(vcpu.getByRole('button', { name: 'Release vCPU 0' })).toBeDisabled();
  await vcpu.getByLabel('va', { exact: true }).fill('nope');
  await vcpu.getByRole('button', { name: 'Issue on vCPU 0' }).click();
  await expect(panel.getByTestId('race-live-status')).toContainText('va must be a number');
  await expect(panel).toHaveAttribute('data-race-steps', '2');

  // Disarm, release: GET finishes (no flush: the protection is off).
  await host.getByLabel('get-log:before-flush').uncheck();
  await expect(panel).toHaveAttribute('data-race-live', 'on');
  await host.getByRole('button', { name: 'Release host / VMM' }).click();
  await steps(3);
  await vcpu.getByLabel('va', { exact: true }).fill('0x80030000');
  await vcpu.getByLabel('value', { exact: true }).fill('2');
  await vcpu.getByRole('button', { name: 'Issue on vCPU 0' }).click();
  await steps(4);
  await expect(panel.locator('li[aria-current="step"]')).toContainText('TLB hit');
  await host.getByRole('button', { name: 'Issue on host / VMM' }).click();
  await steps(5);

  // The checkers find the write through the stale TLB entry.
  await expect(panel).toHaveAttribute('data-race-verdict', 'pending');
  await panel.getByRole('button', { name: 'Check verdict now' }).click();
  await expectOops(panel, /stale TLB/);
  await panel.getByRole('button', { name: 'End free play' }).click();
  await expect(panel).toHaveAttribute('data-race-live', 'off');
  await expect(panel.locator('fieldset.race-live-lane')).toHaveCount(0);
});
