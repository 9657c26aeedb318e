import t from 'tap';
import { Webhook } from 'standardwebhooks';
import type { SessionJson } from '../../src/contract/index.js';
import { buildMessage, webhookIdOf } from '../../src/reactions/message.js';

const session: SessionJson = {
  sessionId: 'ses_1',
  userId: 'user-1',
  provider: 'gemini',
  browserVmId: 'vm-1',
  status: 'completed',
  completedAt: '2026-01-01T00:00:02.000Z',
  errorMessage: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:02.000Z',
  revision: '1',
  position: '42',
  anomalies: [],
};

t.test('the body: Standard Webhooks shape, with the session as the API answers it', async (t) => {
  const message = buildMessage('ops', 'event-1', '2026-01-01T00:00:02.000Z', session);
  t.same(JSON.parse(message.body), { type: 'session.status_changed', timestamp: '2026-01-01T00:00:02.000Z', data: session });
});

t.test('webhook-id: stable per subscription and event, distinct otherwise', async (t) => {
  const id = webhookIdOf('ops', 'event-1');
  t.equal(webhookIdOf('ops', 'event-1'), id, 'a redelivery carries the same');
  t.not(webhookIdOf('ops', 'event-2'), id, 'another event');
  t.not(webhookIdOf('audit', 'event-1'), id, 'another subscription');
  t.not(webhookIdOf('ops\0e', 'vent-1'), webhookIdOf('ops', 'e\0vent-1'), 'the two parts cannot run into each other');
  t.match(id, /^msg_[A-Za-z0-9_-]{32}$/);
  t.equal(buildMessage('ops', 'event-1', session.updatedAt!, session).id, id);
});

t.test('a body signed with its id verifies with the standardwebhooks Webhook', async (t) => {
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  const webhook = new Webhook(secret);
  const message = buildMessage('ops', 'event-1', session.updatedAt!, session);
  const now = new Date();
  const headers = { 'webhook-id': message.id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': webhook.sign(message.id, now, message.body) };
  t.same(webhook.verify(message.body, headers), JSON.parse(message.body));
  t.throws(() => webhook.verify(message.body.replace('completed', 'failed'), headers), 'a changed body does not');
});
