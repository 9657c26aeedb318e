/**
 * The read model's schema migrations, on a file as an older ledger left it: each migration
 * brings the table up to date and the projector rebuilds what it emptied from the log.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { initialState } from '../../projections/index.js';
import { SESSION_STATUSES } from '../../src/contract/index.js';
import { sessionStreamName } from '../../src/events/index.js';
import { anomaliesToJson, foldStateToJson } from '../../src/projector/fold-state-json.js';
import { projectEvents } from '../../src/projector/project-events.js';
import { createProjector } from '../../src/projector/projector.js';
import { readModelSchema } from '../../src/projector/read-model-schema.js';
import { sessionRowOf } from '../../src/projector/session-row.js';
import { openOutcomes } from '../../src/projector/outcomes-read-model.js';
import { openReadModel } from '../../src/projector/sqlite-read-model.js';
import type { EventStore } from '../../src/store/port.js';
import { openSqliteEventStore } from '../../src/store/sqlite/index.js';
import { migrate } from '../../src/store/sqlite/migrations.js';
import { newCredentialsStored, newSessionStarted } from '../support/events.js';
import { checkpointOf, compareWithFold, sessionEvents } from '../support/read-model-check.js';
import { at, T0 } from '../support/sweeper-steps.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-read-model-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const freshPath = () => join(dir, `${randomUUID()}.db`);

t.test("the table's status check names the contract's statuses, no more and no fewer", async (t) => {
  // A shipped migration is never edited, so the list written in its SQL is checked here instead.
  const [first] = readModelSchema.migrations;
  const listed = /check \(status in \(([^)]*)\)\)/.exec(first!)?.[1]?.split(',').map((status) => status.trim().replaceAll("'", ''));
  t.same(listed, [...SESSION_STATUSES]);
});

t.test('migration 2 gives a version-1 read model the deadline columns, rebuilt from the log', async (t) => {
  const path = freshPath();
  const store = openSqliteEventStore({ path, synchronous: 'NORMAL' });
  const append = (sessionId: string, ...events: Parameters<EventStore['append']>[1]) =>
    store.append(sessionStreamName(sessionId), events);
  await append('old-due', newSessionStarted('old-due', { expiresAt: at(15) }));
  await append('old-offset', newSessionStarted('old-offset', { expiresAt: '2030-01-01T14:10:00+02:00' }));
  await append('old-done', newSessionStarted('old-done', { expiresAt: at(15) }), newCredentialsStored('old-done'));
  // A fact that arrived before its start: a row, but no deadline yet.
  await append('old-orphan', newCredentialsStored('old-orphan'));
  const last = await store.lastPosition();

  // The file as a version-1 ledger left it: the first migration, its rows and its checkpoint.
  const db = store.database;
  migrate(db, { versionTable: readModelSchema.versionTable, migrations: readModelSchema.migrations.slice(0, 1) });
  const insertV1 = db.prepare(
    `insert into auth_sessions (session_id, user_id, provider, browser_vm_id, status, completed_at, error_message,
       created_at, updated_at, revision, position, anomalies, created_at_ms, fold_state)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const [sessionId, state] of projectEvents(await sessionEvents(store), () => initialState)) {
    const row = sessionRowOf(sessionId, state);
    insertV1.run(
      row.sessionId, row.userId, row.provider, row.browserVmId, row.status, row.completedAt, row.errorMessage,
      row.createdAt, row.updatedAt, row.revision, row.position, anomaliesToJson(row.anomalies),
      Date.parse(row.createdAt!), foldStateToJson(state),
    );
  }
  db.prepare('insert into projector_checkpoint (name, position) values (?, ?)').run('auth_sessions', last);
  t.equal(db.prepare('select count(*) from auth_sessions').pluck().get(), 4n, 'four version-1 rows');

  const readModel = openReadModel(db);
  t.same(db.prepare('select version from read_model_version order by version').pluck().all(), readModelSchema.migrations.map((_, index) => BigInt(index + 1)));
  const columns = db.prepare("select name from pragma_table_info('auth_sessions')").pluck().all();
  t.ok(columns.includes('expires_at') && columns.includes('expires_at_ms'), 'with the deadline columns');
  t.equal(db.prepare('select count(*) from auth_sessions').pluck().get(), 0n, 'emptied for the rebuild');
  t.equal(checkpointOf(db), 0n, 'and the checkpoint with it');

  const projector = createProjector({ store, db });
  t.teardown(async () => {
    await projector.stop();
    await store.close();
  });
  projector.start();
  t.ok(await projector.waitForPosition(last, 5000), 'the projector rebuilds from the log');
  t.same((await compareWithFold(store, db)).differences, [], 'every row back, equal to a fresh fold');
  t.same(
    db.prepare('select session_id, expires_at, expires_at_ms from auth_sessions order by session_id').safeIntegers(false).all(),
    [
      { session_id: 'old-done', expires_at: at(15), expires_at_ms: T0 + 15 * 60_000 },
      { session_id: 'old-due', expires_at: at(15), expires_at_ms: T0 + 15 * 60_000 },
      { session_id: 'old-offset', expires_at: '2030-01-01T14:10:00+02:00', expires_at_ms: T0 + 10 * 60_000 },
      { session_id: 'old-orphan', expires_at: null, expires_at_ms: null },
    ],
    'the deadline as written, and its instant',
  );
  t.same(readModel.expiredPending(T0 + 60 * 60_000, 10).map((due) => due.sessionId), ['old-offset', 'old-due']);

  // The sweep's query reads a range of its index, in order: no scan, no sort.
  const plan = (
    db
      .prepare(
        "explain query plan select session_id, expires_at from auth_sessions where status = 'pending' and expires_at_ms <= ? order by expires_at_ms, session_id limit ?",
      )
      .all(T0, 10) as { detail: string }[]
  )
    .map((row) => row.detail)
    .join('; ');
  t.match(plan, 'auth_sessions_due', plan);
  t.notMatch(plan, 'TEMP B-TREE', 'no sort step');
});

t.test('migration 3 keeps a version-2 read model as it is, adds the head hash, which the next event of a stream fills, and the seals table', async (t) => {
  const path = freshPath();
  const store = openSqliteEventStore({ path, synchronous: 'NORMAL' });
  const db = store.database;
  const before = createProjector({ store, db });
  before.start();
  await store.append(sessionStreamName('kept'), [newSessionStarted('kept', { expiresAt: at(15) })]);
  t.ok(await before.waitForPosition(await store.lastPosition(), 5000));
  await before.stop();
  // The file as a version-2 ledger left it: the same row, without what migrations 3 and later add.
  db.exec(
    `alter table auth_sessions drop column head_hash; drop table seals; drop table session_outcomes; drop table session_outcome_states;
     drop table webhook_checkpoint; drop table webhook_dead_letters; drop table webhook_replays;
     delete from read_model_version where version >= 3;`,
  );
  const rowBefore = db.prepare("select * from auth_sessions where session_id = 'kept'").get();

  openReadModel(db);
  const projector = createProjector({ store, db });
  t.teardown(async () => {
    await projector.stop();
    await store.close();
  });
  t.same(db.prepare("select * from auth_sessions where session_id = 'kept'").get(), { ...(rowBefore as object), head_hash: null }, 'the row as it was, its head hash unknown');
  t.same(db.prepare('select count(*) from seals').pluck().get(), 0n, 'no seal yet');
  projector.start();
  const { hash } = await store.append(sessionStreamName('kept'), [newCredentialsStored('kept')]);
  t.ok(await projector.waitForPosition(await store.lastPosition(), 5000));
  t.equal(db.prepare("select head_hash from auth_sessions where session_id = 'kept'").pluck().get(), hash, "the next event's hash is the head");
});

t.test('migration 4 adds the session_outcomes tables, empty, and the outcomes projector fills them from the start of the log', async (t) => {
  const path = freshPath();
  const store = openSqliteEventStore({ path, synchronous: 'NORMAL' });
  const db = store.database;
  await store.append(sessionStreamName('before'), [newSessionStarted('before', { expiresAt: at(15) }), newCredentialsStored('before')]);
  migrate(db, { versionTable: readModelSchema.versionTable, migrations: readModelSchema.migrations.slice(0, 3) });
  const outcomes = openOutcomes(db);
  t.same(db.prepare('select count(*) from session_outcomes').pluck().get(), 0n, 'empty');
  const projector = createProjector({ store, projection: outcomes });
  t.teardown(async () => {
    await projector.stop();
    await store.close();
  });
  projector.start();
  t.ok(await projector.waitForPosition(await store.lastPosition(), 5000));
  t.match(outcomes.snapshot().counts, [{ status: 'completed', sessions: 1 }], 'the session from before the migration, counted');
});
