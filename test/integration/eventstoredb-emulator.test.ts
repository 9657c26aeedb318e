import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import grpc from '@grpc/grpc-js';
import { binaryEvent, EventStoreDBClient, jsonEvent, START, streamNameFilter } from '@eventstore/db-client';
import { ledgerEventCodec, UndecodableEventError } from '../../src/events/index.js';
import { openEventStoreDbStore } from '../../src/store/eventstoredb/index.js';
import type { SubscriptionMessage } from '../../src/store/port.js';
import { startEsdbEmulator, type AppendInterception } from '../emulator/esdb-emulator.js';
import { newCredentialsStored, newSessionStarted, newVmDestroyed } from '../support/events.js';
import { settled } from '../support/settled.js';
import { within } from '../support/waits.js';

const emulator = await startEsdbEmulator();
t.teardown(() => emulator.stop());

t.test('the emulator sends filtered subscriptions a checkpoint every window × multiplier events considered', async (t) => {
  const client = EventStoreDBClient.connectionString(emulator.connectionString);
  t.teardown(() => client.dispose());
  const category = `chk${randomUUID().replaceAll('-', '')}`;
  for (let i = 0; i < 6; i++) {
    await client.appendToStream(`other${category}-${i}`, jsonEvent({ type: 'Noise', data: { i } }));
  }
  const checkpoints: bigint[] = [];
  const events: unknown[] = [];
  const subscription = client.subscribeToAll({
    fromPosition: START,
    filter: {
      ...streamNameFilter({ prefixes: [`${category}-`] }),
      maxSearchWindow: 2,
      checkpointInterval: 1,
      checkpointReached: (_subscription, position) => void checkpoints.push(position.commit),
    },
  });
  await new Promise<void>((resolve, reject) => {
    subscription.on('data', (event) => events.push(event));
    subscription.on('error', reject);
    subscription.on('caughtUp', () => resolve());
  });
  await subscription.unsubscribe();
  t.same(events, [], 'no event of the filtered prefix');
  t.ok(checkpoints.length >= 3, `a checkpoint every 2 events considered (${checkpoints.length})`);
  t.ok(checkpoints.every((position, i) => position > 0n && (i === 0 || position > checkpoints[i - 1]!)), 'positions above 0, increasing');
});

t.test('a subscriber that stops reading holds the emulator back; reading again, it gets every event once', async (t) => {
  const client = EventStoreDBClient.connectionString(emulator.connectionString);
  t.teardown(() => client.dispose());
  const category = `held${randomUUID().replaceAll('-', '')}`;
  const total = 2000;
  for (let stream = 0; stream < total / 250; stream++) {
    const events = Array.from({ length: 250 }, (_, i) => jsonEvent({ type: 'Noise', data: { i, padding: 'x'.repeat(200) } }));
    await client.appendToStream(`${category}-${stream}`, events);
  }
  const first = emulator.subscriptionCalls.length;
  const subscription = client.subscribeToAll({ fromPosition: START, filter: streamNameFilter({ prefixes: [`${category}-`] }) });
  const call = () => emulator.subscriptionCalls[first];
  // No 'data' listener: nothing reads past the client's buffers and HTTP/2's window.
  const held = await settled(() => call()?.eventsSent ?? 0);
  t.ok(held !== undefined && held > 0 && held < total / 2, `the emulator stopped after ${held} of ${total} events`);

  let received = 0;
  await new Promise<void>((resolve, reject) => {
    subscription.on('error', reject);
    subscription.on('data', () => {
      if (++received === total) resolve();
    });
  });
  t.equal(call()!.eventsSent, total, 'every event sent once the subscriber read again');
  t.equal(await settled(() => received), total, 'and none twice');
  await subscription.unsubscribe();
  t.equal(await settled(() => call()!.open), false, 'the call is over once the subscriber unsubscribed');
});

t.test('a subscription resumes after a dropped connection, nothing skipped or doubled', async (t) => {
  const store = openEventStoreDbStore({ connectionString: emulator.connectionString, resubscribeDelayMs: 50 });
  t.teardown(() => store.close());
  const category = `drop${randomUUID().replaceAll('-', '')}`;
  const id = randomUUID();
  const stream = `${category}-${id}`;
  const before = [newSessionStarted(id), newCredentialsStored(id)];
  await store.append(stream, before);
  const subscription = store.subscribe({ category });
  const messages: SubscriptionMessage[] = [];
  const after = newVmDestroyed(id);
  const timer = setTimeout(() => void subscription.close(), 10_000);
  for await (const message of subscription) {
    messages.push(message);
    if (message.kind === 'caughtUp') {
      await emulator.dropConnections();
      const writer = openEventStoreDbStore({ connectionString: emulator.connectionString });
      await writer.append(stream, [after]);
      await writer.close();
    }
    if (message.kind === 'event' && message.event.eventId === after.eventId) break;
  }
  clearTimeout(timer);
  t.same(messages.map((m) => m.kind), ['event', 'event', 'caughtUp', 'event'], 'caught up once');
  t.same(
    messages.flatMap((m) => (m.kind === 'event' ? [m.event.eventId] : [])),
    [...before, after].map((e) => e.eventId),
    'every event once, in order',
  );
});

