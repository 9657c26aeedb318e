/**
 * At least once across a restart: a message in flight when the ledger stops has not moved
 * its checkpoint, so the next start sends it again, with the same `webhook-id`, and then
 * goes on; what was delivered before the stop is not sent again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createLedger } from '../../src/application/create-ledger.js';
import { sessionStreamName } from '../../src/events/index.js';
import { parseSubscriptions } from '../../src/reactions/subscriptions.js';
import { newCredentialsStored, newSessionStarted } from '../support/events.js';
import { PROVIDERS } from '../support/ledger-server.js';
import { within } from '../support/waits.js';
import { startReceiver, type Answer } from '../support/webhook-receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-webhooks-restart-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('a message in flight at a stop is sent again after the start, with the same webhook-id', async (t) => {
  // Answers the first message, then holds the second until the ledger stops; answers all after.
  let answer: Answer = { status: 200 };
  const receiver = await startReceiver(() => answer);
  t.teardown(() => receiver.close());
  const subscriptions = parseSubscriptions(
    JSON.stringify([{ id: 'ops', url: receiver.url('/hooks'), secret: `whsec_${Buffer.alloc(32, 9).toString('base64')}`, timeoutMs: 60_000 }]),
    PROVIDERS,
    'inline',
  );
  const open = () => createLedger({ store: { kind: 'sqlite', path: join(dir, 'ledger.db'), synchronous: 'NORMAL' }, providers: PROVIDERS, webhooks: { subscriptions } });

  const first = await open();
  first.start();
  await first.store.append(sessionStreamName('one'), [newSessionStarted('one'), newCredentialsStored('one')]);
  await within(receiver.arrived('/hooks', 1), 'the first message is delivered');
  answer = 'never';
  await first.store.append(sessionStreamName('two'), [newSessionStarted('two'), newCredentialsStored('two')]);
  await within(receiver.arrived('/hooks', 2), 'the second message is in flight');
  await first.close();

  answer = { status: 204 };
  const second = await open();
  t.teardown(() => second.close());
  second.start();
  await within(receiver.arrived('/hooks', 3), 'the second message is sent again');
  const last = await second.store.lastPosition();
  await within(
    (async () => {
      while ((await second.webhooks.list())[0]!.checkpoint < last) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    'the checkpoint passes the log',
  );
  const ids = receiver.received.map((taken) => taken.headers['webhook-id']);
  t.equal(ids.length, 3, 'the delivered one is not sent again');
  t.not(ids[0], ids[1], 'two messages');
  t.equal(ids[2], ids[1], 'the one in flight, again, with its id');
  t.equal(receiver.received[2]!.body, receiver.received[1]!.body, 'and its body');
});
