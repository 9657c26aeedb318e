/**
 * The sessions list as the console keeps it live: `GET /v1/sessions/watch` tells `live`, then
 * each row the projector commits, filtered as asked; and the list's time range.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { SessionJson, SessionListJson, StartedJson } from '../../src/contract/index.js';
import { startLedger } from '../support/ledger-server.js';
import { readSse, type SseEvent } from '../support/sse.js';
import { within } from '../support/waits.js';

let now = Date.parse('2026-11-30T10:00:00Z');
const ledger = await startLedger({ clock: () => new Date(now) });
t.teardown(() => ledger.close());
const { call, controller } = ledger;

const start = async (provider = 'gemini') =>
  StartedJson.parse((await call('POST', '/v1/sessions', { token: controller, body: { userId: 'user-1', provider, browserVmId: `vm-${randomUUID()}` } })).body);

/** Opens the live list; `next()` gives its events one by one. */
async function openList(query = '', token = controller) {
  const abort = new AbortController();
  const response = await fetch(`${ledger.url}/v1/sessions/watch${query}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort.signal });
  const events = readSse(response);
  return {
    response,
    next: async (): Promise<SseEvent> => (await within(events.next(), 'the next event')).value as SseEvent,
    close: () => abort.abort(),
  };
}

t.test('live, then each committed row: a new session, then its completion', async (t) => {
  const list = await openList();
  t.teardown(list.close);
  t.equal(list.response.status, 200);
  const live = await list.next();
  t.match(live, { event: 'live', data: /"position":"\d+"/ });
  const started = await start();
  const first = await list.next();
  t.match(first, { event: 'session', id: started.position });
  t.match(SessionJson.parse(JSON.parse(first.data)), { sessionId: started.sessionId, status: 'pending' });
  await call('POST', `/v1/sessions/${started.sessionId}/events`, {
    token: controller,
    body: { type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'gemini', credentialRef: 'cred-1' } },
  });
  t.match(SessionJson.parse(JSON.parse((await list.next()).data)), { sessionId: started.sessionId, status: 'completed' });
});

t.test('filtered as asked: rows of another provider are not sent', async (t) => {
  const list = await openList('?provider=codex');
  t.teardown(list.close);
  await list.next();
  await start('gemini');
  const codex = await start('codex');
  t.match(JSON.parse((await list.next()).data), { sessionId: codex.sessionId, provider: 'codex' }, 'the gemini session was skipped');
});

t.test('only what the console may see: a frontend or an agent is refused, a bad filter is a 400', async (t) => {
  for (const token of [ledger.frontend('user-1'), ledger.agent('session-1')]) {
    const list = await openList('', token);
    t.equal(list.response.status, 403);
    list.close();
  }
  const bad = await openList('?status=done');
  t.equal(bad.response.status, 400);
  bad.close();
});

t.test('the list narrows to a time range of creation', async (t) => {
  now = Date.parse('2026-12-01T08:00:00Z');
  const early = await start();
  now = Date.parse('2026-12-01T12:00:00Z');
  const late = await start();
  await call('GET', `/v1/sessions/${late.sessionId}?after=${late.position}`, { token: controller });
  const list = async (query: string) =>
    SessionListJson.parse((await call('GET', `/v1/sessions?${query}`, { token: controller })).body).sessions.map((session) => session.sessionId);
  t.same(await list('since=2026-12-01T00:00:00Z'), [late.sessionId, early.sessionId], 'newest first');
  t.same(await list('since=2026-12-01T09:00:00Z'), [late.sessionId], 'since: inclusive');
  t.same(await list('since=2026-12-01T00:00:00Z&until=2026-12-01T12:00:00Z'), [early.sessionId], 'until: exclusive');
  const firstPage = SessionListJson.parse((await call('GET', '/v1/sessions?since=2026-12-01T00:00:00Z&limit=1', { token: controller })).body);
  t.same(await list(`since=2026-12-01T00:00:00Z&limit=1&cursor=${encodeURIComponent(firstPage.nextCursor!)}`), [early.sessionId], 'paged within the range');
  t.equal((await call('GET', '/v1/sessions?since=yesterday', { token: controller })).status, 400);
});
