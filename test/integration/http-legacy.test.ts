import { randomUUID } from 'node:crypto';
import t from 'tap';
import { LegacySessionJson, SessionEventsJson, StartedJson, VmDestroyedJson } from '../../src/contract/index.js';
import { startLedger } from '../support/ledger-server.js';

const ledger = await startLedger();
t.teardown(() => ledger.close());
const { call, controller } = ledger;

async function start(vmId = `vm-${randomUUID()}`) {
  const started = await call('POST', '/v1/sessions', { token: controller, body: { userId: 'user-1', provider: 'codex', browserVmId: vmId } });
  return { ...StartedJson.parse(started.body), vmId };
}

const legacyColumns = ['session_id', 'user_id', 'provider', 'browser_vm_id', 'status', 'completed_at', 'error_message', 'created_at', 'updated_at', 'revision', 'position', 'anomalies'];

t.test('complete records CredentialsStored and answers the legacy row; the VM clean-up leaves it completed', async (t) => {
  const { sessionId, agentToken, vmId } = await start();
  const completed = await call('POST', `/api/auth/session/${sessionId}/complete`, { token: agentToken, body: { credentialRef: 'cred-row-9' } });
  t.equal(completed.status, 201);
  // Every key the answer has, not only those the schema knows: the body as JSON gave it.
  t.same(Object.keys(completed.body as Record<string, unknown>).sort(), [...legacyColumns].sort(), 'the snake_case columns of auth_sessions');
  t.match(completed.body, { session_id: sessionId, provider: 'codex', status: 'completed', error_message: null, completed_at: String, revision: '1' });
  const destroyed = await call('POST', `/v1/vms/${vmId}/destroyed`, { token: controller, body: { reason: 'clean-up' } });
  const read = await call('GET', `/api/auth/session/${sessionId}?after=${VmDestroyedJson.parse(destroyed.body).position}`, { token: ledger.frontend('user-1') });
  t.equal(read.status, 200);
  t.match(read.body, { session_id: sessionId, status: 'completed', browser_vm_id: vmId, revision: '2' });
  const events = await call('GET', `/v1/sessions/${sessionId}/events`, { token: controller });
  t.match(SessionEventsJson.parse(events.body).events[1], { type: 'CredentialsStored', data: { provider: 'codex', credentialRef: 'cred-row-9' }, metadata: { actor: { role: 'agent' } } });
});

t.test('a retried complete is recorded once; a second complete with another credential is a conflict', async (t) => {
  const { sessionId } = await start();
  const first = await call('POST', `/api/auth/session/${sessionId}/complete`, { token: controller });
  const retry = await call('POST', `/api/auth/session/${sessionId}/complete`, { token: controller });
  t.equal(first.status, 201, 'an empty body is fine');
  t.equal(retry.status, 200);
  t.equal(LegacySessionJson.parse(retry.body).position, LegacySessionJson.parse(first.body).position);
  const other = await call('POST', `/api/auth/session/${sessionId}/complete`, { token: controller, body: { credentialRef: 'another-row' } });
  t.equal(other.status, 409);
  t.match(other.body, { type: /\/conflict$/ });
  t.equal(SessionEventsJson.parse((await call('GET', `/v1/sessions/${sessionId}/events`, { token: controller })).body).events.length, 2);
});

t.test('the legacy GET after a VM destroyed first: failed with the legacy error_message', async (t) => {
  const { sessionId, vmId } = await start();
  const destroyed = await call('POST', `/v1/vms/${vmId}/destroyed`, { token: controller, body: { reason: 'crash' } });
  const read = await call('GET', `/api/auth/session/${sessionId}?after=${VmDestroyedJson.parse(destroyed.body).position}`, { token: controller });
  t.match(read.body, { status: 'failed', error_message: 'VM destroyed before OAuth completion', completed_at: null });
});