t.test('the other-stream check: known to an adapter that appended or read the id, bounded by idMemory', async (t) => {
  const [writer, reader, forgetful] = [
    openEventStoreDbStore({ connectionString: emulator.connectionString }),
    openEventStoreDbStore({ connectionString: emulator.connectionString }),
    openEventStoreDbStore({ connectionString: emulator.connectionString, idMemory: 1 }),
  ];
  t.teardown(() => Promise.all([writer.close(), reader.close(), forgetful.close()]));
  const [a, b] = [randomUUID(), randomUUID()];
  const started = newSessionStarted(a);
  await writer.append(`authSession-${a}`, [started]);
  await reader.readStream(`authSession-${a}`);
  const reuse = { ...started, data: { ...started.data, sessionId: b } };
  await t.rejects(reader.append(`authSession-${b}`, [reuse]), { name: 'EventIdConflictError', reason: 'otherStream' }, 'an adapter that read the id');
  await forgetful.readStream(`authSession-${a}`);
  await t.rejects(forgetful.append(`authSession-${b}`, [reuse]), { name: 'EventIdConflictError', reason: 'otherStream' }, 'within idMemory, the last id read is known');
  await forgetful.append(`authSession-${randomUUID()}`, [newSessionStarted(randomUUID())]);
  const written = await forgetful.append(`authSession-${b}`, [reuse]);
  t.equal(written.alreadyRecorded, false, 'past idMemory ids the adapter forgot are not checked (the documented limit)');
});

t.test('lastPosition leaves no read open: close() still resolves after it', async (t) => {
  // A log of its own: a page of a few events arrives whole, end of call included, at once.
  const small = await startEsdbEmulator();
  t.teardown(() => small.stop());
  const store = openEventStoreDbStore({ connectionString: small.connectionString });
  const sessionId = randomUUID();
  // More than one event, so the newest is found before the page is read to its end.
  const last = await store.append(`authSession-${sessionId}`, [
    newSessionStarted(sessionId),
    newCredentialsStored(sessionId),
    newVmDestroyed(sessionId),
  ]);
  t.equal(await store.lastPosition(), last.position);
  t.equal(await store.lastPosition({ category: 'authSession' }), last.position);
  // Another round trip, so the pages above have arrived in full before closing.
  await store.readStream(`authSession-${sessionId}`);
  // A page left part-way stays in the client, whose dispose() waits on it for ever.
  await t.resolves(within(store.close(), 'the store is closed'), 'closed');
});

t.test('a read that meets an undecodable event fails, and leaves no read open behind it', async (t) => {
  const own = await startEsdbEmulator();
  t.teardown(() => own.stop());
  const store = openEventStoreDbStore({ connectionString: own.connectionString });
  const sessionId = randomUUID();
  await store.append(`authSession-${sessionId}`, [newSessionStarted(sessionId)]);
  // Written past the ledger's codec, as a foreign writer could: a type the ledger does not know.
  const raw = EventStoreDBClient.connectionString(own.connectionString);
  await raw.appendToStream(`authSession-${sessionId}`, [jsonEvent({ type: 'SessionTeleported', data: {} }), jsonEvent({ type: 'SessionTeleported', data: {} })]);
  await raw.dispose();

  await t.rejects(store.readStream(`authSession-${sessionId}`), UndecodableEventError, 'the stream read says so');
  await t.rejects(store.readAll({ category: 'authSession' }), UndecodableEventError, 'the read of $all says so');
  // A read left part-way by the error would keep close() waiting for ever.
  await t.resolves(within(store.close(), 'the store is closed'), 'closed');
});

// ---- appends the server does not simply take ----------------------------------------------

/** Intercepts the appends to one stream only, for this test; every other stream's go through. */
function interceptStream(t: Test, streamName: string, intercept: () => AppendInterception | null): { calls: () => number } {
  let calls = 0;
  emulator.interceptAppends((name) => {
    if (name !== streamName) return null;
    calls++;
    return intercept();
  });
  t.teardown(() => emulator.interceptAppends(null));
  return { calls: () => calls };
}

