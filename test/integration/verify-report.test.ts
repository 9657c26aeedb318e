/**
 * `verifyLedger`'s report, case by case: a real SQLite event store, and a read model given
 * row by row (what the projector would have written, or a row edited), so each case shows
 * one rule of the check: which sessions are walked, up to where each row is compared, what
 * an undecodable event does, how `session_outcomes` is held to a fresh fold, and which
 * streams a broken seal is blamed on. test/integration/audit.test.ts runs it on whole ledgers.
 */
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { fold, HOUR_MS } from '../../projections/index.js';
import { headsHasher } from '../../src/audit/heads.js';
import { sealHash, signSeal, type SealStatement } from '../../src/audit/seals.js';
import { verifyLedger, type VerifyOptions } from '../../src/audit/verify.js';
import type { Seal } from '../../src/contract/index.js';
import { categoryOf, ledgerEventCodec, sessionStreamName, type NewEvent, type StoredEvent } from '../../src/events/index.js';
import type { OutcomeCount } from '../../src/projector/outcomes-read-model.js';
import { sessionRowOf, type SessionRow } from '../../src/projector/session-row.js';
import { openSqliteEventStore, type SqliteEventStore } from '../../src/store/sqlite/index.js';
import { newCredentialsStored, newSessionFailed, newSessionStarted, newVmDestroyed, timeOf } from '../support/events.js';
import { editAndRechain } from '../support/tamper.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-verify-report-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** A fresh store on a file of its own, closed when the test ends. */
function freshStore(t: Test): { store: SqliteEventStore; path: string } {
  const path = join(dir, `${++files}.db`);
  const store = openSqliteEventStore({ path });
  t.teardown(() => store.close());
  return { store, path };
}

const at = (recordedAt: string) => ({ metadata: { recordedAt } });

/** Appends one event to a session's stream; its position. */
async function append(store: SqliteEventStore, sessionId: string, event: NewEvent): Promise<bigint> {
  return (await store.append(sessionStreamName(sessionId), [event])).position;
}

/** The row the projector writes for a session once it has folded the log up to `position`. */
async function rowAt(store: SqliteEventStore, sessionId: string, position: bigint): Promise<SessionRow> {
  return sessionRowOf(sessionId, fold((await store.readStream(sessionStreamName(sessionId))).filter((event) => event.position <= position)));
}

/** A read model holding exactly these rows, with this checkpoint. */
function readModelOf(checkpoint: bigint, rows: readonly SessionRow[]): VerifyOptions['readModel'] {
  const byId = new Map(rows.map((row) => [row.sessionId, row]));
  const ids = [...byId.keys()].sort();
  return {
    checkpoint: () => checkpoint,
    session: (sessionId) => byId.get(sessionId) ?? null,
    sessionIdsAfter: (after, limit) => ids.filter((id) => id > after).slice(0, limit),
    countSessions: () => ids.length,
  };
}

/** Rows for each session, as projected up to `checkpoint`: a read model as it should be. */
async function projected(store: SqliteEventStore, checkpoint: bigint, sessionIds: readonly string[]) {
  return readModelOf(checkpoint, await Promise.all(sessionIds.map((id) => rowAt(store, id, checkpoint))));
}

