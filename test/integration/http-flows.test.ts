import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import t from 'tap';
import { AppendedJson, SessionEventsJson, SessionListJson, StartedJson, VmDestroyedJson } from '../../src/contract/index.js';
import { PROVIDERS, startLedger } from '../support/ledger-server.js';

const ledger = await startLedger();
t.teardown(() => ledger.close());
const { call, controller } = ledger;

/** The legacy question, asked of the file itself through a connection of its own. */
function legacyStatus(sessionId: string): string | undefined {
  const db = new Database(ledger.dbPath, { readonly: true });
  try {
    return db.prepare('select status from auth_sessions where session_id = ?').pluck().get(sessionId) as string | undefined;
  } finally {
    db.close();
  }
}

async function start(provider: string, vmId = `vm-${randomUUID()}`, userId = 'user-1') {
  const started = await call('POST', '/v1/sessions', { token: controller, body: { userId, provider, browserVmId: vmId } });
  t.equal(started.status, 201, 'the session starts');
  return { ...StartedJson.parse(started.body), vmId };
}

const credentials = (provider: string) => ({
  type: 'CredentialsStored',
  eventId: randomUUID(),
  data: { provider, credentialRef: `cred-${randomUUID()}` },
});

for (const provider of PROVIDERS) {
  t.test(`${provider}: credentials stored, then the VM destroyed: the frontend reads completed`, async (t) => {
    const { sessionId, agentToken, vmId } = await start(provider);
    const stored = await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: credentials(provider) });
    t.equal(stored.status, 201);
    t.equal(AppendedJson.parse(stored.body).status, 'completed');
    const destroyed = await call('POST', `/v1/vms/${vmId}/destroyed`, { token: controller, body: { reason: 'clean-up after OAuth' } });
    t.equal(destroyed.status, 201);
    t.match(destroyed.body, { sessions: [{ sessionId, status: 'completed' }] });
    const { position } = VmDestroyedJson.parse(destroyed.body);
    const read = await call('GET', `/v1/sessions/${sessionId}?after=${position}`, { token: ledger.frontend('user-1') });
    t.equal(read.status, 200);
    t.match(read.body, { sessionId, provider, status: 'completed', errorMessage: null, revision: '2', position, anomalies: [] });
    t.equal(legacyStatus(sessionId), 'completed', 'select status from auth_sessions says completed');
  });
}

t.test('the VM destroyed before OAuth: failed; late credentials after it: completed, with the anomaly', async (t) => {
  const { sessionId, agentToken, vmId } = await start('codex');
  const destroyed = await call('POST', `/v1/vms/${vmId}/destroyed`, { token: controller, body: { reason: 'VM crashed' } });
  const failed = await call('GET', `/v1/sessions/${sessionId}?after=${VmDestroyedJson.parse(destroyed.body).position}`, { token: controller });
  t.match(failed.body, { status: 'failed', errorMessage: 'VM destroyed before OAuth completion', completedAt: null });
  t.equal(legacyStatus(sessionId), 'failed');
  const late = await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: credentials('codex') });
  const lateAnswer = AppendedJson.parse(late.body);
  t.equal(lateAnswer.status, 'completed');
  const read = await call('GET', `/v1/sessions/${sessionId}?after=${lateAnswer.position}`, { token: controller });
  t.match(read.body, { status: 'completed', errorMessage: null, anomalies: [{ kind: 'completedAfterFailure', position: lateAnswer.position }] });
  t.equal(legacyStatus(sessionId), 'completed');
});

t.test('a retried append answers 200 with the original position; the same id for other content is 409', async (t) => {
  const { sessionId, agentToken } = await start('gemini');
  const fact = credentials('gemini');
  const first = await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: fact });
  const retry = await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: fact });
  t.equal(first.status, 201);
  t.equal(retry.status, 200);
  t.same(retry.body, first.body);
  const reused = await call('POST', `/v1/sessions/${sessionId}/events`, {
    token: agentToken,
    body: { ...fact, data: { ...fact.data, credentialRef: 'another' } },
  });
  t.equal(reused.status, 409);
  t.match(reused.body, { type: /\/conflict$/, eventId: fact.eventId, reason: 'otherContent' });
  const events = await call('GET', `/v1/sessions/${sessionId}/events`, { token: ledger.auditor });
  t.equal(SessionEventsJson.parse(events.body).events.length, 2, 'recorded once');
});

