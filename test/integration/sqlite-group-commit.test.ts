/**
 * Group commit in the SQLite store, on a real file: appends made within one turn of the event
 * loop share one transaction (one fsync), yet each is checked as if it were alone (expected
 * revision, idempotency, the hash chain from the head earlier appends of the batch left), a
 * conflict fails only its own append, a transaction that fails fails them all and stores
 * none, every caller is answered after the COMMIT that holds its append, and close() drains.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { sessionStreamName, type NewEvent } from '../../src/events/index.js';
import { EventIdConflictError, StorageFaultError, StoreClosedError, WrongExpectedRevisionError } from '../../src/store/errors.js';
import { chainBreakOf } from '../../src/store/hash-chain.js';
import type { AppendResult } from '../../src/store/port.js';
import { openSqliteEventStore, type SqliteEventStoreOptions } from '../../src/store/sqlite/index.js';
import { newCredentialsStored, newSessionStarted } from '../support/events.js';
import { smallDisk } from '../support/storage-faults.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-group-commit-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const freshPath = () => join(dir, `${randomUUID()}.db`);

/** A store on a fresh file that records the size of every batch it commits. */
function storeWithBatches(options: Partial<SqliteEventStoreOptions> = {}) {
  const batches: number[] = [];
  const store = openSqliteEventStore({ path: freshPath(), onCommitted: (appends) => batches.push(appends), ...options });
  t.teardown(() => store.close());
  return { store, batches };
}

/** The number of rows in the file, as another connection sees it: only what was committed. */
function committedRows(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('select count(*) from events').pluck().get() as number;
  } finally {
    db.close();
  }
}

const streamOf = () => sessionStreamName(randomUUID());
const sessionIdOf = (streamName: string) => streamName.slice(streamName.indexOf('-') + 1);

t.test('concurrent appends land in fewer commits than appends, each answered after its COMMIT', async (t) => {
  const path = freshPath();
  const answeredBeforeCommit: number[] = [];
  let committed = 0;
  const commits: number[] = [];
  const store = openSqliteEventStore({
    path,
    onCommitted: (appends) => {
      commits.push(appends);
      committed += appends;
    },
  });
  t.teardown(() => store.close());
  const streams = Array.from({ length: 100 }, streamOf);
  const results = await Promise.all(
    streams.map((streamName, index) =>
      store.append(streamName, [newSessionStarted(sessionIdOf(streamName))]).then((result) => {
        // Another connection sees the row by the time its caller hears of it.
        if (committedRows(path) <= index || committed <= index) answeredBeforeCommit.push(index);
        return result;
      }),
    ),
  );
  t.same(answeredBeforeCommit, [], 'no caller was answered before the commit that holds its append');
  t.equal(
    commits.reduce((sum, appends) => sum + appends, 0),
    100,
    'every append was acknowledged by a commit',
  );
  t.ok(commits.length < 100, `fewer commits (${commits.length}) than appends`);
  t.same(
    results.map((result) => result.alreadyRecorded),
    streams.map(() => false),
  );
  t.equal(new Set(results.map((result) => result.position)).size, 100, 'each append its own position');
});

t.test('a batch is bounded by appends and by events; what is left goes to the next', async (t) => {
  const { store, batches } = storeWithBatches();
  await Promise.all(Array.from({ length: 300 }, () => streamOf()).map((streamName) => store.append(streamName, [newSessionStarted(sessionIdOf(streamName))])));
  t.same(batches, [256, 44], 'at most 256 appends in one batch');

  batches.length = 0;
  const manyEvents = (count: number) => {
    const streamName = streamOf();
    const sessionId = sessionIdOf(streamName);
    return store.append(streamName, [newSessionStarted(sessionId), ...Array.from({ length: count - 1 }, () => newCredentialsStored(sessionId))]);
  };
  await Promise.all([manyEvents(900), manyEvents(900), manyEvents(900), manyEvents(2500), manyEvents(10)]);
  t.same(batches, [2, 1, 1, 1], 'at most 2,000 events in one batch, unless one append alone has more');
});

