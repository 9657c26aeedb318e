import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startLedger } from '../support/ledger-server.js';

t.test('request logs name the session and event type, and never carry tokens or body secrets', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.close());
  const started = await ledger.call('POST', '/v1/sessions', {
    token: ledger.controller,
    body: { userId: 'user-1', provider: 'gemini', browserVmId: 'vm-logs' },
  });
  const { sessionId, agentToken } = started.body as { sessionId: string; agentToken: string };
  const secretLooking = 'ya29.a0AfH6SMBx-super-secret-refresh-value';
  // A secret-looking value where data allows free text, and one where it does not.
  const accepted = await ledger.call('POST', `/v1/sessions/${sessionId}/events`, {
    token: agentToken,
    body: { type: 'SessionFailed', eventId: randomUUID(), data: { reason: 'oauthError', errorMessage: secretLooking } },
  });
  const refused = await ledger.call('POST', `/v1/sessions/${sessionId}/events`, {
    token: agentToken,
    body: { type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'gemini', credentialRef: 'c', accessToken: secretLooking } },
  });
  t.equal(accepted.status, 201);
  t.equal(refused.status, 400);

  const lines = ledger.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
  const requests = lines.filter((line) => line.msg === 'request');
  t.match(requests, [
    { method: 'POST', route: '/v1/sessions', statusCode: 201, sessionId, eventType: 'SessionStarted', role: 'controller' },
    { method: 'POST', route: '/v1/sessions/:id/events', statusCode: 201, sessionId, eventType: 'SessionFailed', role: 'agent' },
    { method: 'POST', route: '/v1/sessions/:id/events', statusCode: 400 },
  ], 'one structured line per request');
  const everything = ledger.logs.join('\n');
  for (const secret of [ledger.controller, agentToken, secretLooking, agentToken.split('.')[2]!]) {
    t.notOk(everything.includes(secret), `the logs do not contain ${secret.slice(0, 12)}…`);
  }
  t.notOk(/authorization/i.test(everything), 'no authorization header is logged');
});
