import { createHash, randomUUID } from 'node:crypto';
import t from 'tap';
import { InvalidEventError, UnknownEventTypeError, type NewEvent, type StoredEvent } from '../../src/events/index.js';
import {
  EventIdConflictError,
  InvalidStoreRequestError,
  StoreClosedError,
  WrongExpectedRevisionError,
} from '../../src/store/errors.js';
import type { EventStore, Subscription, SubscriptionMessage } from '../../src/store/port.js';
import {
  newCredentialsStored,
  newSessionCancelled,
  newSessionFailed,
  newSessionStarted,
  newVmDestroyed,
} from '../support/events.js';

/**
 * The event store port's rules, as one suite that every adapter runs unchanged.
 *
 * `open()` connects to the adapter's backing store; each call is another connection to
 * the same one (races use several). Tests share the backing store, so each writes to
 * streams and categories of its own and reads `$all` from a position it took itself:
 * the suite can run against a real server holding other data.
 */
export interface StoreUnderTest {
  name: string;
  open(): Promise<EventStore>;
  /**
   * Writes events to a stream as a ledger did before the hash chain existed: as the codec
   * prepares them, with no hash. The stream must be new.
   */
  appendBeforeTheChain(streamName: string, events: readonly NewEvent[]): Promise<void>;
}

/** The chain's formula as the README gives it to auditors, written out here independently of `hash-chain.ts`. */
const auditorsHash = (previous: string, event: StoredEvent) =>
  createHash('sha256')
    .update([previous, event.streamName, String(event.revision), event.eventId, event.type, event.dataJson, event.metadataJson].join('\n'))
    .digest('hex');

/** Each event's hash, recomputed from the genesis as an auditor would. */
const recomputed = (stream: readonly StoredEvent[]) => {
  let previous = '0'.repeat(64);
  return stream.map((event) => (previous = auditorsHash(previous, event)));
};

const uniqueSession = () => randomUUID();
const streamOf = (sessionId: string) => `authSession-${sessionId}`;
/** A category nobody else writes to, for readAll and subscription tests. */
const uniqueCategory = () => `conformance${randomUUID().replaceAll('-', '')}`;

/** Takes messages until `until` says stop; fails past `timeoutMs` rather than hang. */
async function collect(
  subscription: Subscription,
  until: (messages: SubscriptionMessage[]) => boolean,
  timeoutMs = 5000,
): Promise<SubscriptionMessage[]> {
  const messages: SubscriptionMessage[] = [];
  const timer = setTimeout(() => void subscription.close(), timeoutMs);
  try {
    for await (const message of subscription) {
      messages.push(message);
      if (until(messages)) break;
    }
  } finally {
    clearTimeout(timer);
  }
  if (!until(messages)) throw new Error(`subscription ended after ${messages.length} messages without the expected ones`);
  return messages;
}

/** What a promise was rejected with; `undefined` when it was not. */
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

const eventsOf = (messages: SubscriptionMessage[]) =>
  messages.flatMap((message) => (message.kind === 'event' ? [message.event] : []));