t.test("the log's sessions and the read model's rows, interleaved and paged: each checked once, in order", async (t) => {
  const { store } = freshStore(t);
  // Ids that sort before letters too, so a walk that does not start at the very beginning shows.
  for (const id of ['1-both', '2-log', '4-both', '6-log']) await append(store, id, newSessionStarted(id));
  await append(store, '1-both', newCredentialsStored('1-both'));
  await append(store, '4-both', newVmDestroyed('4-both'));
  // Of the category, but no session's stream; and a stream of another category.
  await store.append('authSession', [newSessionStarted('not-a-session')]);
  await store.append('other-1', [newSessionStarted('other-1')]);
  const checkpoint = await store.lastPosition();
  const both = await Promise.all(['1-both', '4-both'].map((id) => rowAt(store, id, checkpoint)));
  const rowOnly = ['3-row', '5-row', '7-row'].map((sessionId) => ({ ...both[0]!, sessionId }));
  const progress: [number, number][] = [];

  const report = await verifyLedger({
    store,
    readModel: readModelOf(checkpoint, [...both, ...rowOnly]),
    pageSize: 2,
    onProgress: (checked, total) => progress.push([checked, total]),
  });

  t.same(
    report.differences.map(({ sessionId, column, readModel, fold }) => [sessionId, column, readModel === 'missing', fold === 'missing']),
    [
      ['2-log', 'row', true, false],
      ['3-row', 'row', false, true],
      ['5-row', 'row', false, true],
      ['6-log', 'row', true, false],
      ['7-row', 'row', false, true],
    ],
    'a stream without a row, and a row without a stream, each named as missing on its side',
  );
  t.match(report.differences[0], { fold: /^\{"sessionId":"2-log",.*"status":"pending"/ }, 'the side that has it shows the whole row');
  t.match(report.differences[1], { readModel: /^\{"sessionId":"3-row",.*"status":"completed"/ });
  t.same(
    { position: report.position, checked: report.checked, events: report.events, chainBreaks: report.chainBreaks, undecodable: report.undecodable, clean: report.clean },
    { position: String(checkpoint), checked: 7, events: 6, chainBreaks: [], undecodable: [], clean: false },
    'seven sessions, the six events of their streams; the other streams are no session',
  );
  t.same(progress, [[1, 5], [2, 5], [3, 5], [4, 5], [5, 5], [6, 6], [7, 7]], 'progress counts up to the rows, then past them');
  t.notOk('seals' in report, 'no seals given, none reported');
  t.notOk('outcomeDifferences' in report, 'no outcomes given, none reported');
});

t.test('each row is compared with the log up to the checkpoint, or up to its own position when the projector has moved on', async (t) => {
  const { store } = freshStore(t);
  await append(store, 'x-ahead', newSessionStarted('x-ahead', {}, at(timeOf(0))));
  const staleAt = await append(store, 'z-stale', newSessionStarted('z-stale', {}, at(timeOf(1))));
  const completedAt = await append(store, 'z-stale', newCredentialsStored('z-stale', {}, at(timeOf(2))));
  const checkpoint = await append(store, 'y-behind-log', newSessionStarted('y-behind-log', {}, at(timeOf(3))));
  // After the checkpoint: the projector has folded x-ahead's credentials, not yet y's; w is new.
  const ahead = await append(store, 'x-ahead', newCredentialsStored('x-ahead', {}, at(timeOf(4))));
  await append(store, 'y-behind-log', newCredentialsStored('y-behind-log', {}, at(timeOf(5))));
  await append(store, 'w-new', newSessionStarted('w-new', {}, at(timeOf(6))));
  const rows = [await rowAt(store, 'x-ahead', ahead), await rowAt(store, 'y-behind-log', checkpoint), await rowAt(store, 'z-stale', staleAt)];

  const report = await verifyLedger({ store, readModel: readModelOf(checkpoint, rows) });

  const show = JSON.stringify;
  t.same(
    report.differences,
    [
      { sessionId: 'z-stale', column: 'status', readModel: '"pending"', fold: '"completed"' },
      { sessionId: 'z-stale', column: 'completedAt', readModel: 'null', fold: show(timeOf(2)) },
      { sessionId: 'z-stale', column: 'updatedAt', readModel: show(timeOf(1)), fold: show(timeOf(2)) },
      { sessionId: 'z-stale', column: 'revision', readModel: '"0"', fold: '"1"' },
      { sessionId: 'z-stale', column: 'position', readModel: show(String(staleAt)), fold: show(String(completedAt)) },
    ],
    'only the row that missed an event before the checkpoint, column by column',
  );
  t.match(report, { checked: 4, chainBreaks: [], undecodable: [], clean: false }, 'a session all after the checkpoint, with no row yet, is no difference');
});

t.test('an event no schema reads any more is named; its session is not compared nor counted, and the rest still is', async (t) => {
  const { store, path } = freshStore(t);
  await append(store, 'u-undecodable', newSessionStarted('u-undecodable'));
  await append(store, 'u-undecodable', newCredentialsStored('u-undecodable'));
  await append(store, 'v-fine', newSessionStarted('v-fine', {}, at('2030-01-01T10:05:00.000Z')));
  const checkpoint = await store.lastPosition();
  const readModel = await projected(store, checkpoint, ['u-undecodable', 'v-fine']);
  // Its data cut down, and its chain recomputed: the log is whole, but no longer readable.
  editAndRechain(path, 'u-undecodable', 1, ({ sessionId }) => ({ sessionId }));
  const outcomes = {
    snapshot: () => ({ position: checkpoint, counts: [{ hour: Date.parse('2030-01-01T10:00:00.000Z') / HOUR_MS, provider: 'gemini', status: 'pending', failureReason: null, sessions: 1 }] as OutcomeCount[] }),
  };

  const report = await verifyLedger({ store, readModel, outcomes });

  t.match(report.undecodable, [{ sessionId: 'u-undecodable', revision: '1', reason: /^cannot decode event 1 of authSession-u-undecodable: data: / }]);
  t.equal(report.undecodable.length, 1);
  t.same(
    [report.differences, report.chainBreaks, report.outcomeDifferences, report.checked, report.clean],
    [[], [], [], 2, false],
    'nothing else is wrong, and that alone makes it unclean',
  );
});

t.test('session_outcomes against a fresh fold of the log up to its own checkpoint, bucket by bucket, either way', async (t) => {
  const { store } = freshStore(t);
  await append(store, 'a', newSessionStarted('a', {}, at('2030-01-01T10:05:00.000Z')));
  await append(store, 'b', newSessionStarted('b', {}, at('2030-01-01T10:30:00.000Z')));
  await append(store, 'b', newVmDestroyed('b', {}, at('2030-01-01T10:31:00.000Z')));
  await append(store, 'c', newSessionStarted('c', {}, at('2030-01-01T10:40:00.000Z')));
  const counted = await append(store, 'd', newSessionStarted('d', { provider: 'codex' }, at('2030-01-01T11:10:00.000Z')));
  // After the projection's checkpoint: d still counts as pending there, and e not at all.
  await append(store, 'd', newCredentialsStored('d', { provider: 'codex' }, at('2030-01-01T11:12:00.000Z')));
  await append(store, 'e', newSessionStarted('e', {}, at('2030-01-01T11:20:00.000Z')));
  const checkpoint = await store.lastPosition();
  const readModel = await projected(store, checkpoint, ['a', 'b', 'c', 'd', 'e']);
  const hour = (iso: string) => Date.parse(iso) / HOUR_MS;
  const tenPending: OutcomeCount = { hour: hour('2030-01-01T10:00:00.000Z'), provider: 'gemini', status: 'pending', failureReason: null, sessions: 2 };
  const tenFailed: OutcomeCount = { hour: hour('2030-01-01T10:00:00.000Z'), provider: 'gemini', status: 'failed', failureReason: 'vmDestroyed', sessions: 1 };
  const elevenPending: OutcomeCount = { hour: hour('2030-01-01T11:00:00.000Z'), provider: 'codex', status: 'pending', failureReason: null, sessions: 1 };
  const verify = (counts: OutcomeCount[]) => verifyLedger({ store, readModel, outcomes: { snapshot: () => ({ position: counted, counts }) } });

  t.match(await verify([tenPending, tenFailed, elevenPending]), { outcomeDifferences: [], clean: true }, 'the counts a fresh fold gives');

  const off = await verify([{ ...tenPending, sessions: 3 }, { hour: hour('2030-01-01T12:00:00.000Z'), provider: 'claude-code', status: 'cancelled', failureReason: null, sessions: 1 }, elevenPending]);
  t.same(
    off.outcomeDifferences,
    [
      { hour: '2030-01-01T10:00:00.000Z', provider: 'gemini', status: 'pending', failureReason: null, readModel: 3, fold: 2 },
      { hour: '2030-01-01T12:00:00.000Z', provider: 'claude-code', status: 'cancelled', failureReason: null, readModel: 1, fold: 0 },
      { hour: '2030-01-01T10:00:00.000Z', provider: 'gemini', status: 'failed', failureReason: 'vmDestroyed', readModel: 0, fold: 1 },
    ],
    'a count off, a bucket the fold does not give, and one the projection lacks',
  );
  t.same([off.differences, off.chainBreaks, off.undecodable, off.clean], [[], [], [], false], 'that alone makes it unclean');
});

// ---- seals ---------------------------------------------------------------------------------

/** The chain's formula as the README gives it to auditors, for heads recorded before the chain. */
const auditorsHash = (previous: string, event: StoredEvent) =>
  createHash('sha256')
    .update([previous, event.streamName, String(event.revision), event.eventId, event.type, event.dataJson, event.metadataJson].join('\n'))
    .digest('hex');

/** The heads of every session stream as of `position`, hashed as a seal signs them (`heads.ts`). */
async function headsAt(store: SqliteEventStore, position: bigint): Promise<string> {
  const heads = headsHasher();
  for (const streamName of await store.readStreamNames({ category: 'authSession' })) {
    if (streamName === 'authSession') continue;
    let previous = '0'.repeat(64);
    let head: { revision: bigint; hash: string } | undefined;
    for (const event of await store.readStoredStream(streamName)) {
      previous = auditorsHash(previous, event);
      if (event.position <= position) head = { revision: event.revision, hash: event.hash ?? previous };
    }
    if (head) heads.add(streamName, head.revision, head.hash);
  }
  return heads.digest();
}

/** Seals at each position, chained and signed as the sealer does. */
async function sealsAt(store: SqliteEventStore, positions: readonly bigint[], privateKey: KeyObject): Promise<Seal[]> {
  const seals: Seal[] = [];
  let previous: SealStatement | null = null;
  for (const [index, position] of positions.entries()) {
    const statement: SealStatement = { position: String(position), headsHash: await headsAt(store, position), previousSeal: previous && sealHash(previous), sealedAt: timeOf(index) };
    seals.push(signSeal(statement, privateKey));
    previous = statement;
  }
  return seals;
}

/** Writes events to a new stream as a ledger did before the chain: no hash. */
function appendBeforeTheChain(store: SqliteEventStore, sessionId: string, events: readonly NewEvent[]) {
  const insert = store.database.prepare('insert into events (stream_name, category, revision, event_id, type, data, metadata) values (?, ?, ?, ?, ?, ?, ?)');
  const streamName = sessionStreamName(sessionId);
  for (const [revision, event] of events.entries()) {
    const prepared = ledgerEventCodec.prepare(event);
    insert.run(streamName, categoryOf(streamName), revision, prepared.eventId, prepared.type, prepared.dataJson, prepared.metadataJson);
  }
}

t.test('seals over a stream begun before the chain: a head without a hash of its own is the one its place gives', async (t) => {
  const { store } = freshStore(t);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // Three events, so the first chained one must link over the last of them.
  appendBeforeTheChain(store, 'p-legacy', [newSessionStarted('p-legacy'), newVmDestroyed('p-legacy'), newSessionFailed('p-legacy')]);
  const first = await append(store, 'q-chained', newSessionStarted('q-chained'));
  await append(store, 'p-legacy', newCredentialsStored('p-legacy'));
  const second = await append(store, 'q-chained', newCredentialsStored('q-chained'));
  const checkpoint = await store.lastPosition();
  const readModel = await projected(store, checkpoint, ['p-legacy', 'q-chained']);
  const seals = await sealsAt(store, [first, second], privateKey);

  const report = await verifyLedger({ store, readModel, seals: { seals, publicKey } });
  t.same([report.seals, report.chainBreaks, report.differences, report.clean], [{ checked: 2, broken: null }, [], [], true], 'every seal holds, and the old events break no chain');

  const otherKey = generateKeyPairSync('ed25519').publicKey;
  const misKeyed = await verifyLedger({ store, readModel, seals: { seals, publicKey: otherKey } });
  t.same(
    [misKeyed.seals?.broken, misKeyed.clean],
    [{ index: 0, position: String(first), sealedAt: timeOf(0), reason: 'signature', streams: [] }, false],
    'checked with another key: the first seal is broken, and that alone makes it unclean',
  );
});

t.test('a broken seal is blamed on every stream this run found trouble in, and on no other', async (t) => {
  const { store, path } = freshStore(t);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  for (const id of ['m-no-row', 'q-forged', 'r-row-edited', 's-fine', 'u-undecodable']) await append(store, id, newSessionStarted(id));
  await append(store, 's-fine', newCredentialsStored('s-fine'));
  const checkpoint = await store.lastPosition();
  const seals = await sealsAt(store, [checkpoint], privateKey);
  // After the checkpoint, not projected yet: no trouble.
  await append(store, 'w-new', newSessionStarted('w-new'));
  const rows = await Promise.all(['q-forged', 'r-row-edited', 's-fine', 'u-undecodable'].map((id) => rowAt(store, id, checkpoint)));
  const edited = rows.map((row) => (row.sessionId === 'r-row-edited' ? { ...row, status: 'completed' as const } : row));
  // The careful forger: another user, the chain recomputed, so only the seal sees it.
  editAndRechain(path, 'q-forged', 0, (data) => ({ ...data, userId: 'someone-else' }));
  editAndRechain(path, 'u-undecodable', 0, ({ sessionId }) => ({ sessionId }));

  const report = await verifyLedger({ store, readModel: readModelOf(checkpoint, edited), seals: { seals, publicKey } });

  t.same(report.seals, { checked: 1, broken: { index: 0, position: String(checkpoint), sealedAt: timeOf(0), reason: 'heads', streams: ['m-no-row', 'q-forged', 'r-row-edited', 'u-undecodable'] } });
  t.same(report.chainBreaks, [], 'the forged chains hold');
  t.same(report.undecodable.map(({ sessionId }) => sessionId), ['u-undecodable']);
  t.same(
    report.differences.map(({ sessionId, column }) => [sessionId, column]),
    [
      ['m-no-row', 'row'],
      ['q-forged', 'userId'],
      ['r-row-edited', 'status'],
    ],
  );
});
