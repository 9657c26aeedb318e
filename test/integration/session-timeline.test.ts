/**
 * A session's timeline, as the console shows it: every event in order with its metadata, the
 * status the fold gives after each, the anomalies each showed, and the hash chain checked.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { StartedJson, TimelineJson } from '../../src/contract/index.js';
import { startLedger } from '../support/ledger-server.js';
import { changeAByte } from '../support/tamper.js';

const ledger = await startLedger({ over: 'inject' });
t.teardown(() => ledger.close());
const { call, controller, auditor } = ledger;

/** A session failed by its VM's clean-up, then completed by a late CredentialsStored. */
async function lateSuccess() {
  const vmId = `vm-${randomUUID()}`;
  const started = StartedJson.parse(
    (await call('POST', '/v1/sessions', { token: controller, body: { userId: 'user-1', provider: 'codex', browserVmId: vmId, correlationId: 'login-42' } })).body,
  );
  await call('POST', `/v1/vms/${vmId}/destroyed`, { token: controller, body: { reason: 'cleanup' } });
  await call('POST', `/v1/sessions/${started.sessionId}/events`, {
    token: started.agentToken,
    body: { type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'codex', credentialRef: 'cred-1' } },
  });
  return started.sessionId;
}

t.test('each step: the event, its metadata, the status after it, the anomaly it showed; the chain holds', async (t) => {
  const sessionId = await lateSuccess();
  const answer = await call('GET', `/v1/sessions/${sessionId}/timeline`, { token: auditor });
  t.equal(answer.status, 200);
  const timeline = TimelineJson.parse(answer.body);
  t.same(
    timeline.steps.map((step) => [step.event.type, step.status, step.anomalies]),
    [
      ['SessionStarted', 'pending', []],
      ['VmDestroyed', 'failed', []],
      ['CredentialsStored', 'completed', ['completedAfterFailure']],
    ],
  );
  t.match(timeline.steps[0]!.event.metadata, { actor: { role: 'controller', sub: 'vm-manager' }, correlationId: 'login-42' });
  t.ok(timeline.steps.every((step) => /^[0-9a-f]{64}$/.test(step.event.hash ?? '')), 'every event is chained');
  t.same(timeline.chain, { head: timeline.steps[2]!.event.hash, break: null });
});

t.test('an event edited behind the ledger: the chain breaks there', async (t) => {
  const sessionId = await lateSuccess();
  changeAByte(ledger.dbPath, sessionId, 1);
  const timeline = TimelineJson.parse((await call('GET', `/v1/sessions/${sessionId}/timeline`, { token: auditor })).body);
  t.same(timeline.chain.break, { revision: '1', reason: 'hash' });
});

t.test('read by whoever may read the session', async (t) => {
  const sessionId = await lateSuccess();
  t.equal((await call('GET', `/v1/sessions/${sessionId}/timeline`, { token: ledger.frontend('user-1') })).status, 200, 'its user');
  t.equal((await call('GET', `/v1/sessions/${sessionId}/timeline`, { token: ledger.frontend('user-2') })).status, 404, 'another user: not found');
  t.equal((await call('GET', `/v1/sessions/${sessionId}/timeline`, { token: ledger.agent('another') })).status, 404, 'an agent of another session: not found');
  t.equal((await call('GET', `/v1/sessions/${sessionId}/timeline`)).status, 401);
  t.equal((await call('GET', `/v1/sessions/${randomUUID()}/timeline`, { token: auditor })).status, 404);
});
