import type Database from 'better-sqlite3';
import { categoryOf, ledgerEventCodec, type EventCodec, type NewEvent, type StoredEvent } from '../../events/index.js';
import { appendedHashes, GENESIS_HASH, headHash } from '../hash-chain.js';
import {
  assertMaxCount,
  assertStreamName,
  DEFAULT_READ_ALL_PAGE,
  expectedRevisionMismatch,
  prepareAppend,
  type AppendRequest,
} from '../requests.js';
import { InvalidStoreRequestError, StoreClosedError, WrongExpectedRevisionError } from '../errors.js';
import { earlierResultOf } from '../idempotency.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadStreamNamesOptions,
  ReadStreamOptions,
  SubscribeOptions,
  Subscription,
} from '../port.js';
import { appendSignalFor } from './append-signal.js';
import { openDatabaseFile } from './database-file.js';
import { liveSubscription } from './live-subscription.js';
import { migrate } from './migrations.js';
import { GroupCommit, type Outcome } from './group-commit.js';
import { storageFaultOf, withStorageFaults } from './storage-fault.js';
import { walSyncOf, type WalSync } from './wal-sync.js';
import { createCheckpointer, SAFETY_NET_CHECKPOINT_PAGES, SQLITE_AUTOCHECKPOINT_PAGES, type Checkpointer } from './checkpointer.js';
import { appendInSpan } from '../append-span.js';

/** SQLite's `synchronous` levels; FULL syncs the WAL at every commit. */
export type SynchronousMode = 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';

/**
 * How a command may open the file: `create` it (and its folder) when missing, as `serve` and
 * writers do; open only an `existing` one, to write; or open an existing one `read-only`.
 */
export type DatabaseAccess = 'create' | 'existing' | 'read-only';

export interface SqliteEventStoreOptions {
  /** The database file; with `create` (the default) its folder is created if missing. */
  path: string;
  access?: DatabaseAccess;
  /** Defaults to FULL, so an acknowledged append survives a power loss. */
  synchronous?: SynchronousMode;
  /** How long an append waits for another process's write lock. Defaults to 5 s. */
  busyTimeoutMs?: number;
  /** How often a live subscription looks for appends made by another process; appends in this process wake it at once. Defaults to 1 s. */
  foreignAppendCheckMs?: number;
  codec?: EventCodec;
  /** Called after each committed batch of appends, with how many it acknowledged (tests, metrics); its errors are swallowed. */
  onCommitted?: (appends: number) => void;
}

interface EventRow {
  position: bigint;
  stream_name: string;
  revision: bigint;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  hash: string | null;
}

const COLUMNS = 'position, stream_name, revision, event_id, type, data, metadata, hash';
// SQLite reads a negative LIMIT as "no limit".
const NO_LIMIT = -1;

// The bounds of one group commit: past them, the rest waits for the next batch, so no batch
// holds the event loop (and the write lock) for long.
const MAX_BATCH_APPENDS = 256;
const MAX_BATCH_EVENTS = 2000;

/** A checked `maxCount` as a LIMIT. */
function limitOf(maxCount: number | undefined): number {
  assertMaxCount(maxCount);
  return maxCount ?? NO_LIMIT;
}

/** The SQLite store is the port plus its connection, which the read model shares on the embedded default. */
export interface SqliteEventStore extends EventStore {
  readonly database: Database.Database;
}