export function eventStoreConformance(subject: StoreUnderTest): void {
  t.test(`event store conformance: ${subject.name}`, async (t) => {
    const store = await subject.open();
    t.teardown(() => store.close());

    /** The position of the newest event now; a starting point no other test's events precede. */
    const here = async () => (await store.append(streamOf(uniqueSession()), [newSessionStarted(uniqueSession())])).position;

    t.test('expected revision no_stream', async (t) => {
      const id = uniqueSession();
      const first = await store.append(streamOf(id), [newSessionStarted(id)], { expectedRevision: 'no_stream' });
      t.equal(first.revision, 0n, 'the first event of a stream is revision 0');
      t.ok(first.position > 0n, 'positions start above 0');
      t.equal(first.alreadyRecorded, false);
      const error = await rejection(store
        .append(streamOf(id), [newCredentialsStored(id)], { expectedRevision: 'no_stream' })
        );
      t.type(error, WrongExpectedRevisionError);
      t.equal((error as WrongExpectedRevisionError).current, 0n, 'the conflict answers with the current revision');
      t.equal((await store.readStream(streamOf(id))).length, 1, 'nothing was written');
    });

    t.test('expected revision stream_exists', async (t) => {
      const id = uniqueSession();
      const error = await rejection(store
        .append(streamOf(id), [newSessionStarted(id)], { expectedRevision: 'stream_exists' })
        );
      t.type(error, WrongExpectedRevisionError);
      t.equal((error as WrongExpectedRevisionError).current, null, 'a missing stream has no current revision');
      t.same(await store.readStream(streamOf(id)), [], 'nothing was written');
      await store.append(streamOf(id), [newSessionStarted(id)]);
      const second = await store.append(streamOf(id), [newCredentialsStored(id)], { expectedRevision: 'stream_exists' });
      t.equal(second.revision, 1n);
    });

    t.test('expected revision exact', async (t) => {
      const id = uniqueSession();
      const onMissing = await rejection(store
        .append(streamOf(id), [newSessionStarted(id)], { expectedRevision: 0n })
        );
      t.type(onMissing, WrongExpectedRevisionError);
      t.equal((onMissing as WrongExpectedRevisionError).current, null);
      await store.append(streamOf(id), [newSessionStarted(id)], { expectedRevision: 'no_stream' });
      const second = await store.append(streamOf(id), [newCredentialsStored(id)], { expectedRevision: 0n });
      t.equal(second.revision, 1n);
      for (const stale of [0n, 2n, 7n]) {
        const error = await rejection(store
          .append(streamOf(id), [newVmDestroyed(id)], { expectedRevision: stale })
          );
        t.type(error, WrongExpectedRevisionError, `expected ${stale} against current 1 is refused`);
        t.equal((error as WrongExpectedRevisionError).current, 1n);
        t.equal((error as WrongExpectedRevisionError).expected, stale);
      }
      t.equal((await store.readStream(streamOf(id))).length, 2, 'no refused append wrote anything');
    });

    t.test('expected revision any', async (t) => {
      const id = uniqueSession();
      const first = await store.append(streamOf(id), [newSessionStarted(id)], { expectedRevision: 'any' });
      const second = await store.append(streamOf(id), [newCredentialsStored(id)]);
      t.equal(first.revision, 0n);
      t.equal(second.revision, 1n, 'any is the default');
      t.ok(second.position > first.position);
    });

    t.test('a multi-event append is one ordered, atomic write', async (t) => {
      const id = uniqueSession();
      const events = [newSessionStarted(id), newCredentialsStored(id), newVmDestroyed(id)];
      const result = await store.append(streamOf(id), events, { expectedRevision: 'no_stream' });
      const read = await store.readStream(streamOf(id));
      t.same(read.map((e) => e.eventId), events.map((e) => e.eventId), 'in the order given');
      t.same(read.map((e) => e.revision), [0n, 1n, 2n]);
      t.ok(read[0]!.position < read[1]!.position && read[1]!.position < read[2]!.position, 'positions increase');
      t.equal(result.revision, 2n, 'the result names the last event');
      t.equal(result.position, read[2]!.position);
    });

    t.test('events read back as written, with metadata and schema version', async (t) => {
      const id = uniqueSession();
      const started = newSessionStarted(id);
      const { position } = await store.append(streamOf(id), [{ ...started, metadata: { ...started.metadata, correlationId: 'corr-1', causationId: 'cause-1' } }]);
      const [read] = await store.readStream(streamOf(id));
      t.match(read, {
        type: 'SessionStarted',
        eventId: started.eventId,
        streamName: streamOf(id),
        revision: 0n,
        position,
        metadata: { ...started.metadata, correlationId: 'corr-1', causationId: 'cause-1', schemaVersion: 1 },
      });
      t.same(read!.data, started.data);
    });

    t.test('a retried single-event append is recorded once', async (t) => {
      const id = uniqueSession();
      const started = newSessionStarted(id);
      const original = await store.append(streamOf(id), [started], { expectedRevision: 'no_stream' });
      await store.append(streamOf(id), [newCredentialsStored(id)]);
      const later = { ...started, metadata: { ...started.metadata, recordedAt: '2031-01-01T00:00:00.000Z' } };
      for (const expectedRevision of ['no_stream', 'any', 'stream_exists', 0n, 5n] as const) {
        const retry = await store.append(streamOf(id), [later], { expectedRevision });
        t.same(retry, { ...original, alreadyRecorded: true }, `retry with expected ${String(expectedRevision)} answers the original result`);
      }
      t.equal((await store.readStream(streamOf(id))).length, 2, 'nothing was written twice');
    });

    t.test('a retried multi-event append is recorded once', async (t) => {
      const id = uniqueSession();
      const batch = [newSessionStarted(id), newCredentialsStored(id)];
      const original = await store.append(streamOf(id), batch, { expectedRevision: 'no_stream' });
      await store.append(streamOf(id), [newVmDestroyed(id)]);
      const retry = await store.append(streamOf(id), batch, { expectedRevision: 'no_stream' });
      t.same(retry, { ...original, alreadyRecorded: true });
      t.same((await store.readStream(streamOf(id))).map((e) => e.type), ['SessionStarted', 'CredentialsStored', 'VmDestroyed']);
    });

    t.test('an event id reused with other content is a conflict', async (t) => {
      const id = uniqueSession();
      const stored = newCredentialsStored(id);
      await store.append(streamOf(id), [newSessionStarted(id), stored]);
      const otherData: NewEvent = { ...stored, data: { ...stored.data, credentialRef: 'another-row' } };
      const otherType: NewEvent = { ...newSessionFailed(id), eventId: stored.eventId };
      for (const reuse of [otherData, otherType]) {
        const error = await rejection(store.append(streamOf(id), [reuse]));
        t.type(error, EventIdConflictError);
        t.match(error, { eventId: stored.eventId, reason: 'otherContent' });
      }
      t.equal((await store.readStream(streamOf(id))).length, 2, 'nothing was written');
    });

    t.test('an event id reused in another stream is a conflict', async (t) => {
      const [a, b] = [uniqueSession(), uniqueSession()];
      const started = newSessionStarted(a);
      await store.append(streamOf(a), [started]);
      const error = await rejection(store.append(streamOf(b), [{ ...started, data: { ...started.data, sessionId: b } }]));
      t.type(error, EventIdConflictError);
      t.match(error, { eventId: started.eventId, reason: 'otherStream' });
      t.same(await store.readStream(streamOf(b)), [], 'nothing was written');
    });

    t.test('part of a recorded append, in any order, is a retry too', async (t) => {
      const id = uniqueSession();
      const [started, stored] = [newSessionStarted(id), newCredentialsStored(id)];
      const original = await store.append(streamOf(id), [started, stored]);
      const [first] = await store.readStream(streamOf(id));
      t.same(await store.append(streamOf(id), [started]), { revision: 0n, position: first!.position, hash: first!.hash, alreadyRecorded: true });
      t.same(await store.append(streamOf(id), [stored, started]), { ...original, alreadyRecorded: true }, 'answers the latest');
      t.equal((await store.readStream(streamOf(id))).length, 2, 'nothing was written');
    });

    t.test('an append reusing only some recorded ids is a conflict', async (t) => {
      const id = uniqueSession();
      const [started, stored] = [newSessionStarted(id), newCredentialsStored(id)];
      await store.append(streamOf(id), [started, stored]);
      for (const batch of [[started, newVmDestroyed(id)], [newVmDestroyed(id), stored]]) {
        const error = await rejection(store.append(streamOf(id), batch));
        t.type(error, EventIdConflictError);
        t.match(error, { reason: 'partialRetry' });
      }
      t.equal((await store.readStream(streamOf(id))).length, 2, 'nothing was written');
    });

    t.test('events failing their schema are refused and write nothing', async (t) => {
      const id = uniqueSession();
      const started = newSessionStarted(id);
      const after = await here();
      const bad: Array<[string, unknown, new (...args: never[]) => Error]> = [
        ['an unknown type', { ...started, type: 'SessionHijacked' }, UnknownEventTypeError],
        ['a token slipped into data', { ...started, data: { ...started.data, accessToken: 'ya29.secret' } }, InvalidEventError],
        ['a key beside data', { ...started, refreshToken: 'secret' }, InvalidEventError],
        ['a missing field', { ...started, data: { sessionId: id } }, InvalidEventError],
        ['a non-UUID event id', { ...started, eventId: 'not-a-uuid' }, InvalidEventError],
        ['metadata without an actor', { ...started, metadata: { recordedAt: started.metadata.recordedAt } }, InvalidEventError],
        ['a caller-chosen schema version', { ...started, metadata: { ...started.metadata, schemaVersion: 9 } }, InvalidEventError],
      ];
      for (const [what, event, kind] of bad) {
        const error = await rejection(store.append(streamOf(id), [event as NewEvent]));
        t.type(error, kind, what);
      }
      const error = await rejection(store.append(streamOf(id), [started, bad[1]![1] as NewEvent]));
      t.type(error, InvalidEventError, 'one bad event fails the whole append');
      t.same(await store.readStream(streamOf(id)), [], 'the stream was never written');
      t.same(await store.readAll({ after, category: 'authSession', maxCount: 10 }), [], 'nor anything else');
    });

    t.test('requests the port does not accept, each refused with what was wrong (a 400 detail over HTTP)', async (t) => {
      const id = uniqueSession();
      const started = newSessionStarted(id);
      const refused = (message: string) => ({ name: InvalidStoreRequestError.name, message });
      await t.rejects(store.append(streamOf(id), []), refused('an append needs at least one event'));
      await t.rejects(store.append(streamOf(id), [started, started]), refused('an append names the same event id twice'));
      await t.rejects(store.append('$all', [started]), refused('invalid stream name "$all"'), 'a system stream name');
      await t.rejects(store.append('', [started]), refused('invalid stream name ""'), 'an empty stream name');
      await t.rejects(store.append('authSession-a b', [started]), refused('invalid stream name "authSession-a b"'), 'a space in a name');
      const long = `authSession-${'x'.repeat(245)}`;
      await t.rejects(store.append(long, [started]), refused(`invalid stream name "${long}"`), 'a name longer than 256');
      await t.resolves(store.readStream(long.slice(0, 256)), 'one of 256 is a name');
      await t.rejects(store.append(42 as unknown as string, [started]), refused('invalid stream name 42'), 'a name that is not a string');
      await t.rejects(store.append(streamOf(id), [started], { expectedRevision: -1n }), refused('invalid expected revision -1'));
      await t.rejects(store.append(streamOf(id), [started], { expectedRevision: 0 as unknown as bigint }), refused('invalid expected revision 0'), 'a number, not a bigint');
      await t.rejects(store.readStream(streamOf(id), { maxCount: -1 }), refused('invalid max count -1'));
      await t.rejects(store.readAll({ maxCount: 1.5 }), refused('invalid max count 1.5'));
      t.same(await store.readStream(streamOf(id)), []);
    });

    t.test('reading one stream', async (t) => {
      const id = uniqueSession();
      const events = [newSessionStarted(id), newVmDestroyed(id), newSessionFailed(id), newCredentialsStored(id)];
      await store.append(streamOf(id), events);
      const ids = events.map((e) => e.eventId);
      const read = async (options: Parameters<EventStore['readStream']>[1]) =>
        (await store.readStream(streamOf(id), options)).map((e) => e.eventId);
      t.same(await read({}), ids, 'forwards from the start by default');
      t.same(await read({ fromRevision: 2n }), ids.slice(2), 'forwards from a revision, inclusive');
      t.same(await read({ maxCount: 2 }), ids.slice(0, 2), 'at most maxCount');
      t.same(await read({ direction: 'backwards' }), [...ids].reverse(), 'backwards from the end');
      t.same(await read({ direction: 'backwards', maxCount: 1 }), [ids[3]], 'the last event');
      t.same(await read({ direction: 'backwards', fromRevision: 1n }), [ids[1], ids[0]], 'backwards from a revision');
      t.same(await read({ fromRevision: 9n }), [], 'past the end');
      t.same(await store.readStream(streamOf(uniqueSession())), [], 'a missing stream reads as empty');
    });

    t.test('reading all: position order, pages, category filter', async (t) => {
      const after = await here();
      const [ours, theirs] = [uniqueCategory(), uniqueCategory()];
      const written: string[] = [];
      for (let i = 0; i < 3; i++) {
        const id = uniqueSession();
        const mine = [newSessionStarted(id), newCredentialsStored(id)];
        await store.append(`${ours}-${id}`, mine);
        await store.append(`${theirs}-${id}`, [newSessionStarted(id)]);
        written.push(...mine.map((e) => e.eventId));
      }
      const all = await store.readAll({ after, category: ours, maxCount: 100 });
      t.same(all.map((e) => e.eventId), written, 'only the category asked for, in append order');
      t.ok(all.every((e, i) => i === 0 || e.position > all[i - 1]!.position), 'positions strictly increase');
      const firstPage = await store.readAll({ after, category: ours, maxCount: 4 });
      const secondPage = await store.readAll({ after: firstPage.at(-1)!.position, category: ours, maxCount: 4 });
      t.same([...firstPage, ...secondPage].map((e) => e.eventId), written, 'pages follow on with after = the last position');
      const unfiltered = await store.readAll({ after, maxCount: 100 });
      t.ok(unfiltered.some((e) => e.streamName.startsWith(`${theirs}-`)), 'without a filter every category is read');
      t.ok(unfiltered.every((e) => e.position > after), 'after is exclusive');
    });

    t.test('stream names: ascending, each once, paged, of a category', async (t) => {
      const category = uniqueCategory();
      const names = ['c', 'a', 'e', 'b', 'd'].map((suffix) => `${category}-${suffix}`);
      for (const name of names) await store.append(name, [newSessionStarted(uniqueSession())]);
      await store.append(`${category}-b`, [newVmDestroyed(uniqueSession())]);
      await store.append(`${uniqueCategory()}-a`, [newSessionStarted(uniqueSession())]);
      const pages: string[][] = [];
      for (let after = `${category}-`; ; ) {
        const page = await store.readStreamNames({ category, after, maxCount: 2 });
        if (page.length === 0) break;
        pages.push(page);
        after = page.at(-1)!;
      }
      t.same(pages, [[`${category}-a`, `${category}-b`], [`${category}-c`, `${category}-d`], [`${category}-e`]], 'in order, each once, two a page');
      t.same(await store.readStreamNames({ category, after: `${category}-d` }), [`${category}-e`], 'after is exclusive');
      t.same(await store.readStreamNames({ category, maxCount: 0 }), []);
      const everything = await store.readStreamNames({ after: `${category}-`, maxCount: 3 });
      t.same(everything, [`${category}-a`, `${category}-b`, `${category}-c`], 'without a category, every stream, in the same order');
    });

    t.test('the last position, of the store and of a category', async (t) => {
      const category = uniqueCategory();
      t.equal(await store.lastPosition({ category }), 0n, '0 for a category with no events');
      const id = uniqueSession();
      const { position } = await store.append(`${category}-${id}`, [newSessionStarted(id), newCredentialsStored(id)]);
      t.equal(await store.lastPosition({ category }), position);
      const newest = await here();
      t.equal(await store.lastPosition(), newest, 'without a category, the newest event of all');
      t.equal(await store.lastPosition({ category }), position, 'other categories do not move it');
    });

    t.test('a subscription catches up, says so, then delivers live', async (t) => {
      const after = await here();
      const category = uniqueCategory();
      const id = uniqueSession();
      const before = [newSessionStarted(id), newCredentialsStored(id)];
      await store.append(`${category}-${id}`, before);
      await store.append(`${uniqueCategory()}-${id}`, [newSessionStarted(id)]);
      const subscription = store.subscribe({ after, category });
      const live = [newVmDestroyed(id), newSessionFailed(id)];
      const messages = await collect(subscription, (m) => {
        if (m.length === 3 && m[2]!.kind === 'caughtUp') {
          void (async () => {
            for (const event of live) await store.append(`${category}-${id}`, [event]);
          })();
        }
        return eventsOf(m).length === 4;
      });
      await subscription.close();
      t.same(messages.map((m) => m.kind), ['event', 'event', 'caughtUp', 'event', 'event']);
      t.same(eventsOf(messages).map((e) => e.eventId), [...before, ...live].map((e) => e.eventId));
      t.same(eventsOf(messages).map((e) => e.revision), [0n, 1n, 2n, 3n]);
    });

    t.test('a subscription that starts mid-stream', async (t) => {
      const category = uniqueCategory();
      const id = uniqueSession();
      const events = [newSessionStarted(id), newVmDestroyed(id), newCredentialsStored(id), newSessionCancelled(id)];
      await store.append(`${category}-${id}`, events.slice(0, 3));
      const [, second] = await store.readStream(`${category}-${id}`);
      const subscription = store.subscribe({ after: second!.position, category });
      const messages = await collect(subscription, (m) => {
        if (m.at(-1)?.kind === 'caughtUp') void store.append(`${category}-${id}`, [events[3]!]);
        return eventsOf(m).length === 2;
      });
      await subscription.close();
      t.same(eventsOf(messages).map((e) => e.eventId), [events[2]!.eventId, events[3]!.eventId], 'from the event after the checkpoint');
    });

    t.test('closing a subscription ends its loop', async (t) => {
      const subscription = store.subscribe({ after: await here(), category: uniqueCategory() });
      setTimeout(() => void subscription.close(), 50);
      const messages: SubscriptionMessage[] = [];
      for await (const message of subscription) messages.push(message);
      t.same(messages, [{ kind: 'caughtUp' }]);
    });

    t.test('concurrent appenders racing on one stream: exactly one wins', async (t) => {
      const racers = await Promise.all(Array.from({ length: 4 }, () => subject.open()));
      t.teardown(() => Promise.all(racers.map((racer) => racer.close())));
      const id = uniqueSession();
      const starts = await Promise.allSettled(
        racers.map((racer) => racer.append(streamOf(id), [newSessionStarted(id)], { expectedRevision: 'no_stream' })),
      );
      t.equal(starts.filter((s) => s.status === 'fulfilled').length, 1, 'one no_stream start wins');
      t.ok(
        starts.every((s) => s.status === 'fulfilled' || s.reason instanceof WrongExpectedRevisionError),
        'the others are told the stream moved',
      );
      const facts = await Promise.allSettled(
        racers.map((racer) => racer.append(streamOf(id), [newCredentialsStored(id)], { expectedRevision: 0n })),
      );
      t.equal(facts.filter((s) => s.status === 'fulfilled').length, 1, 'one exact-revision append wins');
      for (const lost of facts.filter((s): s is PromiseRejectedResult => s.status === 'rejected')) {
        t.type(lost.reason, WrongExpectedRevisionError);
        t.equal((lost.reason as WrongExpectedRevisionError).current, 1n);
      }
      t.equal((await store.readStream(streamOf(id))).length, 2, 'the stream holds the two winners only');
    });

    t.test('concurrent retries of one append are recorded once', async (t) => {
      const racers = await Promise.all(Array.from({ length: 4 }, () => subject.open()));
      t.teardown(() => Promise.all(racers.map((racer) => racer.close())));
      const id = uniqueSession();
      const batch = [newSessionStarted(id), newCredentialsStored(id)];
      const results = await Promise.all(racers.map((racer) => racer.append(streamOf(id), batch, { expectedRevision: 'any' })));
      t.equal(results.filter((r) => !r.alreadyRecorded).length, 1, 'one wrote');
      t.ok(results.every((r) => r.position === results[0]!.position && r.revision === 1n), 'all answer the same result');
      t.equal((await store.readStream(streamOf(id))).length, 2);
    });

    t.test('every event is stored with its link in its stream\'s hash chain', async (t) => {
      const id = uniqueSession();
      const answers = [
        await store.append(streamOf(id), [newSessionStarted(id)]),
        await store.append(streamOf(id), [newVmDestroyed(id), newCredentialsStored(id)]),
        await store.append(streamOf(id), [newSessionFailed(id)]),
      ];
      const stored = await store.readStoredStream(streamOf(id));
      t.equal(stored.length, 4);
      t.same(stored.map((event) => event.hash), recomputed(stored), "each hash is SHA-256 over the previous one and the event as stored, from 64 zeros");
      t.same(answers.map((answer) => answer.hash), [stored[0]!.hash, stored[2]!.hash, stored[3]!.hash], 'an append answers the hash of its last event');
      const decoded = await store.readStream(streamOf(id));
      t.same(decoded.map((event) => event.hash), stored.map((event) => event.hash), 'a decoded event carries its hash');
      t.same(decoded.map((event) => JSON.stringify(event.data)), stored.map((event) => event.dataJson), 'the stored data is the JSON of the data');
      t.same(
        decoded.map((event) => JSON.stringify(event.metadata)),
        stored.map((event) => event.metadataJson),
        'and the stored metadata the JSON of the metadata, the hash not among it',
      );
      const all = await store.readStoredAll({ after: answers[0]!.position - 1n, category: 'authSession', maxCount: 10_000 });
      t.same(
        all.filter((event) => event.streamName === streamOf(id)),
        stored,
        'reading all as stored gives the same events, with their hashes',
      );
      t.match(await store.append(streamOf(id), [newSessionFailed(id, {}, { eventId: stored[3]!.eventId })]), { alreadyRecorded: true, hash: stored[3]!.hash }, 'a retry answers the original hash');
    });

    t.test("a stream's chain is its own: the same events in another stream hash differently", async (t) => {
      const [a, b] = [uniqueSession(), uniqueSession()];
      const started = newSessionStarted(a);
      await store.append(streamOf(a), [started]);
      await store.append(streamOf(b), [{ ...started, eventId: randomUUID() }]);
      const [first] = await store.readStoredStream(streamOf(a));
      const [second] = await store.readStoredStream(streamOf(b));
      t.not(first!.hash, second!.hash);
    });

    t.test('a stream recorded before the chain: its events are not rewritten, and the first chained one links over them', async (t) => {
      const id = uniqueSession();
      await subject.appendBeforeTheChain(streamOf(id), [newSessionStarted(id), newVmDestroyed(id), newSessionFailed(id)]);
      const before = await store.readStoredStream(streamOf(id));
      t.strictSame(before.map((event) => event.hash), [null, null, null], 'no hash was recorded for them');
      const appended = await store.append(streamOf(id), [newCredentialsStored(id)], { expectedRevision: 2n });
      const after = await store.readStoredStream(streamOf(id));
      t.same(after.slice(0, 3), before, 'the earlier events are as they were');
      t.equal(after[3]!.hash, recomputed(after)[3], 'the first chained hash covers the earlier events too, up to the last of them');
      t.equal(appended.hash, after[3]!.hash);
      t.strictSame((await store.readStream(streamOf(id))).map((event) => event.hash), [null, null, null, after[3]!.hash]);
    });

    t.test('a closed store refuses calls and ends its subscriptions', async (t) => {
      const other = await subject.open();
      const subscription = other.subscribe({ after: await here(), category: uniqueCategory() });
      const messages = subscription[Symbol.asyncIterator]();
      // Caught up first (not after a guessed delay: a busy machine takes longer), so the
      // close below finds the subscription waiting for an event that will not come.
      t.same(await messages.next(), { done: false, value: { kind: 'caughtUp' } }, 'it caught up');
      const rest = (async () => {
        const more: SubscriptionMessage[] = [];
        for (let next = await messages.next(); !next.done; next = await messages.next()) more.push(next.value);
        return more;
      })();
      await other.close();
      t.same(await rest, [], 'the subscription ended');
      const id = uniqueSession();
      await t.rejects(other.append(streamOf(id), [newSessionStarted(id)]), StoreClosedError);
      await t.rejects(other.readStream(streamOf(id)), StoreClosedError);
      await t.rejects(other.readAll(), StoreClosedError);
      await t.rejects(other.readStoredStream(streamOf(id)), StoreClosedError);
      await t.rejects(other.readStoredAll(), StoreClosedError);
      await t.rejects(other.readStreamNames(), StoreClosedError);
      await t.rejects(other.lastPosition(), StoreClosedError);
      t.throws(() => other.subscribe(), StoreClosedError);
      await other.close();
      t.pass('closing twice is harmless');
    });
  });
}