t.test("the agent token is scoped to its session and expires with it", async (t) => {
  const expiresAt = new Date(Date.now() + 120_000).toISOString();
  const started = await call('POST', '/v1/sessions', { token: controller, body: { userId: 'user-1', provider: 'gemini', browserVmId: 'vm-scoped', expiresAt } });
  const answer = StartedJson.parse(started.body);
  t.equal(answer.expiresAt, expiresAt);
  const claims: unknown = JSON.parse(Buffer.from(answer.agentToken.split('.')[1]!, 'base64url').toString());
  t.match(claims, { role: 'agent', sessionId: answer.sessionId, exp: Math.floor(Date.parse(expiresAt) / 1000) });
  const other = await start('gemini');
  const elsewhere = await call('POST', `/v1/sessions/${other.sessionId}/events`, { token: answer.agentToken, body: credentials('gemini') });
  t.equal(elsewhere.status, 404, 'it cannot write to another session: to it, there is none');
});

t.test('a retried start with the same event id is the same session', async (t) => {
  const body = { userId: 'user-9', provider: 'gemini', browserVmId: 'vm-retried', eventId: randomUUID() };
  const first = await call('POST', '/v1/sessions', { token: controller, body });
  const retry = await call('POST', '/v1/sessions', { token: controller, body });
  t.equal(first.status, 201);
  t.equal(retry.status, 200);
  const [firstAnswer, retryAnswer] = [StartedJson.parse(first.body), StartedJson.parse(retry.body)];
  t.equal(retryAnswer.sessionId, firstAnswer.sessionId);
  t.equal(retryAnswer.position, firstAnswer.position);
  const again = await call('POST', '/v1/sessions', { token: controller, body: { ...body, sessionId: firstAnswer.sessionId, eventId: randomUUID() } });
  t.equal(again.status, 409, 'starting an existing session with a new event id is a conflict');
});

t.test('an expected revision that does not match answers 409 with the current revision', async (t) => {
  const { sessionId } = await start('gemini');
  const stale = await call('POST', `/v1/sessions/${sessionId}/events`, {
    token: controller,
    body: { ...credentials('gemini'), expectedRevision: '5' },
  });
  t.equal(stale.status, 409);
  t.match(stale.body, { type: /\/revision-mismatch$/, currentRevision: '0', expectedRevision: '5' });
  const exact = await call('POST', `/v1/sessions/${sessionId}/events`, { token: controller, body: { ...credentials('gemini'), expectedRevision: '0' } });
  t.equal(exact.status, 201);
});

t.test('the user cancels their own pending session once; the second cancel is 409', async (t) => {
  const { sessionId } = await start('claude-code', undefined, 'user-c');
  const cancel = () => ({ type: 'SessionCancelled', eventId: randomUUID(), data: { cancelledBy: 'user-c' } });
  const first = await call('POST', `/v1/sessions/${sessionId}/events`, { token: ledger.frontend('user-c'), body: cancel() });
  t.equal(first.status, 201);
  t.equal(AppendedJson.parse(first.body).status, 'cancelled');
  const second = await call('POST', `/v1/sessions/${sessionId}/events`, { token: ledger.frontend('user-c'), body: cancel() });
  t.equal(second.status, 409);
  t.match(second.body, { code: 'session-already-terminal' });
  const other = await call('POST', `/v1/sessions/${sessionId}/events`, { token: ledger.frontend('user-d'), body: cancel() });
  t.equal(other.status, 404, "another user's token cannot cancel it, nor learn it exists");
});

t.test('time travel: asOf a position or a moment folds the stream up to then', async (t) => {
  const { sessionId, vmId, agentToken, position: startedAt } = await start('gemini');
  const destroyed = await call('POST', `/v1/vms/${vmId}/destroyed`, { token: controller, body: { reason: 'clean-up' } });
  await new Promise((resolve) => setTimeout(resolve, 5));
  const between = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: credentials('gemini') });
  const asOf = (value: string) => call('GET', `/v1/sessions/${sessionId}?asOf=${encodeURIComponent(value)}`, { token: ledger.auditor });
  t.match((await asOf(startedAt)).body, { status: 'pending', revision: '0' });
  t.match((await asOf(VmDestroyedJson.parse(destroyed.body).position)).body, { status: 'failed', revision: '1' });
  t.match((await asOf(between)).body, { status: 'failed', revision: '1' });
  t.equal((await asOf('2000-01-01T00:00:00.000Z')).status, 404, 'before the session existed');
});