/** The embedded event store: one SQLite file in WAL mode, nothing to start. */
export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  const { path, synchronous = 'FULL', busyTimeoutMs = 5000, foreignAppendCheckMs = 1000, access = 'create' } = options;
  const codec = options.codec ?? ledgerEventCodec;
  // FULL is kept by the store itself (`wal-sync.ts`): the connection commits without syncing,
  // and each batch is acknowledged after the store synced the WAL, off the event loop.
  const syncsItself = synchronous === 'FULL' && access !== 'read-only';
  const db = openDatabaseFile(path, { access, busyTimeoutMs, synchronous: syncsItself ? 'NORMAL' : synchronous });
  let walSync: WalSync | null = null;
  let checkpointer: Checkpointer | null = null;
  try {
    migrate(db);
    if (syncsItself) walSync = walSyncOf(path);
    if (access !== 'read-only') {
      checkpointer = createCheckpointer({
        path,
        busyTimeoutMs,
        // Stryker disable next-line all: a checkpointer that fails cannot be brought about by a test; SQLite's own checkpoint takes over.
        onFailure: () => db.open && db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`),
      });
      db.pragma(`wal_autocheckpoint = ${SAFETY_NET_CHECKPOINT_PAGES}`);
    }
  } catch (error) {
    db.close();
    throw storageFaultOf(error, path, 'open') ?? error;
  }
  db.defaultSafeIntegers(true);
  const wake = appendSignalFor(path);

  const statements = {
    byId: db.prepare(`select ${COLUMNS} from events where event_id = ?`),
    byIds: db.prepare(`select ${COLUMNS} from events where event_id in (select value from json_each(?))`),
    head: db.prepare(`select ${COLUMNS} from events where stream_name = ? order by revision desc limit 1`),
    insert: db.prepare(
      'insert into events (stream_name, category, revision, event_id, type, data, metadata, hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    forwards: db.prepare(
      `select ${COLUMNS} from events where stream_name = ? and revision >= ? order by revision limit ?`,
    ),
    backwards: db.prepare(
      `select ${COLUMNS} from events where stream_name = ? and revision <= ? order by revision desc limit ?`,
    ),
    all: db.prepare(`select ${COLUMNS} from events where position > ? order by position limit ?`),
    category: db.prepare(
      `select ${COLUMNS} from events where category = ? and position > ? order by position limit ?`,
    ),
    // By the (stream_name, revision) index: a range of it, one step per stream. A category's
    // streams are the range of names that begin with it (`+category` keeps SQLite from
    // choosing the category index, which would read the whole category for every page).
    streamNames: db.prepare('select stream_name from events where stream_name > ? group by stream_name order by stream_name limit ?').pluck(),
    streamNamesOfCategory: db
      .prepare(
        `select stream_name from events where stream_name > ? and stream_name >= ? and stream_name < ? and +category = ?
         group by stream_name order by stream_name limit ?`,
      )
      .pluck(),
    lastPosition: db.prepare('select coalesce(max(position), 0) from events').pluck(),
    lastPositionOfCategory: db.prepare('select coalesce(max(position), 0) from events where category = ?').pluck(),
  };

  const storedOf = (row: EventRow): StoredEvent => ({
    eventId: row.event_id,
    streamName: row.stream_name,
    revision: row.revision,
    position: row.position,
    type: row.type,
    dataJson: row.data,
    metadataJson: row.metadata,
    hash: row.hash,
  });
  /** A query's answer; a disk that fails it is a StorageFaultError. */
  const read = <T>(query: () => T): T => withStorageFaults(path, 'read', query);
  const storedRows = (statement: Database.Statement, ...params: unknown[]) => read(() => statement.all(...params) as EventRow[]).map(storedOf);
  const rows = (statement: Database.Statement, ...params: unknown[]) => storedRows(statement, ...params).map((stored) => codec.decode(stored));

  /** The hash the stream's next event links to: its head's, or, before the chain, the one its events give. */
  const headHashOf = (streamName: string, head: EventRow | undefined): string => {
    if (head === undefined) return GENESIS_HASH;
    return head.hash ?? headHash(storedRows(statements.forwards, streamName, 0n, NO_LIMIT));
  };

  /** The events already recorded under any of the append's ids (one id: the index, not json_each). */
  const recordedUnder = (events: AppendRequest['events']) =>
    events.length === 1 ? rows(statements.byId, events[0]!.eventId) : rows(statements.byIds, JSON.stringify(events.map((event) => event.eventId)));

  /**
   * One append's checks and rows, inside its batch's transaction: what earlier appends of the
   * batch wrote is already there, so a retry among them, a revision they moved and the head
   * hash they left are seen exactly as if they had been committed one by one.
   */
  const appendRows = (request: AppendRequest): AppendResult => {
    const { streamName, events, expectedRevision } = request;
    const earlier = earlierResultOf(streamName, events, recordedUnder(events));
    if (earlier) return earlier;
    const head = read(() => statements.head.get(streamName) as EventRow | undefined);
    const current = head?.revision ?? null;
    if (expectedRevisionMismatch(expectedRevision, current)) {
      throw new WrongExpectedRevisionError(streamName, expectedRevision, current);
    }
    const category = categoryOf(streamName);
    const first = (current ?? -1n) + 1n;
    const hashes = appendedHashes(headHashOf(streamName, head), streamName, first, events);
    let position = 0n;
    for (const [index, event] of events.entries()) {
      const revision = first + BigInt(index);
      const info = statements.insert.run(streamName, category, revision, event.eventId, event.type, event.dataJson, event.metadataJson, hashes[index]);
      position = BigInt(info.lastInsertRowid);
    }
    return { revision: first + BigInt(events.length - 1), position, hash: hashes.at(-1)!, alreadyRecorded: false };
  };
  // Nested in the batch's transaction, better-sqlite3 makes this a SAVEPOINT: a conflict
  // rolls back this append's rows only.
  const appendInSavepoint = db.transaction(appendRows);

  /**
   * Whether an append's failure is its own (a conflict, a bad stored row) rather than its
   * batch's: a fault of the disk, or a transaction SQLite already rolled back, leaves nothing
   * of the batch to trust, so it fails every append of it.
   */
  // Stryker disable next-line ConditionalExpression,LogicalOperator: SQLite rolls a transaction back on its own only for errors that are storage faults, or out of memory, which no test can bring about.
  const failsOnlyItsAppend = (error: unknown) => db.inTransaction && storageFaultOf(error, path, 'write') === null;

  const commitBatch = db.transaction((batch: readonly AppendRequest[]): Outcome<AppendResult>[] => {
    // A lone append needs no savepoint: its failure rolls back the whole transaction.
    // Stryker disable next-line ConditionalExpression: equivalent, a lone append in a savepoint fails and succeeds the same, at the cost of the savepoint.
    if (batch.length === 1) return [{ ok: true, value: appendRows(batch[0]!) }];
    return batch.map((request) => {
      try {
        return { ok: true, value: appendInSavepoint(request) };
      } catch (error) {
        if (!failsOnlyItsAppend(error)) throw error;
        return { ok: false, error };
      }
    });
  });

  // Live subscriptions hear of appends once they are durable. A woken reader may still read
  // a later batch that is not yet: after a power cut the WAL keeps a prefix of its commits, so
  // whatever this file derived from that batch (the read model's rows) goes with it.
  let wakeWhenDurable = false;
  const wakeSubscriptions = () => {
    if (!wakeWhenDurable) return;
    wakeWhenDurable = false;
    wake.signal.notify();
  };

  const groupCommit = new GroupCommit<AppendRequest, AppendResult>({
    // IMMEDIATE takes the write lock before reading, so two processes appending to one
    // stream are serialised and the loser sees the winner's revision.
    // A full disk, a file made read-only, a lock held too long: the transaction is rolled
    // back, nothing of the batch stored, and each caller told so (StorageFaultError).
    commit: (batch) => {
      const outcomes = withStorageFaults(path, 'write', () => commitBatch.immediate(batch));
      // Stryker disable next-line ConditionalExpression: equivalent, a wake with nothing new costs the subscriptions one empty read.
      if (outcomes.some((outcome) => outcome.ok && !outcome.value.alreadyRecorded)) wakeWhenDurable = true;
      checkpointer?.appended(batch.reduce((events, request) => events + request.events.length, 0));
      if (walSync === null) wakeSubscriptions();
      return outcomes;
    },
    ...(walSync && {
      durable: async () => {
        await walSync.afterCommit();
        wakeSubscriptions();
      },
    }),
    weightOf: (request) => request.events.length,
    maxRequests: MAX_BATCH_APPENDS,
    maxWeight: MAX_BATCH_EVENTS,
    onCommitted: options.onCommitted,
  });

  const storedPage = (after: bigint, category: string | undefined, limit: number) =>
    category === undefined ? storedRows(statements.all, after, limit) : storedRows(statements.category, category, after, limit);
  const readAllPage = (after: bigint, category: string | undefined, limit: number) =>
    storedPage(after, category, limit).map((stored) => codec.decode(stored));

  const subscriptions = new Set<Subscription>();
  let closed = false;
  const ensureOpen = () => {
    if (closed) throw new StoreClosedError();
  };

  return {
    database: db,

    async append(streamName: string, events: readonly NewEvent[], appendOptions?: AppendOptions) {
      ensureOpen();
      // Checked here, at the call: a bad event is refused at once and never enters a batch.
      const request = prepareAppend(codec, streamName, events, appendOptions);
      return appendInSpan('sqlite', streamName, events.length, appendOptions, () => groupCommit.submit(request));
    },

    async readStream(streamName: string, { direction = 'forwards', fromRevision, maxCount }: ReadStreamOptions = {}) {
      ensureOpen();
      assertStreamName(streamName);
      const limit = limitOf(maxCount);
      if (direction === 'forwards') return rows(statements.forwards, streamName, fromRevision ?? 0n, limit);
      if (direction === 'backwards') {
        // 2^63 - 1: SQLite's largest integer, "from the end".
        return rows(statements.backwards, streamName, fromRevision ?? 9223372036854775807n, limit);
      }
      throw new InvalidStoreRequestError(`invalid direction ${String(direction)}`);
    },

    async readAll({ after = 0n, category, maxCount = DEFAULT_READ_ALL_PAGE }: ReadAllOptions = {}) {
      ensureOpen();
      return readAllPage(after, category, limitOf(maxCount));
    },

    async readStoredStream(streamName: string) {
      ensureOpen();
      assertStreamName(streamName);
      return storedRows(statements.forwards, streamName, 0n, NO_LIMIT);
    },

    async readStoredAll({ after = 0n, category, maxCount = DEFAULT_READ_ALL_PAGE }: ReadAllOptions = {}) {
      ensureOpen();
      return storedPage(after, category, limitOf(maxCount));
    },

    async readStreamNames({ after = '', category, maxCount = DEFAULT_READ_ALL_PAGE }: ReadStreamNamesOptions = {}) {
      ensureOpen();
      const limit = limitOf(maxCount);
      if (category === undefined) return read(() => statements.streamNames.all(after, limit) as string[]);
      // Every name of the category begins with it, and sorts before it followed by the next character after '-'.
      return read(() => statements.streamNamesOfCategory.all(after, category, `${category}.`, category, limit) as string[]);
    },

    subscribe({ after = 0n, category }: SubscribeOptions = {}) {
      ensureOpen();
      const subscription = liveSubscription(
        { readPage: (from, pageSize) => readAllPage(from, category, pageSize), signal: wake.signal, foreignAppendCheckMs },
        after,
        (ended) => subscriptions.delete(ended),
      );
      subscriptions.add(subscription);
      return subscription;
    },

    async lastPosition({ category }: { category?: string } = {}) {
      ensureOpen();
      const position = read(() => (category === undefined ? statements.lastPosition.get() : statements.lastPositionOfCategory.get(category)));
      return position as bigint;
    },

    async close() {
      if (closed) return;
      closed = true;
      // Appends queued before the close are committed (or refused) before the file closes.
      groupCommit.drain();
      await walSync?.close();
      await checkpointer?.close();
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      wake.release();
      db.close();
    },
  };
}
