import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { openEventStoreDbStore } from '../../src/store/eventstoredb/index.js';
import type { Subscription, SubscriptionMessage } from '../../src/store/port.js';
import { startEsdbEmulator } from '../emulator/esdb-emulator.js';
import { newVmDestroyed } from '../support/events.js';
import { settled } from '../support/settled.js';

// A subscription whose consumer does not keep up must hold the server back (through
// HTTP/2 flow control), not hold `$all` in memory; and once the consumer reads again,
// nothing may be lost, doubled or reordered. All over real gRPC, against the emulator,
// which paces its writes by the call's flow control as a server does.

const emulator = await startEsdbEmulator();
t.teardown(() => emulator.stop());

const BUFFER = 50;
const STREAMS = 300;
const EVENTS_PER_STREAM = 10;
const TOTAL = STREAMS * EVENTS_PER_STREAM;

const category = `held${randomUUID().replaceAll('-', '')}`;
/** Every event of the category, in the order it was appended: the order of `$all`. */
const appended: string[] = [];
{
  const writer = openEventStoreDbStore({ connectionString: emulator.connectionString });
  for (let stream = 0; stream < STREAMS; stream++) {
    const sessionId = randomUUID();
    const events = Array.from({ length: EVENTS_PER_STREAM }, () => newVmDestroyed(sessionId));
    await writer.append(`${category}-${sessionId}`, events);
    appended.push(...events.map((event) => event.eventId));
  }
  await writer.close();
}

/** Subscribes, then waits until the emulator stops sending to that call; nothing is read. */
async function heldSubscription(store: ReturnType<typeof openEventStoreDbStore>) {
  const index = emulator.subscriptionCalls.length;
  const subscription = store.subscribe({ category });
  const call = () => emulator.subscriptionCalls[index];
  const held = await settled(() => call()?.eventsSent ?? 0);
  return { subscription, call, held, index };
}

/**
 * Takes messages until `until` says stop, leaving the subscription open (a `for await`
 * left by `break` would close it); closes it past 15 s rather than hang.
 */
async function take(subscription: Subscription, until: (message: SubscriptionMessage) => boolean) {
  const messages: SubscriptionMessage[] = [];
  const iterator = subscription[Symbol.asyncIterator]();
  const timer = setTimeout(() => void subscription.close(), 15_000);
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    messages.push(next.value);
    if (until(next.value)) break;
  }
  clearTimeout(timer);
  return messages;
}

const idsOf = (messages: SubscriptionMessage[]) => messages.flatMap((m) => (m.kind === 'event' ? [m.event.eventId] : []));
const kindsOf = (messages: SubscriptionMessage[]) => messages.map((m) => (m.kind === 'event' ? 'event' : m.kind));

t.test('a consumer that does not read holds the server back; reading, it gets every event once, in order, then caughtUp', async (t) => {
  const store = openEventStoreDbStore({ connectionString: emulator.connectionString, subscriptionBuffer: BUFFER });
  t.teardown(() => store.close());
  const { subscription, call, held } = await heldSubscription(store);
  t.ok(held !== undefined && held >= BUFFER && held < TOTAL / 4, `the emulator stopped after ${held} of ${TOTAL} events`);

  const messages = await take(subscription, (message) => message.kind === 'caughtUp');
  t.same(kindsOf(messages), [...appended.map(() => 'event'), 'caughtUp'], 'every event, then caughtUp');
  t.same(idsOf(messages), appended, 'once each, in order');
  t.equal(call()!.eventsSent, TOTAL, 'the emulator went on once the consumer read');

  const sessionId = randomUUID();
  const late = newVmDestroyed(sessionId);
  const writer = openEventStoreDbStore({ connectionString: emulator.connectionString });
  await writer.append(`${category}-${sessionId}`, [late]);
  await writer.close();
  appended.push(late.eventId);
  const live = await take(subscription, () => true);
  t.same(idsOf(live), [late.eventId], 'live events follow');
  await subscription.close();
});

t.test('a connection dropped while paused: the resubscription resumes after the last event delivered', async (t) => {
  const store = openEventStoreDbStore({
    connectionString: emulator.connectionString,
    subscriptionBuffer: BUFFER,
    resubscribeDelayMs: 50,
  });
  t.teardown(() => store.close());
  const { subscription, held, index } = await heldSubscription(store);
  t.ok(held !== undefined && held < TOTAL / 4, `paused after ${held} of ${TOTAL} events`);
  await emulator.dropConnections();
  for (let poll = 0; poll < 250 && emulator.subscriptionCalls.length <= index + 1; poll++) await sleep(20);
  const resubscribed = await settled(() => emulator.subscriptionCalls[index + 1]?.eventsSent ?? TOTAL);
  t.ok(resubscribed !== undefined && resubscribed < TOTAL / 4, `the resubscription, with the queue still full, paused after ${resubscribed}`);

  const messages = await take(subscription, (message) => message.kind === 'caughtUp');
  t.same(kindsOf(messages), [...appended.map(() => 'event'), 'caughtUp'], 'every event, then caughtUp once');
  t.same(idsOf(messages), appended, 'none skipped or doubled across the resubscription');
  await subscription.close();
});

t.test('closing a paused subscription ends it, on both sides', async (t) => {
  const store = openEventStoreDbStore({ connectionString: emulator.connectionString, subscriptionBuffer: BUFFER });
  const { subscription, call, held } = await heldSubscription(store);
  t.ok(held !== undefined && held < TOTAL / 4, `paused after ${held} of ${TOTAL} events`);
  const iterator = subscription[Symbol.asyncIterator]();
  // Fewer than would take the queue down to half: reading stays paused.
  for (let i = 0; i < BUFFER / 5; i++) {
    const next = await iterator.next();
    t.equal(next.done ? undefined : next.value.kind, 'event', `event ${i + 1} read`);
  }

  await subscription.close();
  t.same(await iterator.next(), { done: true, value: undefined }, 'the consumer sees the end');
  t.equal(await settled(() => call()!.open), false, 'the emulator saw the call cancelled');
  await store.close();
  t.pass('the store closed');
});

t.test('subscriptionBuffer must be a positive safe integer', async (t) => {
  for (const subscriptionBuffer of [0, -1, 1.5, Number.NaN, 2 ** 53]) {
    t.throws(
      () => openEventStoreDbStore({ connectionString: emulator.connectionString, subscriptionBuffer }),
      RangeError,
      String(subscriptionBuffer),
    );
  }
});
