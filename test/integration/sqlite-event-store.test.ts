import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import t from 'tap';
import { createEventCodec, ledgerEventCodec, UndecodableEventError } from '../../src/events/index.js';
import { chainBreakOf, chainHashes, GENESIS_HASH } from '../../src/store/hash-chain.js';
import { eventStoreSchema, migrate } from '../../src/store/sqlite/migrations.js';
import type { SubscriptionMessage } from '../../src/store/port.js';
import { openSqliteEventStore, SCHEMA_VERSION, SchemaTooNewError } from '../../src/store/sqlite/index.js';
import { newCredentialsStored, newSessionFailed, newSessionStarted } from '../support/events.js';
import { runTsChild } from '../support/ts-child.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-sqlite-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const freshPath = () => join(dir, `${randomUUID()}.db`);
const child = fileURLToPath(new URL('../support/append-child.ts', import.meta.url));

type Line = Record<string, string>;
const runChild = (args: string[], onLine?: (line: Line, proc: ChildProcess) => void) => runTsChild<Line>(child, args, { onLine });

t.test('the file is in WAL mode and syncs every commit by default', async (t) => {
  const store = openSqliteEventStore({ path: freshPath() });
  t.equal(store.database.pragma('journal_mode', { simple: true }), 'wal');
  // FULL by default, kept by the store: SQLite commits, the store syncs the WAL before it
  // answers (wal-sync.ts; the power-loss test holds it to that).
  t.equal(store.database.pragma('synchronous', { simple: true }), 1n, 'the connection commits without syncing');
  await store.close();
  const relaxed = openSqliteEventStore({ path: freshPath(), synchronous: 'NORMAL' });
  t.equal(relaxed.database.pragma('synchronous', { simple: true }), 1n, 'NORMAL when configured');
  await relaxed.close();
});