t.test('the raw events of a session, with metadata', async (t) => {
  const { sessionId, agentToken } = await start('codex');
  await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: { ...credentials('codex'), correlationId: 'flow-7' } });
  const events = await call('GET', `/v1/sessions/${sessionId}/events`, { token: agentToken });
  t.equal(events.status, 200);
  t.match(SessionEventsJson.parse(events.body).events, [
    { type: 'SessionStarted', revision: '0', metadata: { actor: { role: 'controller' }, schemaVersion: 1 } },
    { type: 'CredentialsStored', revision: '1', data: { sessionId, provider: 'codex' }, metadata: { actor: { role: 'agent', sub: `agent:${sessionId}` }, correlationId: 'flow-7' } },
  ]);
});

t.test('listing: filters, newest first, cursor paging without gaps or repeats', async (t) => {
  const userId = `lister-${randomUUID()}`;
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await start(i % 2 ? 'codex' : 'gemini', undefined, userId)).sessionId);
  const last = await call('POST', `/v1/sessions/${ids[4]}/events`, { token: controller, body: credentials('gemini') });
  await call('GET', `/v1/sessions/${ids[4]}?after=${AppendedJson.parse(last.body).position}`, { token: controller });
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof call>> = await call('GET', `/v1/sessions?userId=${userId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: controller });
    t.equal(page.status, 200);
    const list = SessionListJson.parse(page.body);
    seen.push(...list.sessions.map((s) => s.sessionId));
    cursor = list.nextCursor;
  } while (cursor);
  t.same([...seen].sort(), [...ids].sort(), 'every session once');
  t.same(seen, [...ids].reverse(), 'newest first');
  const completed = await call('GET', `/v1/sessions?userId=${userId}&status=completed`, { token: ledger.auditor });
  t.same(SessionListJson.parse(completed.body).sessions.map((s) => s.sessionId), [ids[4]]);
  const codex = await call('GET', `/v1/sessions?userId=${userId}&provider=codex`, { token: controller });
  t.equal(SessionListJson.parse(codex.body).sessions.length, 2);
  const own = await call('GET', '/v1/sessions', { token: ledger.frontend(userId) });
  t.equal(SessionListJson.parse(own.body).sessions.length, 5, "a frontend lists its user's sessions");
  t.equal((await call('GET', '/v1/sessions?userId=someone-else', { token: ledger.frontend(userId) })).status, 403);
  t.equal((await call('GET', '/v1/sessions?cursor=not-a-cursor', { token: controller })).status, 400);
});

t.test('operations: health, readiness, metrics, OpenAPI', async (t) => {
  t.same((await call('GET', '/healthz')).body, { status: 'ok' });
  const ready = await call('GET', '/readyz');
  t.equal(ready.status, 200);
  t.match(ready.body, { status: 'ready', projector: { running: true, caughtUp: true, lag: '0' } });
  const metrics = await call('GET', '/metrics');
  t.match(metrics.type, 'text/plain');
  t.match(metrics.body, /ledger_appends_total\{type="CredentialsStored",outcome="recorded"\} \d+/);
  t.match(metrics.body, /ledger_appends_total\{type="CredentialsStored",outcome="already_recorded"\} 1/);
  t.match(metrics.body, 'ledger_append_duration_seconds_bucket');
  t.match(metrics.body, /ledger_projector_lag_positions 0/);
  t.match(metrics.body, /ledger_read_model_sessions\{status="completed"\} \d+/);
  const docs = await call('GET', '/docs/json');
  t.equal(docs.status, 200);
  // The OpenAPI document is no answer of the contract: its one member read here, typed at the boundary.
  const openApi = docs.body as { paths: Record<string, unknown> };
  for (const path of ['/v1/sessions', '/v1/sessions/{id}/events', '/v1/vms/{vmId}/destroyed', '/v1/sessions/{id}']) {
    t.ok(openApi.paths[path], `OpenAPI documents ${path}`);
  }
  t.equal((await call('GET', '/docs')).status, 200, 'the UI is served');
});

t.test('a read that names a position the projector has not passed answers 503 with Retry-After', async (t) => {
  const lagging = await startLedger({ readWaitMs: 50 });
  t.teardown(() => lagging.close());
  const response = await lagging.call('GET', '/v1/sessions/whatever?after=1000', { token: lagging.controller });
  t.equal(response.status, 503);
  t.equal(response.headers.get('retry-after'), '1');
  t.match(response.body, { type: /\/projection-lagging$/, after: '1000' });
  await lagging.projector.stop();
  const ready = await lagging.call('GET', '/readyz');
  t.equal(ready.status, 503, 'a stopped projector is not ready');
});
