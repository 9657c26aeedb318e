/// <reference lib="dom" />
// What runs in page.evaluate() runs in the browser, with its globals.
/**
 * The auditor console (/console/) in headless Chromium against a real `ledger serve`: the
 * login, the live sessions list, a session's timeline, the outcomes chart (checked for drawn
 * pixels), verify; and what a frontend or an agent token cannot open.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { PNG } from 'pngjs';
import { browserUnavailable, ledgerAndBrowser, pageComplaints } from '../support/browser.js';
import { editStatus } from '../support/tamper.js';

/** The completion chart's provider colours (console/src/completion-chart.tsx), as RGB. */
const SERIES_COLOURS = [
  [0x00, 0x72, 0xb2],
  [0xe6, 0x9f, 0x00],
  [0x00, 0x9e, 0x73],
];

/** How many pixels of a PNG are (nearly) one of the series' colours. */
function seriesPixels(png: Buffer): number {
  const { data, width, height } = PNG.sync.read(png);
  let count = 0;
  for (let at = 0; at < width * height * 4; at += 4) {
    if (SERIES_COLOURS.some(([r, g, b]) => Math.abs(data[at]! - r!) + Math.abs(data[at + 1]! - g!) + Math.abs(data[at + 2]! - b!) < 40)) count++;
  }
  return count;
}

