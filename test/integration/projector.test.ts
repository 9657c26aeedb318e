import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { sessionStreamName, type NewEvent } from '../../src/events/index.js';
import type { PartLogger } from '../../src/part-logger.js';
import { CHECKPOINT_NAME, createProjector } from '../../src/projector/projector.js';
import type { Projector } from '../../src/projector/projector-port.js';
import { InvalidCursorError, type SessionFilter } from '../../src/projector/read-model.js';
import type { SessionRow } from '../../src/projector/session-row.js';
import { openReadModel } from '../../src/projector/sqlite-read-model.js';
import { readModelSchema } from '../../src/projector/read-model-schema.js';
import { StoreClosedError } from '../../src/store/errors.js';
import { openSqliteEventStore, type SqliteEventStore } from '../../src/store/sqlite/index.js';
import { eventStoreSchema, migrate, SchemaTooNewError, type Schema } from '../../src/store/sqlite/migrations.js';
import {
  newCredentialsStored,
  newSessionCancelled,
  newSessionFailed,
  newSessionStarted,
  newVmDestroyed,
} from '../support/events.js';
import { checkpointOf, compareWithFold, readModelRows } from '../support/read-model-check.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-projector-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const freshPath = () => join(dir, `${randomUUID()}.db`);

/** NORMAL: these tests are about the projector, not about surviving a power loss. */
function openStore(t: Test, path = freshPath()): SqliteEventStore {
  const store = openSqliteEventStore({ path, synchronous: 'NORMAL' });
  t.teardown(() => store.close());
  return store;
}

function startProjector(t: Test, options: Parameters<typeof createProjector>[0]): Projector {
  const projector = createProjector(options);
  t.teardown(() => projector.stop());
  projector.start();
  return projector;
}

const append = (store: SqliteEventStore, sessionId: string, ...events: NewEvent[]) =>
  store.append(sessionStreamName(sessionId), events);

