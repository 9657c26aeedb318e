/// <reference lib="dom" />
// What runs in page.evaluate() runs in the browser, with its globals.
/**
 * The typed client, bundled for the web, in headless Chromium against a real `ledger serve`:
 * a page of the ledger's origin starts a session (its `eventId` from the browser's crypto),
 * records the credentials, and watches the status live to the end, over the browser's own
 * `fetch` and streams.
 */
import t from 'tap';
import type * as Client from '../../src/client/index.js';
import { browserUnavailable, ledgerAndBrowser, pageComplaints } from '../support/browser.js';
import { bundleClientForBrowser } from '../support/client-bundle.js';

const GLOBAL = 'SessionLedgerClient';

const unavailable = browserUnavailable();
if (unavailable) t.plan(0, unavailable);
else {
  const { ledger, browser } = await ledgerAndBrowser(t);
  const bundle = await bundleClientForBrowser({ format: 'iife', globalName: GLOBAL });

  t.test('a page runs the bundled client: start, append, and a watch from pending to completed', async (t) => {
    // A page of the ledger's origin, so no CORS; the bundle goes in as the page's own script
    // (the example's content policy allows no inline script, so this context waives it).
    const context = await browser.newContext({ bypassCSP: true });
    t.teardown(() => context.close());
    const page = await context.newPage();
    const complaints = pageComplaints(page);
    await page.goto(`${ledger.url}/example/`);
    await page.addScriptTag({ content: bundle.code });

    const seen = await page.evaluate(
      async ({ global, token }) => {
        const { createLedgerClient } = (globalThis as unknown as Record<string, typeof Client>)[global]!;
        const controller = createLedgerClient({ baseUrl: location.origin, token });
        const started = await controller.startSession({ userId: 'user-1', provider: 'gemini', browserVmId: `vm-${crypto.randomUUID()}` });
        const agent = controller.withToken(started.agentToken);
        const statuses: string[] = [];
        for await (const { session } of controller.watch(started.sessionId, { signal: AbortSignal.timeout(15_000) })) {
          statuses.push(session.status);
          if (session.status === 'pending') {
            await agent.appendEvent(started.sessionId, { type: 'CredentialsStored', data: { provider: 'gemini', credentialRef: 'cred-browser' } });
          }
        }
        return { eventId: started.eventId, statuses };
      },
      { global: GLOBAL, token: ledger.controller },
    );
    t.match(seen.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, "the start's eventId, a UUID the browser made");
    t.same(seen.statuses, ['pending', 'completed'], 'the watch told both, then ended by itself');
    t.same(complaints, [], 'and the page said nothing wrong');
  });
}
