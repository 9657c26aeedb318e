/**
 * The end of a watch, as the design says it: at `completed` at once; at `failed` or
 * `cancelled` after a grace period, so a late `CredentialsStored` still reaches the page live.
 * Over the real server, with the watch as a browser's EventSource reads it and through the
 * typed client.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { createLedgerClient } from '../../src/client/index.js';
import { StartedJson } from '../../src/contract/index.js';
import { startLedger } from '../support/ledger-server.js';
import { readSse, type SseEvent } from '../support/sse.js';

const GRACE_MS = 800;
const ledger = await startLedger({ watchGraceMs: GRACE_MS });
t.teardown(() => ledger.close());
const { call, controller } = ledger;

async function start() {
  const vmId = `vm-${randomUUID()}`;
  const started = await call('POST', '/v1/sessions', { token: controller, body: { userId: 'user-1', provider: 'gemini', browserVmId: vmId } });
  return { ...StartedJson.parse(started.body), vmId };
}
const watch = (sessionId: string, lastEventId?: string) =>
  fetch(`${ledger.url}/v1/sessions/${sessionId}/watch`, {
    headers: { authorization: `Bearer ${controller}`, accept: 'text/event-stream', ...(lastEventId && { 'last-event-id': lastEventId }) },
  });
const statusOf = (event: SseEvent) => (JSON.parse(event.data) as { status: string }).status;
/** The statuses a stream told, without its closing `end`. */
const statuses = (events: SseEvent[]) => events.filter((event) => event.event === 'status').map(statusOf);
const credentials = () => ({ type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'gemini', credentialRef: 'cred-late' } });

/**
 * A stream's events, and whether the server ended it (rather than this test, after 10 s: a
 * watch that never ends); `onEvent` may act as they come.
 */
async function collect(response: Response, onEvent?: (event: SseEvent) => unknown) {
  const events: SseEvent[] = [];
  let cut = false;
  const timer = setTimeout(() => {
    cut = true;
    void response.body?.cancel();
  }, 10_000);
  try {
    for await (const event of readSse(response)) {
      events.push(event);
      await onEvent?.(event);
    }
  } finally {
    clearTimeout(timer);
  }
  return { events, endedByTheServer: !cut };
}

t.test('failed, then a late CredentialsStored within the grace period: the same watch tells completed, then ends', async (t) => {
  const { sessionId, agentToken, vmId } = await start();
  const { events } = await collect(await watch(sessionId), async (event) => {
    if (statusOf(event) === 'pending') await call('POST', `/v1/vms/${vmId}/destroyed`, { token: controller, body: { reason: 'VM crashed' } });
    if (statusOf(event) === 'failed') await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: credentials() });
  });
  t.same(statuses(events), ['pending', 'failed', 'completed']);
});

t.test('cancelled, then a late CredentialsStored within the grace period: the watch tells completed too', async (t) => {
  const { sessionId, agentToken } = await start();
  const { events } = await collect(await watch(sessionId), async (event) => {
    if (statusOf(event) === 'pending') {
      await call('POST', `/v1/sessions/${sessionId}/events`, {
        token: ledger.frontend('user-1'),
        body: { type: 'SessionCancelled', eventId: randomUUID(), data: { cancelledBy: 'user-1' } },
      });
    }
    if (statusOf(event) === 'cancelled') await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: credentials() });
  });
  t.same(statuses(events), ['pending', 'cancelled', 'completed']);
});

t.test('failed or cancelled with nothing more: the server ends the watch when the grace period is over', async (t) => {
  const failed = await start();
  await call('POST', `/v1/vms/${failed.vmId}/destroyed`, { token: controller, body: { reason: 'VM crashed' } });
  t.match(await collect(await watch(failed.sessionId)), { events: [{ event: 'status' }, { event: 'end', data: '{"status":"failed"}' }], endedByTheServer: true }, 'failed: the current status, then the end');
  const cancelled = await start();
  await call('POST', `/v1/sessions/${cancelled.sessionId}/events`, {
    token: ledger.frontend('user-1'),
    body: { type: 'SessionCancelled', eventId: randomUUID(), data: { cancelledBy: 'user-1' } },
  });
  t.match(await collect(await watch(cancelled.sessionId)), { events: [{ event: 'status' }, { event: 'end', data: '{"status":"cancelled"}' }], endedByTheServer: true }, 'cancelled too');
});

t.test('completed ends the watch: nothing can change it', async (t) => {
  const { sessionId, agentToken } = await start();
  await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: credentials() });
  await call('GET', `/v1/sessions/${sessionId}?after=${await ledger.store.lastPosition()}`, { token: controller });
  const { events, endedByTheServer } = await collect(await watch(sessionId));
  t.same(statuses(events), ['completed']);
  t.ok(endedByTheServer);
});

t.test('a resume during the grace period stays open and tells a late success; a resume after it answers 204', async (t) => {
  const { sessionId, agentToken, vmId } = await start();
  await call('POST', `/v1/vms/${vmId}/destroyed`, { token: controller, body: { reason: 'VM crashed' } });
  const position = String(await ledger.store.lastPosition());
  // The resume opens (the watch's answer comes with its first event) before the late success is recorded, or after: either way it tells it.
  const resumed = watch(sessionId, position);
  await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: credentials() });
  const response = await resumed;
  t.equal(response.status, 200, 'within the grace period: the watch reopens');
  t.same(statuses((await collect(response)).events), ['completed'], 'and hears the late success');

  const second = await start();
  await call('POST', `/v1/vms/${second.vmId}/destroyed`, { token: controller, body: { reason: 'VM crashed' } });
  const failedAt = String(await ledger.store.lastPosition());
  const quiet = await collect(await watch(second.sessionId, failedAt));
  t.match(quiet, { events: [{ event: 'end' }], endedByTheServer: true }, 'nothing new: the reopened watch ends with the grace period');
  t.equal((await watch(second.sessionId, failedAt)).status, 204, 'after it: 204, do not reconnect');
});

t.test('the typed client: a failed session is watched through its grace period, the late success arrives, and the iterator ends', async (t) => {
  const client = createLedgerClient({ baseUrl: ledger.url, token: controller, retryDelayMs: 20 });
  const { sessionId, agentToken, vmId } = await start();
  const seen: string[] = [];
  for await (const update of client.watch(sessionId)) {
    seen.push(update.session.status);
    if (update.session.status === 'pending') await call('POST', `/v1/vms/${vmId}/destroyed`, { token: controller, body: { reason: 'VM crashed' } });
    if (update.session.status === 'failed') await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: credentials() });
  }
  t.same(seen, ['pending', 'failed', 'completed']);

  const quiet = await start();
  await call('POST', `/v1/vms/${quiet.vmId}/destroyed`, { token: controller, body: { reason: 'VM crashed' } });
  const updates = [];
  for await (const update of client.watch(quiet.sessionId)) updates.push(update.session.status);
  t.same(updates, ['failed'], 'nothing more came, and the iterator ended: the ledger said the watch was over');
});
