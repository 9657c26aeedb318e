import { randomUUID } from 'node:crypto';
import t from 'tap';
import { createLedgerClient } from '../../src/client/index.js';
import { startLedger } from '../support/ledger-server.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const ledger = await startLedger();
t.teardown(() => ledger.close());
const controller = createLedgerClient({ baseUrl: ledger.url, token: ledger.controller, retryDelayMs: 5 });

async function startSession(provider = 'claude-code') {
  const userId = `user-${randomUUID()}`;
  const started = await controller.startSession({ userId, provider, browserVmId: `vm-${randomUUID()}` });
  return { ...started, userId, agent: controller.withToken(started.agentToken) };
}

t.test("the master controller's routes: complete records the credential, the GET answers the legacy row", async (t) => {
  const session = await startSession();
  const completed = await session.agent.completeLegacySession(session.sessionId, { credentialRef: 'cred-row-7' });
  t.match(completed, {
    session_id: session.sessionId,
    user_id: session.userId,
    provider: 'claude-code',
    browser_vm_id: String,
    status: 'completed',
    completed_at: String,
    error_message: null,
    revision: '1',
    alreadyRecorded: false,
  });
  const retried = await session.agent.completeLegacySession(session.sessionId, { credentialRef: 'cred-row-7' });
  t.match(retried, { status: 'completed', revision: '1', alreadyRecorded: true }, 'a repeated call is recognised');

  const frontend = controller.withToken(ledger.frontend(session.userId));
  const row = await frontend.getLegacySession(session.sessionId, { after: completed.position });
  t.same(Object.keys(row).sort(), ['anomalies', 'browser_vm_id', 'completed_at', 'created_at', 'error_message', 'position', 'provider', 'revision', 'session_id', 'status', 'updated_at', 'user_id']);
  t.match(row, { session_id: session.sessionId, status: 'completed', completed_at: completed.completed_at });
  t.match(await frontend.getLegacySession(session.sessionId, { asOf: session.position }), { status: 'pending', completed_at: null });

  const { events } = await controller.sessionEvents(session.sessionId);
  t.match(events.at(-1), { type: 'CredentialsStored', data: { provider: 'claude-code', credentialRef: 'cred-row-7' } });
});

t.test('a complete without a body records the session’s default reference', async (t) => {
  const session = await startSession('gemini');
  t.match(await session.agent.completeLegacySession(session.sessionId), { status: 'completed', provider: 'gemini' });
  const { events } = await controller.sessionEvents(session.sessionId);
  t.match(events.at(-1), { type: 'CredentialsStored', data: { credentialRef: `legacy:${session.sessionId}` } });
});

t.test('the answer to a legacy complete is lost: the retry is recognised and the credential recorded once', async (t) => {
  const session = await startSession();
  const proxy = await startTcpProxy(ledger.url);
  t.teardown(() => proxy.close());
  const agent = createLedgerClient({ baseUrl: proxy.url, token: session.agentToken, retryDelayMs: 5 });
  const dropped = proxy.dropAnswerOnce(/^POST \/api\/auth\/session\/[^/]+\/complete$/);
  const completed = await agent.completeLegacySession(session.sessionId, { credentialRef: 'cred-row-9' });
  await dropped;
  t.match(completed, { status: 'completed', alreadyRecorded: true });
  const { events } = await controller.sessionEvents(session.sessionId);
  t.equal(events.filter((event) => event.type === 'CredentialsStored').length, 1);
});

t.test('the legacy routes answer the same typed problems as v1', async (t) => {
  const session = await startSession();
  await t.rejects(controller.getLegacySession('no-such-session'), { name: 'LedgerProblemError', status: 404, kind: 'not-found' });
  await t.rejects(controller.completeLegacySession('no-such-session'), { name: 'LedgerProblemError', status: 404, kind: 'not-found' });
  const other = await startSession();
  // Another session is, to an agent, no session at all.
  await t.rejects(other.agent.completeLegacySession(session.sessionId), { name: 'LedgerProblemError', status: 404, kind: 'not-found' });
  await t.rejects(controller.withToken(ledger.frontend(session.userId)).completeLegacySession(session.sessionId), { name: 'LedgerProblemError', status: 403, kind: 'forbidden' });
  await session.agent.completeLegacySession(session.sessionId, { credentialRef: 'first' });
  await t.rejects(session.agent.completeLegacySession(session.sessionId, { credentialRef: 'second' }), { name: 'LedgerProblemError', status: 409, kind: 'conflict' });
});
