/// <reference lib="dom" />
// What runs in page.evaluate() runs in the browser, with its globals.
/**
 * The frontend example (/example/) in headless Chromium against a real `ledger serve`: the
 * page shows a login's status live with the browser's own EventSource and a watch ticket, as
 * the platform's frontend does.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { WatchTicketJson } from '../../src/contract/index.js';
import { browserUnavailable, ledgerAndBrowser, pageComplaints } from '../support/browser.js';

const unavailable = browserUnavailable();
if (unavailable) t.plan(0, unavailable);
else {
  const { ledger, browser } = await ledgerAndBrowser(t);
  const { call, controller, startSession: start } = ledger;
  const credentials = (sessionId: string, agentToken: string) => ledger.storeCredentials(sessionId, { as: agentToken });

  /** The example page, watching `fragment`'s session; a marker shows the page is never reloaded. */
  async function openExample(fragment: string) {
    const page = await browser.newPage();
    const complaints = pageComplaints(page);
    await page.goto(`${ledger.url}/example/#${fragment}`);
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const status = page.locator('#status');
    return {
      page,
      status,
      complaints,
      stillTheSamePage: () => page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true),
    };
  }

  t.test('waiting, then signed in without a reload when the agent records CredentialsStored', async (t) => {
    const session = await start();
    const example = await openExample(`session=${session.sessionId}&token=${ledger.frontend('user-1')}`);
    t.teardown(() => example.page.close());
    await example.status.filter({ hasText: 'waiting for login…' }).waitFor({ timeout: 15_000 });
    t.equal(await example.status.textContent(), 'waiting for login…');
    t.equal((await credentials(session.sessionId, session.agentToken)).status, 201);
    await example.status.filter({ hasText: 'signed in' }).waitFor({ timeout: 15_000 });
    t.ok(await example.stillTheSamePage(), 'live, not reloaded');
    t.same(example.complaints, []);
  });

  t.test('failed by VmDestroyed, then signed in when a late CredentialsStored comes within the grace period', async (t) => {
    const session = await start();
    const example = await openExample(`session=${session.sessionId}&token=${ledger.frontend('user-1')}`);
    t.teardown(() => example.page.close());
    await example.status.filter({ hasText: 'waiting for login…' }).waitFor({ timeout: 15_000 });
    await ledger.destroyVm(session.vmId);
    await example.status.filter({ hasText: 'failed' }).waitFor({ timeout: 15_000 });
    t.match(await example.page.locator('#detail').textContent(), /VM/, 'and why');
    await credentials(session.sessionId, session.agentToken);
    await example.status.filter({ hasText: 'signed in' }).waitFor({ timeout: 15_000 });
    t.ok(await example.stillTheSamePage(), 'the same watch told it');
    t.same(example.complaints, []);
  });

  t.test('a ticket used already is refused (401), and the page says so', async (t) => {
    const session = await start();
    const { watch } = WatchTicketJson.parse((await call('POST', '/v1/watch-tickets', { token: controller, body: { sessionId: session.sessionId } })).body);
    const first = new AbortController();
    t.equal((await fetch(`${ledger.url}${watch}`, { headers: { accept: 'text/event-stream' }, signal: first.signal })).status, 200, 'its one use');
    first.abort();
    const example = await openExample(`watch=${encodeURIComponent(watch)}`);
    t.teardown(() => example.page.close());
    await example.status.filter({ hasText: 'refused' }).waitFor({ timeout: 15_000 });
    t.match(await example.page.locator('#detail').textContent(), /refused \(401: the watch ticket was used already; ask for a new one\)/);
  });

  t.test("a token that may not read the session gets no ticket, and the page says why: to it, there is no such session", async (t) => {
    const session = await start();
    const example = await openExample(`session=${session.sessionId}&token=${ledger.frontend('user-2')}`);
    t.teardown(() => example.page.close());
    await example.status.filter({ hasText: 'refused' }).waitFor({ timeout: 15_000 });
    t.match(await example.page.locator('#detail').textContent(), `no session ${session.sessionId}`);
  });

  t.test("the README's ten-line EventSource snippet works as written", async (t) => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const snippet = /### A web frontend's live status[^]*?```js\n([^]*?)```/.exec(readme)?.[1];
    t.ok(snippet, 'the README shows it');
    t.ok(snippet!.trim().split('\n').length <= 12, 'about ten lines');
    const session = await start();
    // A page of the ledger's origin; the snippet runs as a page's own script would (the
    // example's content policy allows no inline script, so this context waives it).
    const context = await browser.newContext({ bypassCSP: true });
    t.teardown(() => context.close());
    const page = await context.newPage();
    await page.goto(`${ledger.url}/example/`);
    await page.evaluate(() => document.body.append(Object.assign(document.createElement('p'), { id: 'snippet-status' })));
    const given = `const LEDGER = location.origin, sessionId = ${JSON.stringify(session.sessionId)}, frontendToken = ${JSON.stringify(ledger.frontend('user-1'))};
const statusLine = document.querySelector('#snippet-status');`;
    await page.addScriptTag({ type: 'module', content: `${given}\n${snippet!}` });
    const line = page.locator('#snippet-status');
    await line.filter({ hasText: 'waiting for login…' }).waitFor({ timeout: 15_000 });
    await credentials(session.sessionId, session.agentToken);
    await line.filter({ hasText: 'signed in' }).waitFor({ timeout: 15_000 });
  });
}
