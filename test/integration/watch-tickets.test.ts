/**
 * A web page opens the watch with the browser's own EventSource: no Authorization header,
 * a single-use ticket in the URL instead, minted with the page's bearer token. The ticket is
 * scoped to one session, expires within a minute, cannot be replayed, is never a bearer
 * token, and never reaches the logs; CORS is off unless configured.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { createLedgerClient } from '../../src/client/index.js';
import { ProblemJson, StartedJson, WatchTicketJson } from '../../src/contract/index.js';
import { startLedger } from '../support/ledger-server.js';
import { readSse } from '../support/sse.js';

let now = Date.now();
const ledger = await startLedger({ clock: () => new Date(now), corsOrigins: ['https://app.example.com'] });
t.teardown(() => ledger.close());
const { call, controller } = ledger;

async function start(userId = 'user-1') {
  const started = await call('POST', '/v1/sessions', { token: controller, body: { userId, provider: 'gemini', browserVmId: `vm-${randomUUID()}` } });
  return StartedJson.parse(started.body);
}
const ticketFor = async (sessionId: string, token: string) => WatchTicketJson.parse((await call('POST', '/v1/watch-tickets', { token, body: { sessionId } })).body);
/** The watch as a browser's EventSource opens it: no Authorization header. */
const openWatch = (path: string) => fetch(`${ledger.url}${path}`, { headers: { accept: 'text/event-stream' } });

t.test("a ticket minted with the frontend's token opens its session's watch with no Authorization header", async (t) => {
  const session = await start();
  const ticket = await ticketFor(session.sessionId, ledger.frontend('user-1'));
  t.match(ticket, { ticket: /\S+/, watch: `/v1/sessions/${session.sessionId}/watch?ticket=${encodeURIComponent(ticket.ticket)}` });
  t.ok(Date.parse(ticket.expiresAt) - now <= 60_000, 'it expires within a minute');
  const response = await openWatch(ticket.watch);
  t.equal(response.status, 200);
  for await (const event of readSse(response)) {
    t.match(JSON.parse(event.data), { sessionId: session.sessionId, status: 'pending' }, 'the current status, live');
    break;
  }
});

t.test('a ticket is used once: the second use is a 401 problem', async (t) => {
  const session = await start();
  const { watch } = await ticketFor(session.sessionId, controller);
  const first = new AbortController();
  const opened = await fetch(`${ledger.url}${watch}`, { headers: { accept: 'text/event-stream' }, signal: first.signal });
  t.equal(opened.status, 200);
  first.abort();
  const again = await call('GET', watch, { headers: { accept: 'text/event-stream' } });
  t.equal(again.status, 401);
  t.match(ProblemJson.parse(again.body), { type: /\/unauthenticated$/, detail: 'the watch ticket was used already; ask for a new one' });
});

t.test('an expired ticket, a forged one, one for another session, or one used as a bearer token: refused', async (t) => {
  const session = await start();
  const other = await start();
  const expiring = await ticketFor(session.sessionId, controller);
  now += 31_000;
  const expired = await call('GET', expiring.watch, { headers: { accept: 'text/event-stream' } });
  t.equal(expired.status, 401);
  t.match(expired.body, { detail: 'the watch ticket has expired; ask for a new one' });

  const forged = await call('GET', `/v1/sessions/${session.sessionId}/watch?ticket=${ledger.controller}`, { headers: { accept: 'text/event-stream' } });
  t.match(forged, { status: 401, body: { detail: 'the watch ticket has a signature that does not verify: this ledger did not sign it; ask for a new one' } }, 'a bearer token is not a ticket');

  const foreign = await ticketFor(other.sessionId, controller);
  const elsewhere = await call('GET', `/v1/sessions/${session.sessionId}/watch?ticket=${encodeURIComponent(foreign.ticket)}`, { headers: { accept: 'text/event-stream' } });
  t.match(elsewhere, { status: 403, body: { detail: 'the watch ticket is for another session' } });

  const asBearer = await call('GET', `/v1/sessions/${session.sessionId}`, { token: (await ticketFor(session.sessionId, controller)).ticket });
  t.equal(asBearer.status, 401, 'a ticket is not a bearer token');
});

t.test('minting a ticket takes what reading the session takes', async (t) => {
  const session = await start('user-1');
  t.equal((await call('POST', '/v1/watch-tickets', { body: { sessionId: session.sessionId } })).status, 401, 'no token');
  t.equal((await call('POST', '/v1/watch-tickets', { token: ledger.frontend('user-2'), body: { sessionId: session.sessionId } })).status, 404, "another user's session: not found");
  t.equal((await call('POST', '/v1/watch-tickets', { token: ledger.agent('elsewhere'), body: { sessionId: session.sessionId } })).status, 404, 'an agent of another session: not found');
  t.equal((await call('POST', '/v1/watch-tickets', { token: controller, body: { sessionId: 'no-such-session' } })).status, 404);
  t.equal((await call('POST', '/v1/watch-tickets', { token: controller, body: { sessionId: 'bad id' } })).status, 400);
});

t.test('a new EventSource resumes with ?lastEventId=, which it cannot send as a header', async (t) => {
  const session = await start();
  const first = await ledger.store.lastPosition();
  await call('POST', `/v1/sessions/${session.sessionId}/events`, {
    token: session.agentToken,
    body: { type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'gemini', credentialRef: 'c' } },
  });
  const { watch } = await ticketFor(session.sessionId, controller);
  const statuses: string[] = [];
  for await (const event of readSse(await openWatch(`${watch}&lastEventId=${first}`))) {
    if (event.event === 'status') statuses.push((JSON.parse(event.data) as { status: string }).status);
  }
  t.same(statuses, ['completed'], 'only what came after it');
});

t.test('tickets never reach the logs', async (t) => {
  const session = await start();
  const { ticket, watch } = await ticketFor(session.sessionId, controller);
  const response = await openWatch(watch);
  await response.body?.cancel();
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.notOk(ledger.logs.join('\n').includes(ticket), 'not in any log line');
  t.notOk(ledger.logs.join('\n').includes(ticket.split('.')[2]!), 'not even its signature');
});

t.test('CORS: only a configured origin may call from a browser', async (t) => {
  const preflight = (origin: string) =>
    fetch(`${ledger.url}/v1/watch-tickets`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
  const allowed = await preflight('https://app.example.com');
  t.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
  t.match(allowed.headers.get('access-control-allow-headers'), /authorization/);
  t.equal((await preflight('https://evil.example.net')).headers.get('access-control-allow-origin'), null, 'another origin is not allowed');

  const plain = await startLedger();
  t.teardown(() => plain.close());
  const off = await fetch(`${plain.url}/v1/sessions`, { headers: { origin: 'https://app.example.com', authorization: `Bearer ${plain.controller}` } });
  t.equal(off.headers.get('access-control-allow-origin'), null, 'off by default');
});

t.test('the typed client mints tickets too, for a page that uses it', async (t) => {
  const session = await start();
  const client = createLedgerClient({ baseUrl: ledger.url, token: controller });
  t.match(await client.watchTicket(session.sessionId), { watch: new RegExp(`^/v1/sessions/${session.sessionId}/watch\\?ticket=`) });
});