/** Waits, bounded, for something the projector does in the background. */
async function eventually(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Streams covering each line of DESIGN.md's truth table, and the anomalies. */
const scenarios: readonly ((id: string) => NewEvent[])[] = [
  (id) => [newSessionStarted(id)],
  (id) => [newSessionStarted(id), newCredentialsStored(id), newVmDestroyed(id)],
  (id) => [newSessionStarted(id), newVmDestroyed(id)],
  (id) => [newSessionStarted(id), newVmDestroyed(id), newCredentialsStored(id)],
  (id) => [newSessionStarted(id), newSessionFailed(id), newSessionFailed(id, { reason: 'later' })],
  (id) => [newSessionStarted(id), newSessionCancelled(id), newCredentialsStored(id), newCredentialsStored(id)],
  (id) => [newCredentialsStored(id), newSessionStarted(id), newSessionStarted(id)],
];

/** Appends every scenario for `count` sessions, interleaving their streams event by event. */
async function appendScenarios(store: SqliteEventStore, count: number, prefix: string): Promise<string[]> {
  const streams = Array.from({ length: count }, (_, i) => {
    const id = `${prefix}-${i}`;
    return { id, events: scenarios[i % scenarios.length]!(id) };
  });
  for (let round = 0; streams.some((s) => s.events.length > round); round++) {
    for (const { id, events } of streams) {
      const event = events[round];
      if (event) await append(store, id, event);
    }
  }
  return streams.map((s) => s.id);
}

const noDifferences = async (t: Test, store: SqliteEventStore, db: Database.Database, upTo?: bigint) => {
  const { checked, differences } = await compareWithFold(store, db, upTo);
  t.same(differences, [], `the read model equals a fresh fold of ${checked} sessions`);
  return checked;
};

t.test('projects the log as it was, then live, equal to a fresh fold', async (t) => {
  const store = openStore(t);
  await appendScenarios(store, 21, 'before');
  const lastBefore = await store.lastPosition();
  // Small batches, so most sessions are folded across several transactions from stored state.
  const projector = startProjector(t, { store, db: store.database, batchSize: 3 });
  t.equal(projector.running, true);
  t.ok(await projector.waitForPosition(lastBefore, 5000), 'catches up');
  await eventually('it says it is caught up', () => projector.caughtUp);
  t.equal(await noDifferences(t, store, store.database), 21);

  await appendScenarios(store, 14, 'after');
  // More facts on sessions that already have rows.
  await append(store, 'before-0', newCredentialsStored('before-0'));
  const { position } = await append(store, 'before-2', newSessionCancelled('before-2'));
  t.ok(await projector.waitForPosition(position, 5000), 'follows live appends');
  t.equal(await noDifferences(t, store, store.database), 35);
  t.equal(projector.position, position);
  t.equal(checkpointOf(store.database), position, 'the checkpoint in the file is the last position applied');
});

t.test('the legacy query answers the bug scenario right', async (t) => {
  const path = freshPath();
  const store = openStore(t, path);
  await append(store, 'bug', newSessionStarted('bug'), newCredentialsStored('bug'), newVmDestroyed('bug'));
  await append(store, 'vm-first', newSessionStarted('vm-first'), newVmDestroyed('vm-first'));
  const { position } = await append(
    store,
    'late-agent',
    newSessionStarted('late-agent'),
    newVmDestroyed('late-agent'),
    newCredentialsStored('late-agent'),
  );
  const projector = startProjector(t, { store, db: store.database });
  t.ok(await projector.waitForPosition(position, 5000));

  // Another connection, as the legacy code would have: plain SQL on the file.
  const legacy = new Database(path, { readonly: true });
  t.teardown(() => legacy.close());
  const query = legacy.prepare('select status, error_message, completed_at from auth_sessions where session_id = ?');
  t.match(query.get('bug'), { status: 'completed', error_message: null }, 'credentials stored, then the VM destroyed: completed');
  t.same(
    query.get('vm-first'),
    { status: 'failed', error_message: 'VM destroyed before OAuth completion', completed_at: null },
    'the VM destroyed first: failed',
  );
  t.match(query.get('late-agent'), { status: 'completed', error_message: null }, 'a late credential still completes');
  const anomalies = legacy.prepare('select anomalies from auth_sessions where session_id = ?').pluck().get('late-agent') as string;
  t.match(JSON.parse(anomalies), [{ kind: 'completedAfterFailure', position: String(position), at: String }], 'positions as decimal strings');
});

t.test('the list: filters, newest first, and cursor pages without gaps or repeats', async (t) => {
  const store = openStore(t);
  const at = (minute: number, offset = 'Z') => {
    const utc = new Date(Date.UTC(2030, 0, 1, 12, minute));
    if (offset === 'Z') return utc.toISOString();
    // The same instant written in another zone: its text sorts elsewhere, its instant does not.
    return `${new Date(utc.getTime() + 2 * 3600_000).toISOString().slice(0, 19)}+02:00`;
  };
  const sessions: { id: string; user: string; provider: string; minute: number; offset?: string; end?: 'completed' | 'failed' }[] = [];
  for (let i = 0; i < 23; i++) {
    sessions.push({
      id: `list-${String(i).padStart(2, '0')}`,
      user: i % 3 === 0 ? 'alice' : 'bob',
      provider: i % 2 === 0 ? 'gemini' : 'codex',
      // Several sessions share a minute, so ties are broken by session id.
      minute: Math.floor(i / 3),
      ...(i % 5 === 0 ? { offset: '+02:00' } : {}),
      ...(i % 4 === 1 ? { end: 'completed' as const } : i % 4 === 2 ? { end: 'failed' as const } : {}),
    });
  }
  let last = 0n;
  for (const s of sessions) {
    const envelope = { metadata: { recordedAt: at(s.minute, s.offset) } };
    const events: NewEvent[] = [newSessionStarted(s.id, { userId: s.user, provider: s.provider }, envelope)];
    if (s.end === 'completed') events.push(newCredentialsStored(s.id, {}, envelope));
    if (s.end === 'failed') events.push(newSessionFailed(s.id, {}, envelope));
    ({ position: last } = await append(store, s.id, ...events));
  }
  const projector = startProjector(t, { store, db: store.database });
  t.ok(await projector.waitForPosition(last, 5000));
  const readModel = openReadModel(store.database);

  const newestFirst = (list: typeof sessions) =>
    [...list].sort((a, b) => b.minute - a.minute || (a.id < b.id ? 1 : -1)).map((s) => s.id);
  /** Follows the cursors to the last page; every page but the last is full. */
  const allPages = (filter: SessionFilter, limit: number) => {
    const ids: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = readModel.sessions({ ...filter, limit, ...(cursor === undefined ? {} : { cursor }) });
      ids.push(...page.sessions.map((row) => row.sessionId));
      sizes.push(page.sessions.length);
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    t.ok(sizes.slice(0, -1).every((size) => size === limit) && sizes.at(-1)! <= limit, `pages of ${limit}: ${sizes.join(', ')}`);
    return { ids, pages: sizes.length };
  };

  const everything = allPages({}, 4);
  t.same(everything.ids, newestFirst(sessions), 'every session once, newest first, ties by session id');
  t.equal(everything.pages, 6);
  t.same(allPages({}, 23).pages, 1, 'a page that holds everything is the last');
  t.same(allPages({ userId: 'alice' }, 3).ids, newestFirst(sessions.filter((s) => s.user === 'alice')), 'by user');
  t.same(allPages({ provider: 'codex' }, 5).ids, newestFirst(sessions.filter((s) => s.provider === 'codex')), 'by provider');
  t.same(allPages({ status: 'pending' }, 2).ids, newestFirst(sessions.filter((s) => s.end === undefined)), 'by status');
  t.same(
    allPages({ userId: 'bob', status: 'completed', provider: 'codex' }, 1).ids,
    newestFirst(sessions.filter((s) => s.user === 'bob' && s.end === 'completed' && s.provider === 'codex')),
    'by all three',
  );
  t.same(readModel.sessions({ userId: 'nobody', limit: 10 }), { sessions: [], nextCursor: null });
  const first = readModel.sessions({ limit: 1 }).sessions[0]!;
  t.same(first, readModel.session(first.sessionId), 'a listed row is the row');

  // A session created after a page was handed out does not disturb the pages after it.
  const page1 = readModel.sessions({ limit: 10 });
  const { position } = await append(store, 'list-newest', newSessionStarted('list-newest', {}, { metadata: { recordedAt: at(59) } }));
  t.ok(await projector.waitForPosition(position, 5000));
  const rest = readModel.sessions({ limit: 100, cursor: page1.nextCursor! });
  t.same([...page1.sessions, ...rest.sessions].map((row) => row.sessionId), newestFirst(sessions));

  for (const cursor of ['', 'not a cursor!', Buffer.from('not json').toString('base64url'), Buffer.from('[1]').toString('base64url'), Buffer.from('["x","y"]').toString('base64url')]) {
    t.throws(() => readModel.sessions({ limit: 5, cursor }), InvalidCursorError, `cursor ${JSON.stringify(cursor)} is refused`);
  }
  t.throws(() => readModel.sessions({ limit: 0 }), RangeError, 'a page holds at least one row');

  // The list's queries run in index order: no sorting of the whole table per page.
  for (const [filter, index] of [
    ['', 'auth_sessions_newest'],
    ['where user_id = ?', 'auth_sessions_by_user'],
    ['where status = ?', 'auth_sessions_by_status'],
    ['where provider = ?', 'auth_sessions_by_provider'],
  ] as const) {
    const where = filter === '' ? 'where (created_at_ms, session_id) < (?, ?)' : `${filter} and (created_at_ms, session_id) < (?, ?)`;
    const params = filter === '' ? [0, ''] : ['x', 0, ''];
    const plan = (store.database.prepare(`explain query plan select * from auth_sessions ${where} order by created_at_ms desc, session_id desc limit 5`).all(...params) as { detail: string }[])
      .map((row) => row.detail)
      .join('; ');
    t.match(plan, index, `${filter || 'no filter'}: ${plan}`);
    t.notMatch(plan, 'TEMP B-TREE', 'no sort step');
  }
});

t.test('sessions of a VM, and counts by status', async (t) => {
  const store = openStore(t);
  const projector = startProjector(t, { store, db: store.database });
  const readModel = openReadModel(store.database);
  t.same(readModel.countByStatus(), { pending: 0, completed: 0, failed: 0, cancelled: 0 }, 'every status, zeros included');

  await append(store, 'a', newSessionStarted('a', { browserVmId: 'vm-shared' }), newCredentialsStored('a'));
  await append(store, 'b', newSessionStarted('b', { browserVmId: 'vm-shared' }), newVmDestroyed('b', { vmId: 'vm-shared' }));
  await append(store, 'c', newSessionStarted('c', { browserVmId: 'vm-c' }));
  const { position } = await append(store, 'd', newSessionStarted('d', { browserVmId: 'vm-d' }), newSessionFailed('d'));
  t.ok(await projector.waitForPosition(position, 5000));

  t.same(readModel.sessionIdsOfVm('vm-shared'), ['a', 'b']);
  t.same(readModel.sessionIdsOfVm('vm-c'), ['c']);
  t.same(readModel.sessionIdsOfVm('vm-unknown'), []);
  t.same(readModel.countByStatus(), { pending: 1, completed: 1, failed: 2, cancelled: 0 });
  t.equal(readModel.session('unknown'), null);
});

t.test('waitForPosition and lag', async (t) => {
  const store = openStore(t);
  await appendScenarios(store, 10, 's');
  const last = await store.lastPosition();
  const projector = createProjector({ store, db: store.database });
  t.teardown(() => projector.stop());
  t.equal(projector.position, 0n);
  t.equal(await projector.lag(), last, 'before it starts, the whole log is ahead');
  t.equal(await projector.waitForPosition(1n, 20), false, 'a position not reached by the timeout: false');

  const reached = projector.waitForPosition(last, 5000);
  projector.start();
  t.equal(await reached, true, 'a waiter is answered once the position is applied');
  t.equal(await projector.lag(), 0n);
  t.equal(await projector.waitForPosition(1n, 0), true, 'a position already passed: true at once');
  t.equal(await projector.waitForPosition(last + 1n, 30), false, 'a position not yet in the log: false after the timeout');

  await projector.stop();
  t.equal(projector.running, false);
  t.equal(projector.caughtUp, false, 'a stopped projector is not following the log');
  await append(store, 'later', newSessionStarted('later'));
  t.ok((await projector.lag()) > 0n, 'a stopped projector falls behind');
});

t.test('onChange hands each committed batch its changed rows; a throwing listener harms nothing', async (t) => {
  const store = openStore(t);
  const warnings: string[] = [];
  const logger: PartLogger = { info() {}, warn: (_fields, message) => warnings.push(message), error() {} };
  const projector = startProjector(t, { store, db: store.database, logger });
  const batches: (readonly SessionRow[])[] = [];
  const unsubscribeThrower = projector.onChange(() => {
    throw new Error('a buggy listener');
  });
  const unsubscribe = projector.onChange((rows) => batches.push(rows));
  // A listener is typed as returning void, and any function fits that type: an async one
  // too, whose rejection the projector must catch as well.
  const asyncThrower: () => unknown = async () => {
    throw new Error('a buggy async listener');
  };
  const unsubscribeAsync = projector.onChange(asyncThrower);
  await eventually('caught up', () => projector.caughtUp);

  await append(store, 'x', newSessionStarted('x'));
  const { position } = await append(store, 'x', newCredentialsStored('x'));
  t.ok(await projector.waitForPosition(position, 5000));
  const seen = batches.flat();
  t.same(
    seen.map((row) => [row.sessionId, row.status]),
    seen.length === 1 ? [['x', 'completed']] : [['x', 'pending'], ['x', 'completed']],
    'the rows as committed, in position order',
  );
  t.same(seen.at(-1), openReadModel(store.database).session('x'), 'the listener sees the row the table holds');
  await eventually('both listener failures are logged', () => warnings.length >= 2);
  t.same(new Set(warnings), new Set(['a read-model change listener threw']), 'listener errors are logged, sync or async');

  // Appends made in one go are read in one go and committed as one batch: each changed row
  // once, ordered by the position of its last event.
  batches.length = 0;
  unsubscribeThrower();
  unsubscribeAsync();
  const appends = [
    append(store, 'y', newSessionStarted('y')),
    append(store, 'w', newSessionStarted('w')),
    append(store, 'y', newCredentialsStored('y')),
  ];
  const y = (await Promise.all(appends)).at(-1)!;
  t.ok(await projector.waitForPosition(y.position, 5000));
  t.same(batches.map((rows) => rows.map((row) => [row.sessionId, row.status])), [[['w', 'pending'], ['y', 'completed']]]);
  unsubscribe();
  const z = await append(store, 'z', newSessionStarted('z'));
  t.ok(await projector.waitForPosition(z.position, 5000));
  t.equal(batches.length, 1, 'an unsubscribed listener hears nothing more');
  t.equal(projector.failure, null);
});

t.test('stopped mid-run while appends go on, a new projector on the file resumes exactly', async (t) => {
  const path = freshPath();
  const store = openStore(t, path);
  const first = createProjector({ store, db: store.database, batchSize: 4 });
  let batches = 0;
  let stopped: Promise<void> | undefined;
  first.onChange(() => {
    // Stopped from inside the run, with appends still arriving.
    if (++batches === 10) stopped = first.stop();
  });
  first.start();
  const appending = appendScenarios(store, 60, 'busy');
  await eventually('the first projector was stopped', () => stopped !== undefined);
  await stopped;
  t.equal(first.running, false);
  const stoppedAt = first.position;
  t.ok(stoppedAt > 0n, 'it had applied some events');
  t.equal(checkpointOf(store.database), stoppedAt, 'the checkpoint is the last position applied');
  await noDifferences(t, store, store.database, stoppedAt);

  await appending;
  const last = await store.lastPosition();
  t.ok(stoppedAt < last, 'the log went on without it');

  // A new process's worth: another connection to the same file, another projector.
  const reopened = openStore(t, path);
  const second = startProjector(t, { store: reopened, db: reopened.database, batchSize: 4 });
  t.equal(second.position, stoppedAt, 'it starts from the checkpoint');
  t.ok(await second.waitForPosition(last, 5000));
  t.equal(await noDifferences(t, reopened, reopened.database), 60);
  t.equal(checkpointOf(reopened.database), last);
});

t.test('two projectors on one file never apply an event twice', async (t) => {
  const path = freshPath();
  const a = openStore(t, path);
  const b = openStore(t, path);
  const one = startProjector(t, { store: a, db: a.database, batchSize: 5 });
  const two = startProjector(t, { store: b, db: b.database, batchSize: 3 });
  await appendScenarios(a, 30, 'both');
  const last = await a.lastPosition();
  // Each follows the log; whichever commits a batch first, the other skips it.
  t.ok(await one.waitForPosition(last, 5000));
  t.ok(await two.waitForPosition(last, 5000));
  await noDifferences(t, a, a.database);
});

t.test('the read model in a file of its own, as in EventStoreDB mode', async (t) => {
  const store = openStore(t);
  const readModelPath = freshPath();
  // A plain connection: integers are not bigints by default, and the read model must not care.
  const db = new Database(readModelPath);
  t.teardown(() => db.close());
  const projector = startProjector(t, { store, db });
  await appendScenarios(store, 8, 'own');
  t.ok(await projector.waitForPosition(await store.lastPosition(), 5000));
  await noDifferences(t, store, db);
  const tables = db.prepare("select name from sqlite_master where type = 'table' order by name").pluck().all();
  t.same(
    tables,
    ['auth_sessions', 'projector_checkpoint', 'read_model_version', 'seals', 'session_outcome_states', 'session_outcomes', 'webhook_checkpoint', 'webhook_dead_letters', 'webhook_replays'],
    'only the read models (and the seals of the log, and the webhooks\' checkpoints, dead letters and replay requests) live there',
  );
  t.same(db.prepare('select version from read_model_version').pluck().all(), readModelSchema.migrations.map((_, index) => index + 1));
});

t.test('the read model schema is versioned on its own', async (t) => {
  const path = freshPath();
  const store = openStore(t, path);
  openReadModel(store.database);
  openReadModel(store.database);
  const versionsOf = (schema: Schema) => schema.migrations.map((_, index) => BigInt(index + 1));
  t.same(store.database.prepare('select version from read_model_version').pluck().all(), versionsOf(readModelSchema), 'each applied once');
  t.same(store.database.prepare('select version from schema_version').pluck().all(), versionsOf(eventStoreSchema), "the store's own versions untouched");
  store.database.prepare('insert into read_model_version (version, applied_at) values (?, ?)').run(readModelSchema.migrations.length + 1, 'later');
  t.throws(() => openReadModel(store.database), SchemaTooNewError, 'a read model from a newer ledger is refused');
  const refusal = (() => {
    try {
      openReadModel(store.database);
    } catch (error) {
      return error;
    }
  })();
  const supported = readModelSchema.migrations.length;
  t.match(refusal, {
    versionTable: 'read_model_version',
    found: supported + 1,
    supported,
    message: `read_model_version ${supported + 1}, newer than this ledger's ${supported}`,
  });
});

t.test('a failed subscription is resubscribed from the checkpoint', async (t) => {
  const store = openStore(t);
  // More events than a page of the store's subscription, so it fails with a batch half-gathered.
  const many = [newSessionStarted('good'), ...Array.from({ length: 600 }, () => newCredentialsStored('good'))];
  await append(store, 'good', ...many);
  // An event this ledger cannot decode (say, written by a newer one): reading it throws.
  const { lastInsertRowid: odd } = store.database
    .prepare(
      "insert into events (stream_name, category, revision, event_id, type, data, metadata) values ('authSession-odd', 'authSession', 0, ?, 'SessionStarted', '{}', ?)",
    )
    .run(randomUUID(), JSON.stringify({ actor: { role: 'controller', sub: 't' }, recordedAt: new Date().toISOString(), schemaVersion: 1 }));
  const { position: last } = await append(store, 'after', newSessionStarted('after'));
  let failures = 0;
  let sawFailure: () => void = () => {};
  const failed = new Promise<void>((resolve) => (sawFailure = resolve));
  const logger: PartLogger = {
    info() {},
    warn(_fields, message) {
      if (message.includes('resubscribing')) failures++;
      if (failures === 2) sawFailure();
    },
    error() {},
  };
  const projector = startProjector(t, { store, db: store.database, batchSize: 1000, retryDelayMs: 10, logger });
  await failed;
  t.equal(projector.running, true, 'still running: a subscription failure is not the read model failing');
  t.equal(projector.failure, null);
  t.equal(projector.caughtUp, false);
  t.ok(projector.position < BigInt(odd), 'stuck before the event it cannot read, and not past it');

  // Once the log reads again, the next attempt goes on from the checkpoint.
  store.database
    .prepare("update events set data = ? where stream_name = 'authSession-odd'")
    .run(JSON.stringify({ sessionId: 'odd', userId: 'u', provider: 'gemini', browserVmId: 'vm', expiresAt: '2030-01-01T00:00:00.000Z' }));
  t.ok(await projector.waitForPosition(last, 5000));
  await noDifferences(t, store, store.database);
});

t.test('a batch that cannot be written stops the projector with its failure; nothing is half-written', async (t) => {
  const store = openStore(t);
  await append(store, 'a', newSessionStarted('a'));
  const { position: last } = await append(store, 'b', newSessionStarted('b'), newCredentialsStored('b'));
  openReadModel(store.database);
  store.database.exec(
    "create trigger refuse before insert on auth_sessions when new.session_id = 'b' begin select raise(abort, 'the read model refuses b'); end",
  );
  const errors: string[] = [];
  const logger: PartLogger = { info() {}, warn() {}, error: (_fields, message) => errors.push(message) };
  const projector = startProjector(t, { store, db: store.database, logger });
  await eventually('the projector stopped', () => !projector.running);
  t.match(projector.failure, { message: 'the read model refuses b' });
  t.same(errors, ['projector stopped: a batch could not be applied']);
  t.equal(checkpointOf(store.database), 0n, 'the checkpoint did not move');
  t.same(readModelRows(store.database), [], 'and no row of the batch was written');

  // Started again once the cause is gone, it applies everything from the checkpoint.
  store.database.exec('drop trigger refuse');
  projector.start();
  t.equal(projector.failure, null);
  t.ok(await projector.waitForPosition(last, 5000));
  await noDifferences(t, store, store.database);
});

t.test('a closed store stops the projector', async (t) => {
  const store = openSqliteEventStore({ path: freshPath(), synchronous: 'NORMAL' });
  const projector = startProjector(t, { store, db: store.database, retryDelayMs: 5 });
  await eventually('caught up', () => projector.caughtUp);
  await store.close();
  await eventually('the projector stopped', () => !projector.running);
  t.type(projector.failure, StoreClosedError);
});

t.test('logs say where the projector is, never what the events hold', async (t) => {
  const store = openStore(t);
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const secretish = 'user-whose-id-must-not-be-logged';
  await append(store, 'p', newSessionStarted('p', { userId: secretish }), newCredentialsStored('p', { credentialRef: secretish }));
  const projector = startProjector(t, { store, db: store.database, logger, retryDelayMs: 5 });
  projector.onChange(() => {
    throw new Error('listener failure');
  });
  t.ok(await projector.waitForPosition(await store.lastPosition(), 5000));
  await eventually('caught up', () => projector.caughtUp);
  await projector.stop();
  const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
  t.same(messages, [
    'projector starting from its checkpoint',
    'a read-model change listener threw',
    'projector caught up; following live',
    'projector stopped',
  ]);
  t.notMatch(lines.join('\n'), secretish);
});

t.test('an event of the category that names no session moves the checkpoint and no row', async (t) => {
  const store = openStore(t);
  // `authSession` alone is in the category, but is no session's stream.
  const { position: stray } = await store.append('authSession', [newSessionStarted('stray')]);
  const { position } = await append(store, 'real', newSessionStarted('real'));
  const projector = startProjector(t, { store, db: store.database, batchSize: 1 });
  t.ok(await projector.waitForPosition(stray, 5000));
  t.ok(await projector.waitForPosition(position, 5000));
  t.same(readModelRows(store.database).map((row) => row.sessionId), ['real']);
});

t.test('a version table name is an identifier, never SQL', async (t) => {
  const db = new Database(':memory:');
  t.teardown(() => db.close());
  t.throws(() => migrate(db, { versionTable: 'v; drop table events', migrations: [] }), TypeError);
  t.equal(migrate(db, { versionTable: 'empty_version', migrations: [] }), 0, 'an empty schema is fine');
});

t.test('options are checked', async (t) => {
  const store = openStore(t);
  t.throws(() => createProjector({ store, db: store.database, batchSize: 0 }), RangeError);
  t.throws(() => createProjector({ store, db: store.database, retryDelayMs: -1 }), RangeError);
  t.equal(CHECKPOINT_NAME, 'auth_sessions');
});

t.test('a long catch-up lets the event loop turn between batches, so requests are served meanwhile', async (t) => {
  const store = openStore(t);
  for (let i = 0; i < 200; i++) await append(store, `s-${i}`, newSessionStarted(`s-${i}`), newCredentialsStored(`s-${i}`));
  const last = await store.lastPosition();
  const batchSize = 20;
  const commits: bigint[] = [];
  // What a server's timers and sockets would get: a turn of the loop, counted with where the projector stood.
  const turnsAt: bigint[] = [];
  const projector = createProjector({ store, db: store.database, batchSize, onCommitted: (position) => commits.push(position) });
  t.teardown(() => projector.stop());
  let turning = true;
  const turn = () => {
    turnsAt.push(projector.position);
    if (turning) setImmediate(turn);
  };
  setImmediate(turn);
  projector.start();
  t.ok(await projector.waitForPosition(last, 10_000), 'catches up');
  turning = false;
  t.equal(commits.length, Number(last) / batchSize, 'in full batches');
  const midway = new Set(turnsAt.filter((position) => position > 0n && position < last));
  t.ok(midway.size >= commits.length - 1, `the loop turned between every two batches (${midway.size} positions seen midway)`);
});

t.test('a steady stream of appends, one per turn of the event loop, is written before the next append', async (t) => {
  const store = openStore(t);
  const committed: bigint[] = [];
  const projector = startProjector(t, { store, db: store.database, onCommitted: (position) => committed.push(position) });
  await eventually('it is caught up', () => projector.caughtUp);
  // How many appends came after each one before it was seen written: a held batch shows as many.
  const behind: number[] = [];
  const unwritten: { index: number; position: bigint }[] = [];
  const count = 300;
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    while (unwritten.length > 0 && unwritten[0]!.position <= projector.position) behind.push(i - 1 - unwritten.shift()!.index);
    const { position } = await append(store, `steady-${i}`, newSessionStarted(`steady-${i}`));
    unwritten.push({ index: i, position });
  }
  for (const { index } of unwritten) behind.push(count - 1 - index);
  t.ok(await projector.waitForPosition(await store.lastPosition(), 5000));
  t.ok(committed.length >= count / 3, `written in many small batches as the appends came (${committed.length} commits for ${count} appends)`);
  t.equal(Math.max(...behind), 0, 'each append was written before the next one was made');
});

t.test('a row updated event by event holds, column by column, what one written at once holds', async (t) => {
  const store = openStore(t);
  await appendScenarios(store, 21, 'cols');
  // A session's later events update only the columns they change; its start (even a late one) rewrites the row.
  await append(store, 'cols-0', newSessionFailed('cols-0'), newSessionStarted('cols-0', { userId: 'someone-else' }));
  const last = await store.lastPosition();
  const everyColumn = async (batchSize: number) => {
    const db = new Database(freshPath());
    t.teardown(() => db.close());
    const projector = startProjector(t, { store, db, batchSize });
    t.ok(await projector.waitForPosition(last, 5000), `caught up in batches of ${batchSize}`);
    return db.prepare('select * from auth_sessions order by session_id').all();
  };
  const byEvent = await everyColumn(1);
  const atOnce = await everyColumn(10_000);
  t.equal(atOnce.length, 21);
  t.same(byEvent, atOnce, 'every column the same, the indexed ones included');
});
