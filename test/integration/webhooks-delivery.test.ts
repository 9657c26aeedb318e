/**
 * Webhook delivery against a real receiver on 127.0.0.1 that answers 500s and hangs at
 * random (each hang bounded), with the ledger served in-process on a real SQLite file:
 * every wanted change is delivered, signed so that `standardwebhooks` verifies it, in each
 * session's order, a redelivery with the same `webhook-id`; a message that never succeeds
 * lands in the dead letters and the consumer goes on; and a receiver that never answers
 * holds up neither the appends nor the other subscriptions.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { Webhook } from 'standardwebhooks';
import { SessionJson, StartedJson, WebhooksJson } from '../../src/contract/index.js';
import { parseSubscriptions } from '../../src/reactions/subscriptions.js';
import { PROVIDERS, startLedger } from '../support/ledger-server.js';
import { seededRandom } from '../support/seeded-random.js';
import { within } from '../support/waits.js';
import { startReceiver, type Received } from '../support/webhook-receiver.js';

const seed = Number(process.env.WEBHOOK_SEED ?? Date.now() % 1_000_000);
t.comment(`seed ${seed} (WEBHOOK_SEED replays it)`);
const random = seededRandom(seed);

const secret = (fill: number) => `whsec_${Buffer.alloc(32, fill).toString('base64')}`;
const SECRETS = { all: secret(1), dead: secret(2), stuck: secret(3) };
const MAX_ATTEMPTS = 12;

const receiver = await startReceiver(({ path }) => {
  if (path === '/stuck') return 'never';
  // Told to come back at once: a Retry-After the consumer honours (within the test's schedule).
  if (path === '/dead') return { status: 500, headers: { 'retry-after': '0' } };
  const roll = random.next();
  if (roll < 0.2) return { status: 500 };
  if (roll < 0.3) return { status: 503, headers: { 'retry-after': '0' } };
  // Longer than the subscription's timeout: the sender gives up, the receiver answers later.
  if (roll < 0.4) return { hangMs: random.int(150, 300) };
  return { status: random.pick([200, 202, 204]) };
});
t.teardown(() => receiver.close());

const subscriptions = parseSubscriptions(
  JSON.stringify([
    { id: 'all', url: receiver.url('/all'), secret: SECRETS.all, timeoutMs: 100 },
    { id: 'dead', url: receiver.url('/dead'), secret: SECRETS.dead, statuses: ['cancelled'], timeoutMs: 100 },
    { id: 'stuck', url: receiver.url('/stuck'), secret: SECRETS.stuck, timeoutMs: 60_000 },
  ]),
  PROVIDERS,
  'inline',
);
const ledger = await startLedger({
  webhooks: { subscriptions, schedule: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 2, maxDelayMs: 20 }, random: random.next },
});
t.teardown(() => ledger.close());
const { controller } = ledger;

/** What each session is made to go through, and the statuses it goes through. */
const plans = [
  { facts: ['fail', 'complete'], statuses: ['failed', 'completed'] },
  { facts: ['complete', 'destroy'], statuses: ['completed'] },
  { facts: ['cancel', 'complete'], statuses: ['cancelled', 'completed'] },
  { facts: ['cancel'], statuses: ['cancelled'] },
] as const;