const unavailable = browserUnavailable();
if (unavailable) t.plan(0, unavailable);
else {
  const { ledger, browser } = await ledgerAndBrowser(t);
  const { startSession: start } = ledger;
  const credentials = (sessionId: string, provider = 'gemini') => ledger.storeCredentials(sessionId, { provider });

  /** A fresh browser context (no cookie), logged in to the console with `token`. */
  async function logIn(token: string) {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const complaints = pageComplaints(page);
    await page.goto(`${ledger.url}/console/`);
    await page.getByLabel('Auditor or controller token').fill(token);
    await page.getByRole('button', { name: 'Open the console' }).click();
    return { context, page, complaints };
  }

  t.test('an auditor logs in; a new session appears in the list, then turns completed, without a reload', async (t) => {
    const { context, page, complaints } = await logIn(ledger.auditor);
    t.teardown(() => context.close());
    await page.getByText('Live · as of position').waitFor({ timeout: 15_000 });
    const cookies = await context.cookies();
    t.match(cookies, [{ name: 'ledger_console', httpOnly: true, sameSite: 'Strict' }], 'the login is an HttpOnly cookie');
    t.equal(await page.evaluate(() => document.cookie), '', 'which no script can read');

    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const session = await start();
    const row = page.locator(`tr[data-session="${session.sessionId}"]`);
    await row.getByText('pending').waitFor({ timeout: 15_000 });
    await credentials(session.sessionId);
    await row.getByText('completed').waitFor({ timeout: 15_000 });
    t.equal(await row.locator('.status').textContent(), 'completed');
    t.ok(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), 'the same page: live, not reloaded');
    t.same(complaints, []);
  });

  t.test('the timeline of a session completed after its VM was destroyed shows the anomaly, and the session as of each event', async (t) => {
    const session = await start('codex');
    await ledger.destroyVm(session.vmId);
    await credentials(session.sessionId, 'codex');
    const { context, page, complaints } = await logIn(ledger.auditor);
    t.teardown(() => context.close());
    // The page loads the timeline, then again when the watch sends the status: hold that second
    // load until the slider has moved, as a slow machine would, so it must not pull it back.
    let timelineLoads = 0;
    let releaseReload!: () => void;
    const reloadHeld = new Promise<void>((resolve) => (releaseReload = resolve));
    await page.route('**/timeline', async (route) => {
      if (++timelineLoads === 2) await reloadHeld;
      await route.continue();
    });
    await page.locator(`tr[data-session="${session.sessionId}"] a`).click();
    const anomalous = page.locator('table.timeline tr.anomalous');
    await anomalous.waitFor({ timeout: 15_000 });
    t.match(await anomalous.textContent(), /CredentialsStored.*completed.*completedAfterFailure/);
    t.match(await page.locator('.chain').textContent(), 'Hash chain intact over 3 events');
    const slider = page.getByLabel('Show the session as of event');
    await slider.focus();
    await page.keyboard.press('ArrowLeft');
    await page.locator('.as-of-result').getByText('failed').waitFor({ timeout: 15_000 });
    t.match(await page.locator('.as-of-result').textContent(), /Event 2 of 3/, 'the slider, by keyboard: as of the VM destroyed');
    // A late fact lands meanwhile (the agent's retry under a new id), so the held reload brings a fourth event.
    t.equal((await credentials(session.sessionId, 'codex')).status, 201);
    releaseReload();
    await page.locator('.chain').getByText('Hash chain intact over 4 events').waitFor({ timeout: 15_000 });
    t.equal(timelineLoads, 2, 'the watch made the page reload the timeline');
    t.match(await page.locator('.as-of-result').textContent(), /Event 2 of 4.*failed/, 'the reload left the slider where the user put it');
    t.same(complaints, []);
  });

  t.test('the outcomes chart is drawn', async (t) => {
    for (const provider of ['gemini', 'codex', 'claude-code']) {
      const session = await start(provider);
      await credentials(session.sessionId, provider);
    }
    const { context, page, complaints } = await logIn(ledger.controller);
    t.teardown(() => context.close());
    await page.getByRole('link', { name: 'Outcomes' }).click();
    const canvas = page.locator('.chart canvas');
    await canvas.waitFor({ timeout: 15_000 });
    await page.locator('table.figures').getByText('claude-code').waitFor({ timeout: 15_000 });
    // The canvas alone: the legend beside it has the colours too, data or not.
    const pixels = seriesPixels(await canvas.screenshot());
    t.ok(pixels >= 20, `the series are drawn in their colours (${pixels} pixels)`);
    t.same(complaints, []);
  });

  t.test('verify: an auditor sees the result at a glance; a controller is told it takes an auditor', async (t) => {
    const auditor = await logIn(ledger.auditor);
    t.teardown(() => auditor.context.close());
    await auditor.page.getByRole('link', { name: 'Verify' }).click();
    await auditor.page.getByRole('button', { name: 'Run verify' }).click();
    await auditor.page.locator('.verdict').waitFor({ timeout: 30_000 });
    t.match(await auditor.page.locator('.verdict').textContent(), /✓ Clean: \d+ sessions and \d+ events checked/);

    // Someone edits the read model behind the ledger's back, as the mutable table used to be.
    const edited = await start();
    await credentials(edited.sessionId);
    await ledger.call('GET', `/v1/sessions/${edited.sessionId}?after=${edited.position}`, { token: ledger.controller });
    editStatus(ledger.db, edited.sessionId, 'failed');
    await auditor.page.getByRole('button', { name: 'Run verify' }).click();
    await auditor.page.locator('.verdict.unclean').waitFor({ timeout: 30_000 });
    const difference = auditor.page.locator('table.differences tr', { hasText: edited.sessionId });
    t.match(await difference.textContent(), /status"failed""completed"/, 'each difference: the session, the column, the read model, the fold');
    const controllerLogin = await logIn(ledger.controller);
    t.teardown(() => controllerLogin.context.close());
    await controllerLogin.page.getByRole('link', { name: 'Verify' }).click();
    await controllerLogin.page.getByText("Verify takes an auditor's login").waitFor({ timeout: 15_000 });
  });

  t.test('a frontend or an agent token cannot open the console, nor its data', async (t) => {
    for (const [who, token] of [
      ['frontend', ledger.frontend('user-1')],
      ['agent', ledger.agent(randomUUID())],
    ] as const) {
      const { context, page } = await logIn(token);
      t.teardown(() => context.close());
      const refusal = page.getByRole('alert');
      await refusal.getByText('it takes an auditor or controller token').waitFor({ timeout: 15_000 });
      t.same(await context.cookies(), [], `${who}: no cookie`);
      t.equal(await page.getByRole('button', { name: 'Open the console' }).count(), 1, `${who}: still at the login`);
      const data = await page.evaluate(async () => (await fetch('/v1/sessions/watch', { headers: { accept: 'text/event-stream' } })).status);
      t.equal(data, 401, `${who}: the data routes answer 401 to the page`);
    }
  });

  t.test('logging out ends the login', async (t) => {
    const { context, page } = await logIn(ledger.auditor);
    t.teardown(() => context.close());
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Auditor or controller token').waitFor({ timeout: 15_000 });
    t.same(await context.cookies(), []);
    await page.reload();
    await page.getByLabel('Auditor or controller token').waitFor({ timeout: 15_000 });
  });

  t.test('a login that expires sends the page back to the login, which says so', async (t) => {
    // The cookie lasts as long as the token it was made from: here, eight seconds, room enough
    // for the login on a busy machine; the page is used again only once they are past.
    const lifetimeMs = 8000;
    const expiresAt = Date.now() + lifetimeMs;
    const { context, page } = await logIn(ledger.token({ role: 'auditor', sub: 'brief' }, lifetimeMs));
    t.teardown(() => context.close());
    await page.getByRole('link', { name: 'Outcomes' }).waitFor({ timeout: 15_000 });
    await page.waitForTimeout(Math.max(0, expiresAt - Date.now()) + 1000);
    await page.getByRole('link', { name: 'Outcomes' }).click();
    await page.getByRole('alert').getByText('Your console login has expired: log in again.').waitFor({ timeout: 15_000 });
    t.equal(await page.getByRole('button', { name: 'Open the console' }).count(), 1);
  });
}