t.test('the schema is created on open, recorded, and not applied twice', async (t) => {
  const path = freshPath();
  await openSqliteEventStore({ path }).close();
  await openSqliteEventStore({ path }).close();
  const db = new Database(path);
  t.same(db.prepare('select version from schema_version').pluck().all(), Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  db.prepare('insert into schema_version (version, applied_at) values (?, ?)').run(SCHEMA_VERSION + 1, 'later');
  db.close();
  t.throws(() => openSqliteEventStore({ path }), SchemaTooNewError, 'a file from a newer ledger is refused');
});

t.test('migration 2 gives a version-1 file the hash column; its events stay as they were, and the chain links over them', async (t) => {
  const path = freshPath();
  const old = new Database(path);
  migrate(old, { versionTable: eventStoreSchema.versionTable, migrations: eventStoreSchema.migrations.slice(0, 1) });
  const started = ledgerEventCodec.prepare(newSessionStarted('old'));
  old
    .prepare('insert into events (stream_name, category, revision, event_id, type, data, metadata) values (?, ?, 0, ?, ?, ?, ?)')
    .run('authSession-old', 'authSession', started.eventId, started.type, started.dataJson, started.metadataJson);
  old.close();

  const store = openSqliteEventStore({ path });
  t.teardown(() => store.close());
  const [before] = await store.readStoredStream('authSession-old');
  t.match(before, { eventId: started.eventId, dataJson: started.dataJson, metadataJson: started.metadataJson, hash: null }, 'the old event as it was, with no hash');
  const { hash } = await store.append('authSession-old', [newCredentialsStored('old')], { expectedRevision: 0n });
  const stream = await store.readStoredStream('authSession-old');
  t.equal(hash, chainHashes(GENESIS_HASH, stream)[1], 'the first chained event links over the old one');
  t.equal(chainBreakOf(stream), null, 'the stream checks out');
});

t.test('the database itself refuses a second event at a revision and a reused event id', async (t) => {
  const path = freshPath();
  const store = openSqliteEventStore({ path });
  const started = newSessionStarted('s1');
  await store.append('authSession-s1', [started]);
  await store.close();
  const db = new Database(path);
  const insert = db.prepare(
    "insert into events (stream_name, category, revision, event_id, type, data, metadata) values (?, 'authSession', ?, ?, 'SessionStarted', '{}', '{}')",
  );
  t.throws(() => insert.run('authSession-s1', 0, randomUUID()), { code: 'SQLITE_CONSTRAINT_UNIQUE' }, 'same stream and revision');
  t.throws(() => insert.run('authSession-s2', 0, started.eventId), { code: 'SQLITE_CONSTRAINT_UNIQUE' }, 'same event id');
  t.throws(() => insert.run('authSession-s3', -1, randomUUID()), { code: 'SQLITE_CONSTRAINT_CHECK' }, 'a negative revision');
  db.close();
});

t.test('an upcaster runs on read, and the store is never rewritten', async (t) => {
  const path = freshPath();
  await openSqliteEventStore({ path }).close();
  // A version-1 SessionFailed as a hypothetical older ledger wrote it: `message`, not `errorMessage`.
  const db = new Database(path);
  const oldData = JSON.stringify({ sessionId: 's1', reason: 'consentDenied', message: 'The user denied consent' });
  const metadata = JSON.stringify({ actor: { role: 'agent', sub: 'vm-1' }, recordedAt: '2026-01-01T00:00:00.000Z', schemaVersion: 1 });
  db.prepare(
    "insert into events (stream_name, category, revision, event_id, type, data, metadata) values ('authSession-s1', 'authSession', 0, ?, 'SessionFailed', ?, ?)",
  ).run(randomUUID(), oldData, metadata);
  db.close();

  const codec = createEventCodec({
    SessionFailed: [({ message, ...rest }) => ({ ...rest, errorMessage: message })],
  });
  const store = openSqliteEventStore({ path, codec });
  const [read] = await store.readStream('authSession-s1');
  t.same(read!.data, { sessionId: 's1', reason: 'consentDenied', errorMessage: 'The user denied consent' }, 'upcast to the current shape');
  t.equal(read!.metadata.schemaVersion, 1, 'the metadata still says what was stored');
  await store.append('authSession-s1', [newSessionFailed('s1')]);
  const [, fresh] = await store.readStream('authSession-s1');
  t.equal(fresh!.metadata.schemaVersion, 2, 'new events are written at the current version');
  await store.close();

  const raw = new Database(path, { readonly: true });
  t.equal(raw.prepare('select data from events where revision = 0').pluck().get(), oldData, 'the stored event is untouched');
  raw.close();

  const older = openSqliteEventStore({ path });
  await t.rejects(older.readStream('authSession-s1'), UndecodableEventError, 'a ledger without the upcaster cannot read version 2 and says so');
  await older.close();
});

t.test('a live subscription wakes on an append in this process without polling', async (t) => {
  const path = freshPath();
  // A foreign-append check an hour apart: only the in-process signal can deliver in time.
  const reader = openSqliteEventStore({ path, foreignAppendCheckMs: 3_600_000 });
  const writer = openSqliteEventStore({ path });
  t.teardown(async () => {
    await reader.close();
    await writer.close();
  });
  const subscription = reader.subscribe();
  const got: SubscriptionMessage[] = [];
  const timer = setTimeout(() => void subscription.close(), 10_000);
  for await (const message of subscription) {
    got.push(message);
    if (message.kind === 'caughtUp') {
      await reader.append('authSession-a', [newSessionStarted('a')]);
      await writer.append('authSession-b', [newSessionStarted('b')]);
    }
    if (got.length === 3) break;
  }
  clearTimeout(timer);
  t.same(
    got.map((m) => (m.kind === 'event' ? m.event.streamName : m.kind)),
    ['caughtUp', 'authSession-a', 'authSession-b'],
    'both the same connection and another connection to the file wake it',
  );
});

t.test('a live subscription sees appends made by another process', async (t) => {
  const path = freshPath();
  const store = openSqliteEventStore({ path, foreignAppendCheckMs: 50 });
  t.teardown(() => store.close());
  const subscription = store.subscribe();
  const timer = setTimeout(() => void subscription.close(), 20_000);
  const seen: string[] = [];
  for await (const message of subscription) {
    if (message.kind === 'caughtUp') void runChild(['one', path, 'from-another-process']);
    if (message.kind === 'event') seen.push(message.event.streamName);
    if (seen.length === 1) break;
  }
  clearTimeout(timer);
  t.same(seen, ['authSession-from-another-process']);
});

t.test('processes racing on one stream: exactly one wins', async (t) => {
  const path = freshPath();
  const store = openSqliteEventStore({ path });
  await store.append('authSession-raced', [newSessionStarted('raced')]);
  // Each racer loads, then waits; once all are ready they are told to go at the same moment.
  const racers: ChildProcess[] = [];
  const runs = Array.from({ length: 4 }, () =>
    runChild(['race', path, 'raced'], (line, proc) => {
      if (!line.ready) return;
      racers.push(proc);
      if (racers.length === 4) for (const racer of racers) racer.stdin!.end('go\n');
    }),
  );
  const outcomes = (await Promise.all(runs)).flatMap((run) => run.lines).filter((line) => !line.ready);
  t.equal(outcomes.length, 4, 'every racer answered');
  t.equal(outcomes.filter((o) => o.won).length, 1, 'one won');
  t.same(
    outcomes.filter((o) => !o.won).map((o) => o.error),
    ['WrongExpectedRevisionError', 'WrongExpectedRevisionError', 'WrongExpectedRevisionError'],
  );
  t.same((await store.readStream('authSession-raced')).map((e) => e.revision), [0n, 1n]);
  await store.close();
});

t.test('an acknowledged append survives the process being killed', async (t) => {
  const path = freshPath();
  await openSqliteEventStore({ path }).close();
  const { lines, signal } = await runChild(['forever', path], (line, proc) => {
    if (BigInt(line.position!) >= 200n) proc.kill('SIGKILL');
  });
  t.equal(signal, 'SIGKILL', 'the writer died mid-run');
  const store = openSqliteEventStore({ path });
  const all = await store.readAll({ maxCount: 100_000 });
  const stored = new Set(all.map((e) => e.streamName));
  const lost = lines.filter((line) => !stored.has(`authSession-${line.sessionId}`));
  t.ok(lines.length >= 200, `${lines.length} appends were acknowledged`);
  t.same(lost, [], 'every acknowledged append is in the file');
  t.ok(all.length - lines.length <= 1, 'at most the one append in flight at the kill is there unacknowledged');
  t.same(all.map((e) => e.position), [...all.map((e) => e.position)].sort((a, b) => (a < b ? -1 : 1)), 'positions intact');
  await store.close();
});

t.test('a retried append after a restart is recorded once', async (t) => {
  const path = freshPath();
  const batch = [newSessionStarted('retry'), newCredentialsStored('retry')];
  const first = openSqliteEventStore({ path });
  const original = await first.append('authSession-retry', batch, { expectedRevision: 'no_stream' });
  await first.close();
  const second = openSqliteEventStore({ path });
  const retry = await second.append('authSession-retry', batch, { expectedRevision: 'no_stream' });
  t.same(retry, { ...original, alreadyRecorded: true }, 'recognised from the file, not from memory');
  t.equal((await second.readStream('authSession-retry')).length, 2);
  await second.close();
});