/** Another writer's fact, as the emulator writes it ahead of an append. */
const anotherWriters = (sessionId: string): AppendInterception => {
  const { eventId, type, data, metadata } = ledgerEventCodec.prepare(newVmDestroyed(sessionId));
  return { kind: 'anotherWriterFirst', event: { id: eventId, type, data, metadata } };
};

t.test('another writer landing between the read and the write: the append is decided again, and lands after it', async (t) => {
  const store = openEventStoreDbStore({ connectionString: emulator.connectionString });
  t.teardown(() => store.close());
  const sessionId = randomUUID();
  const stream = `authSession-${sessionId}`;
  await store.append(stream, [newSessionStarted(sessionId)]);
  let once = true;
  const { calls } = interceptStream(t, stream, () => (once ? ((once = false), anotherWriters(sessionId)) : null));
  t.match(await store.append(stream, [newCredentialsStored(sessionId)]), { revision: 2n, alreadyRecorded: false });
  t.same((await store.readStream(stream)).map((event) => event.type), ['SessionStarted', 'VmDestroyed', 'CredentialsStored']);
  t.equal(calls(), 2, 'two rounds: the one overtaken, and the one that landed');

  once = true;
  await t.rejects(store.append(stream, [newCredentialsStored(sessionId)], { expectedRevision: 2n }), { name: 'WrongExpectedRevisionError', current: 3n }, 'an exact expected revision overtaken is refused, not written past');
});

t.test('a stream that keeps moving: the append gives up after 20 rounds, and writes nothing', async (t) => {
  const store = openEventStoreDbStore({ connectionString: emulator.connectionString });
  t.teardown(() => store.close());
  const sessionId = randomUUID();
  const stream = `authSession-${sessionId}`;
  await store.append(stream, [newSessionStarted(sessionId)]);
  // Bounded, so an adapter that never gave up would land at the 31st round instead of hanging.
  const { calls } = interceptStream(t, stream, () => (calls() <= 30 ? anotherWriters(sessionId) : null));
  await t.rejects(store.append(stream, [newCredentialsStored(sessionId)]), new Error(`append to ${stream}: the stream kept moving; gave up after 20 attempts`));
  t.equal(calls(), 20);
  const types = (await store.readStream(stream)).map((event) => event.type);
  t.same([types.length, types.includes('CredentialsStored')], [21, false], "the start and the other writer's 20 facts only");
});

t.test("a server's refusal is the append's error: not taken for a move, not tried again", async (t) => {
  const store = openEventStoreDbStore({ connectionString: emulator.connectionString });
  t.teardown(() => store.close());
  const sessionId = randomUUID();
  const stream = `authSession-${sessionId}`;
  const { calls } = interceptStream(t, stream, () => ({ kind: 'refuse', code: grpc.status.PERMISSION_DENIED, details: 'access denied' }));
  await t.rejects(store.append(stream, [newSessionStarted(sessionId)]), { code: grpc.status.PERMISSION_DENIED, message: /PERMISSION_DENIED: access denied/ });
  t.equal(calls(), 1);
});

t.test('an append answered without a position is an error, not a result', async (t) => {
  const store = openEventStoreDbStore({ connectionString: emulator.connectionString });
  t.teardown(() => store.close());
  const sessionId = randomUUID();
  const stream = `authSession-${sessionId}`;
  interceptStream(t, stream, () => ({ kind: 'answerWithoutPosition' }));
  await t.rejects(store.append(stream, [newSessionStarted(sessionId)]), new Error(`append to ${stream} answered without a position`));
});

t.test('an event another writer stored as bytes (its JSON, not marked as JSON) reads as the same event', async (t) => {
  const store = openEventStoreDbStore({ connectionString: emulator.connectionString });
  t.teardown(() => store.close());
  const sessionId = randomUUID();
  const stream = `authSession-${sessionId}`;
  const { eventId, type, data, metadata, dataJson } = ledgerEventCodec.prepare(newSessionStarted(sessionId));
  const raw = EventStoreDBClient.connectionString(emulator.connectionString);
  t.teardown(() => raw.dispose());
  const bytes = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
  await raw.appendToStream(stream, [binaryEvent({ id: eventId, type, data: bytes(data), metadata: bytes(metadata) })]);
  const [stored] = await store.readStoredStream(stream);
  t.equal(stored!.dataJson, dataJson, 'its data as the text it was written as');
  t.match(await store.readStream(stream), [{ eventId, type, data, metadata }]);
});