async function record(path: string, token: string, body: unknown) {
  const answer = await ledger.call('POST', path, { token, body });
  if (answer.status !== 201 && answer.status !== 200) throw new Error(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** Starts a session and records its plan's facts, each waiting for its answer. */
async function run(plan: (typeof plans)[number]) {
  const userId = `user-${randomUUID()}`;
  const vmId = `vm-${randomUUID()}`;
  const started = StartedJson.parse((await ledger.call('POST', '/v1/sessions', { token: controller, body: { userId, provider: 'gemini', browserVmId: vmId } })).body);
  const events = `/v1/sessions/${started.sessionId}/events`;
  for (const fact of plan.facts) {
    const eventId = randomUUID();
    if (fact === 'fail') await record(events, started.agentToken, { type: 'SessionFailed', eventId, data: { reason: 'oauthError', errorMessage: 'denied' } });
    if (fact === 'complete') await record(events, controller, { type: 'CredentialsStored', eventId, data: { provider: 'gemini', credentialRef: `cred-${eventId}` } });
    if (fact === 'cancel') await record(events, ledger.frontend(userId), { type: 'SessionCancelled', eventId, data: { cancelledBy: userId } });
    if (fact === 'destroy') await record(`/v1/vms/${vmId}/destroyed`, controller, { reason: 'clean-up' });
  }
  return { sessionId: started.sessionId, statuses: plan.statuses };
}

async function webhooksNow() {
  return WebhooksJson.parse((await ledger.call('GET', '/v1/webhooks', { token: ledger.auditor })).body).webhooks;
}

const sessionOf = (taken: Received) => SessionJson.parse((JSON.parse(taken.body) as { data: unknown }).data);

// The first outcome reaches the stuck receiver, which never answers; every append after it
// must still be answered, and the other subscriptions go on.
const first = await run(plans[1]);
await within(receiver.arrived('/stuck', 1), 'the stuck receiver has its first message');
const sessions = [first];
for (let index = 0; index < 16; index++) sessions.push(await run(plans[index % plans.length]!));

t.test('appends complete while a receiver is stuck', async (t) => {
  t.equal(receiver.received.filter(({ path }) => path === '/stuck').length, 1, 'the stuck receiver still holds its first message');
  const stuck = (await webhooksNow()).find(({ id }) => id === 'stuck')!;
  t.ok(BigInt(stuck.lag) > 0n, 'its consumer has not passed it');
});

/** Until the other two have passed everything (a bounded wait: a hang fails the test). */
const othersCaughtUp = () =>
  within(
  (async () => {
    for (;;) {
      const list = await webhooksNow();
      if (list.filter(({ id }) => id !== 'stuck').every(({ lag }) => lag === '0')) return;
      await sleep(20);
    }
  })(),
  'every subscription but the stuck one has caught up',
  30_000,
);

// Inside the tests: tap ends a file once no test is pending, so nothing is awaited between them.
t.test('every wanted change delivered, in each session\'s order, signed', async (t) => {
  await othersCaughtUp();
  const all = receiver.received.filter(({ path }) => path === '/all');
  const verifier = new Webhook(SECRETS.all);
  for (const taken of all) t.doesNotThrow(() => verifier.verify(taken.body, taken.headers), `${taken.headers['webhook-id']} verifies`);
  t.throws(() => new Webhook(SECRETS.dead).verify(all[0]!.body, all[0]!.headers), "another subscription's secret does not verify it");

  // In the order they first arrived, each message once.
  const firstArrivals = new Map<string, Received>();
  for (const taken of all) if (!firstArrivals.has(taken.headers['webhook-id'])) firstArrivals.set(taken.headers['webhook-id'], taken);
  for (const { sessionId, statuses } of sessions) {
    const seen = [...firstArrivals.values()].map(sessionOf).filter((session) => session.sessionId === sessionId);
    t.same(seen.map(({ status }) => status), statuses, `${sessionId}: each change, in order`);
  }
  const positions = all.map((taken) => BigInt(sessionOf(taken).position));
  t.ok(positions.every((position, index) => index === 0 || position >= positions[index - 1]!), 'sent in position order, one message at a time');
  for (const taken of all) t.equal((JSON.parse(taken.body) as { type: unknown }).type, 'session.status_changed');
  const list = await webhooksNow();
  t.equal(list.find(({ id }) => id === 'all')!.deadLetters, 0, 'none dead-lettered');
});

t.test('a redelivery carries the same webhook-id and the same body', async (t) => {
  const all = receiver.received.filter(({ path }) => path === '/all');
  const byId = new Map<string, Received[]>();
  for (const taken of all) byId.set(taken.headers['webhook-id'], [...(byId.get(taken.headers['webhook-id']) ?? []), taken]);
  t.ok(all.length > byId.size, `some were sent more than once (${all.length} posts of ${byId.size} messages)`);
  for (const [id, posts] of byId) t.ok(posts.every(({ body }) => body === posts[0]!.body), `${id}: one body`);
});

t.test('a message that never succeeds lands in the dead letters, and the consumer goes on', async (t) => {
  const cancelled = sessions.filter(({ statuses }) => (statuses as readonly string[]).includes('cancelled')).length;
  const dead = receiver.received.filter(({ path }) => path === '/dead');
  t.equal(dead.length, cancelled * MAX_ATTEMPTS, 'each cancellation tried every attempt');
  const letters = ledger.ledger.readModelDb
    .prepare('select subscription_id, webhook_id, position, body, attempts, last_error from webhook_dead_letters order by seq')
    .all() as { subscription_id: string; webhook_id: string; position: bigint | number; body: string; attempts: bigint | number; last_error: string }[];
  t.equal(letters.length, cancelled);
  t.same(new Set(letters.map(({ webhook_id }) => webhook_id)), new Set(dead.map((taken) => taken.headers['webhook-id'])), 'the messages it was sent');
  for (const letter of letters) {
    t.equal(letter.subscription_id, 'dead');
    t.equal(Number(letter.attempts), MAX_ATTEMPTS);
    t.equal(letter.last_error, 'answered 500');
    t.equal(sessionOf({ body: letter.body } as Received).status, 'cancelled');
  }
  const listed = (await webhooksNow()).find(({ id }) => id === 'dead')!;
  t.equal(listed.deadLetters, cancelled);
  t.equal(listed.lag, '0', 'gone past them');
});