t.test('a conflicting append among good ones fails alone, and nothing of it is stored', async (t) => {
  const { store, batches } = storeWithBatches();
  const streamName = streamOf();
  const sessionId = sessionIdOf(streamName);
  const other = streamOf();
  const settled = await Promise.allSettled([
    store.append(streamName, [newSessionStarted(sessionId)], { expectedRevision: 'no_stream' }),
    // The stream exists once the first append of the batch is in: the same conflict as if the two had been sequential.
    store.append(streamName, [newSessionStarted(sessionId), newCredentialsStored(sessionId)], { expectedRevision: 'no_stream' }),
    store.append(streamName, [newCredentialsStored(sessionId)], { expectedRevision: 0n }),
    store.append(other, [newSessionStarted(sessionIdOf(other))], { expectedRevision: 'no_stream' }),
  ]);
  t.same(batches, [3], 'one batch, three acknowledged');
  t.same(
    settled.map((outcome) => outcome.status),
    ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
  );
  const rejected = settled[1] as PromiseRejectedResult;
  t.ok(rejected.reason instanceof WrongExpectedRevisionError, 'the conflict is the caller’s');
  t.match(rejected.reason, { expected: 'no_stream', current: 0n });
  t.match((settled[2] as PromiseFulfilledResult<AppendResult>).value, { revision: 1n, alreadyRecorded: false });
  const stored = await store.readStoredStream(streamName);
  t.same(
    stored.map((event) => event.type),
    ['SessionStarted', 'CredentialsStored'],
    'the conflicting append wrote nothing, the ones around it are whole',
  );
  t.equal(chainBreakOf(stored), null);
  t.equal((await store.readStream(other)).length, 1);
});

t.test('the same event id twice in one batch: a retry when the content is the same, a conflict when it is not', async (t) => {
  const { store, batches } = storeWithBatches();
  const streamName = streamOf();
  const started = newSessionStarted(sessionIdOf(streamName));
  const [first, retry] = await Promise.all([store.append(streamName, [started]), store.append(streamName, [started])]);
  t.same(batches, [2]);
  t.match(first, { revision: 0n, alreadyRecorded: false });
  t.same(retry, { ...first, alreadyRecorded: true }, 'the second is recognised as a retry of the first');
  t.equal((await store.readStream(streamName)).length, 1, 'one row');

  const changed: NewEvent = { ...started, data: { ...started.data, userId: 'someone-else' } };
  const credentials = newCredentialsStored(sessionIdOf(streamName));
  const otherCredentials: NewEvent = { ...credentials, data: { ...credentials.data, credentialRef: 'other' } };
  const settled = await Promise.allSettled([
    store.append(streamName, [credentials]),
    store.append(streamName, [otherCredentials]),
    store.append(streamName, [changed]),
  ]);
  t.equal(settled[0].status, 'fulfilled');
  for (const outcome of settled.slice(1)) {
    t.equal(outcome.status, 'rejected');
    t.match((outcome as PromiseRejectedResult).reason, { constructor: EventIdConflictError, reason: 'otherContent' });
  }
  t.equal((await store.readStream(streamName)).length, 2, 'the conflicting appends wrote nothing');
});

t.test('revisions within one stream follow the order of the calls', async (t) => {
  const { store, batches } = storeWithBatches();
  const streamName = streamOf();
  const sessionId = sessionIdOf(streamName);
  const events = [newSessionStarted(sessionId), ...Array.from({ length: 49 }, () => newCredentialsStored(sessionId))];
  // Each names the revision the one called before it leaves: all succeed only in call order.
  const results = await Promise.all(events.map((event, index) => store.append(streamName, [event], { expectedRevision: index === 0 ? 'no_stream' : BigInt(index - 1) })));
  t.same(batches, [50]);
  t.same(
    results.map((result) => result.revision),
    events.map((_, index) => BigInt(index)),
  );
  t.same(
    (await store.readStream(streamName)).map((event) => event.eventId),
    events.map((event) => event.eventId),
  );
});

t.test('the hash chain verifies after a mixed batch', async (t) => {
  const { store } = storeWithBatches();
  const streams = [streamOf(), streamOf(), streamOf()];
  await store.append(streams[0]!, [newSessionStarted(sessionIdOf(streams[0]!))]);
  const calls = streams.flatMap((streamName) => {
    const sessionId = sessionIdOf(streamName);
    const started = newSessionStarted(sessionId);
    return [
      store.append(streamName, [started]),
      store.append(streamName, [newCredentialsStored(sessionId), newCredentialsStored(sessionId)]),
      store.append(streamName, [started]),
      store.append(streamName, [newCredentialsStored(sessionId)], { expectedRevision: 'no_stream' }),
      store.append(streamName, [newCredentialsStored(sessionId)]),
    ];
  });
  const settled = await Promise.allSettled(calls);
  t.equal(
    settled.filter((outcome) => outcome.status === 'rejected').length,
    3,
    'one conflict per stream',
  );
  for (const streamName of streams) {
    const stored = await store.readStoredStream(streamName);
    t.equal(chainBreakOf(stored), null, `${streamName}: the chain verifies`);
    t.equal(stored.at(-1)!.revision, BigInt(stored.length - 1));
  }
  const heads = settled
    .map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : null))
    .filter((result): result is AppendResult => result !== null && !result.alreadyRecorded);
  for (const head of heads) {
    const [row] = (await store.readStoredAll({ after: head.position - 1n, maxCount: 1 })).filter((event) => event.position === head.position);
    t.equal(row?.hash, head.hash, 'each append answers the hash stored for its last event');
  }
});

