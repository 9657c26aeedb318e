import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startLedger } from '../support/ledger-server.js';

const ledger = await startLedger({ bodyLimit: 4096 });
t.teardown(() => ledger.close());
const { call, controller } = ledger;

async function start(vmId = `vm-${randomUUID()}`) {
  const started = await call('POST', '/v1/sessions', { token: controller, body: { userId: 'user-1', provider: 'codex', browserVmId: vmId } });
  return { ...(started.body as { sessionId: string; agentToken: string }), vmId };
}

const legacyColumns = ['session_id', 'user_id', 'provider', 'browser_vm_id', 'status', 'completed_at', 'error_message', 'created_at', 'updated_at', 'revision', 'position', 'anomalies'];

t.test('complete records CredentialsStored and answers the legacy row; the VM clean-up leaves it completed', async (t) => {
  const { sessionId, agentToken, vmId } = await start();
  const completed = await call('POST', `/api/auth/session/${sessionId}/complete`, { token: agentToken, body: { credentialRef: 'cred-row-9' } });
  t.equal(completed.status, 201);
  t.same(Object.keys(completed.body).sort(), [...legacyColumns].sort(), 'the snake_case columns of auth_sessions');
  t.match(completed.body, { session_id: sessionId, provider: 'codex', status: 'completed', error_message: null, completed_at: String, revision: '1' });
  const destroyed = await call('POST', `/v1/vms/${vmId}/destroyed`, { token: controller, body: { reason: 'clean-up' } });
  const read = await call('GET', `/api/auth/session/${sessionId}?after=${destroyed.body.position}`, { token: ledger.frontend('user-1') });
  t.equal(read.status, 200);
  t.match(read.body, { session_id: sessionId, status: 'completed', browser_vm_id: vmId, revision: '2' });
  const events = await call('GET', `/v1/sessions/${sessionId}/events`, { token: controller });
  t.match(events.body.events[1], { type: 'CredentialsStored', data: { provider: 'codex', credentialRef: 'cred-row-9' }, metadata: { actor: { role: 'agent' } } });
});

t.test('a retried complete is recorded once; a second complete with another credential is a conflict', async (t) => {
  const { sessionId } = await start();
  const first = await call('POST', `/api/auth/session/${sessionId}/complete`, { token: controller });
  const retry = await call('POST', `/api/auth/session/${sessionId}/complete`, { token: controller });
  t.equal(first.status, 201, 'an empty body is fine');
  t.equal(retry.status, 200);
  t.equal(retry.body.position, first.body.position);
  const other = await call('POST', `/api/auth/session/${sessionId}/complete`, { token: controller, body: { credentialRef: 'another-row' } });
  t.equal(other.status, 409);
  t.match(other.body, { type: /\/conflict$/ });
  t.equal((await call('GET', `/v1/sessions/${sessionId}/events`, { token: controller })).body.events.length, 2);
});

t.test('the legacy GET after a VM destroyed first: failed with the legacy error_message', async (t) => {
  const { sessionId, vmId } = await start();
  const destroyed = await call('POST', `/v1/vms/${vmId}/destroyed`, { token: controller, body: { reason: 'crash' } });
  const read = await call('GET', `/api/auth/session/${sessionId}?after=${destroyed.body.position}`, { token: controller });
  t.match(read.body, { status: 'failed', error_message: 'VM destroyed before OAuth completion', completed_at: null });
});

t.test('bad input on the legacy routes gets the same problems as v1, and changes nothing', async (t) => {
  const { sessionId } = await start();
  const before = await ledger.store.lastPosition();
  const complete = `/api/auth/session/${sessionId}/complete`;
  const cases: Array<[string, { path?: string; method?: string; token?: string; body?: unknown; headers?: Record<string, string> }, number, string]> = [
    ['malformed JSON', { body: '{"credentialRef":' }, 400, 'validation'],
    ['a token in the body', { body: { credentialRef: 'c', accessToken: 'ya29.x' } }, 400, 'validation'],
    ['no token', { token: '' }, 401, 'unauthenticated'],
    ['a frontend completing', { token: ledger.frontend('user-1') }, 403, 'forbidden'],
    ['an agent of another session', { token: ledger.agent('elsewhere') }, 403, 'forbidden'],
    ['an unknown session', { path: '/api/auth/session/no-such-session/complete' }, 404, 'not-found'],
    ['an invalid session id', { path: '/api/auth/session/bad%20id/complete' }, 400, 'validation'],
    ['an oversized body', { body: { credentialRef: 'x'.repeat(5000) } }, 413, 'payload-too-large'],
    ['reading an unknown session', { method: 'GET', path: '/api/auth/session/no-such-session' }, 404, 'not-found'],
    ["reading another user's session", { method: 'GET', path: `/api/auth/session/${sessionId}`, token: ledger.frontend('user-2') }, 403, 'forbidden'],
  ];
  for (const [what, request, status, kind] of cases) {
    const response = await call(request.method ?? 'POST', request.path ?? complete, {
      token: request.token === undefined ? controller : request.token || undefined,
      body: request.body,
      headers: request.headers,
    });
    t.equal(response.status, status, what);
    t.match(response.type, 'application/problem+json', what);
    t.match(response.body, { type: new RegExp(`/${kind}$`), status }, what);
  }
  t.equal(await ledger.store.lastPosition(), before, 'nothing was appended');
});