t.test('a batch whose transaction fails acknowledges none of its appends and stores none', async (t) => {
  t.test('SQLite refuses a page (max_page_count)', async (t) => {
    const { store, batches } = storeWithBatches();
    const before = streamOf();
    await store.append(before, [newSessionStarted(sessionIdOf(before))]);
    batches.length = 0;
    const pageCount = store.database.pragma('page_count', { simple: true }) as bigint;
    const limit = store.database.pragma('max_page_count', { simple: true }) as bigint;
    store.database.pragma(`max_page_count = ${pageCount}`);
    // Room for small rows on the pages there are, not for one that needs pages of its own.
    const big = streamOf();
    const bigSessionId = sessionIdOf(big);
    const streams = [streamOf(), streamOf()];
    const settled = await Promise.allSettled([
      ...streams.map((streamName) => store.append(streamName, [newSessionStarted(sessionIdOf(streamName))])),
      store.append(big, [newSessionStarted(bigSessionId), ...Array.from({ length: 200 }, () => newCredentialsStored(bigSessionId))]),
    ]);
    t.same(
      settled.map((outcome) => outcome.status),
      ['rejected', 'rejected', 'rejected'],
    );
    const [error] = settled.map((outcome) => (outcome as PromiseRejectedResult).reason as unknown);
    t.ok(error instanceof StorageFaultError, 'a storage fault');
    t.match(error, { kind: 'disk-full', operation: 'write' });
    t.ok(
      settled.every((outcome) => (outcome as PromiseRejectedResult).reason === error),
      'every append of the batch refused with the one error',
    );
    t.same(batches, [], 'no batch was committed');
    t.equal(committedRows(store.database.name), 1, 'none of the batch stored');

    store.database.pragma(`max_page_count = ${limit}`);
    const retried = await Promise.all(streams.map((streamName) => store.append(streamName, [newSessionStarted(sessionIdOf(streamName))])));
    t.same(
      retried.map((result) => result.alreadyRecorded),
      [false, false],
      'with room again, the appends go in',
    );
  });

  const disk = smallDisk(2048);
  t.teardown(() => disk?.unmount());
  t.test('the COMMIT cannot write the WAL: a full disk', { skip: disk === null && 'mounting a tmpfs needs root with CAP_SYS_ADMIN' }, async (t) => {
    const path = join(disk!.folder, `${randomUUID()}.db`);
    const batches: number[] = [];
    const store = openSqliteEventStore({ path, onCommitted: (appends) => batches.push(appends) });
    t.teardown(() => store.close());
    const before = streamOf();
    await store.append(before, [newSessionStarted(sessionIdOf(before))]);
    batches.length = 0;
    // BEGIN and the inserts succeed (the pages are in memory); the COMMIT writes them to the
    // WAL, which cannot grow: SQLITE_FULL, and SQLite rolls the transaction back.
    disk!.fill();
    const streams = [streamOf(), streamOf(), streamOf()];
    const settled = await Promise.allSettled(streams.map((streamName) => store.append(streamName, [newSessionStarted(sessionIdOf(streamName))])));
    t.same(
      settled.map((outcome) => outcome.status),
      ['rejected', 'rejected', 'rejected'],
    );
    t.match((settled[0] as PromiseRejectedResult).reason, { constructor: StorageFaultError, kind: 'disk-full' });
    t.same(batches, [], 'no batch was committed');
    disk!.free();
    t.equal(committedRows(path), 1, 'none of the batch stored');
    const retried = await Promise.all(streams.map((streamName) => store.append(streamName, [newSessionStarted(sessionIdOf(streamName))])));
    t.same(
      retried.map((result) => result.alreadyRecorded),
      [false, false, false],
      'with room again, the appends go in',
    );
    t.equal(committedRows(path), 4);
  });
});

t.test('close() commits what was queued before it; an append after it is refused', async (t) => {
  const path = freshPath();
  const store = openSqliteEventStore({ path });
  const streams = Array.from({ length: 20 }, streamOf);
  const pending = streams.map((streamName) => store.append(streamName, [newSessionStarted(sessionIdOf(streamName))]));
  await store.close();
  const results = await Promise.all(pending);
  t.equal(results.length, 20, 'every queued append was answered');
  t.equal(committedRows(path), 20, 'and is in the file');
  await t.rejects(store.append(streamOf(), [newSessionStarted('late')]), StoreClosedError);
});

t.test('an onCommitted that throws fails no append', async (t) => {
  const { store } = storeWithBatches({
    onCommitted: () => {
      throw new Error('a listener’s bug');
    },
  });
  const streamName = streamOf();
  const result = await store.append(streamName, [newSessionStarted(sessionIdOf(streamName))]);
  t.match(result, { revision: 0n, alreadyRecorded: false });
});
