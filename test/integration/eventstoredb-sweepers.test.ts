import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { EXPIRED_FAILURE } from '../../projections/index.js';
import { createCommandHandler, type CommandHandler } from '../../src/application/command-handler.js';
import { createLedger, ledgerOptionsOf } from '../../src/application/create-ledger.js';
import { loadConfig } from '../../src/config.js';
import { sessionStreamName } from '../../src/events/index.js';
import type { SqliteReadModel } from '../../src/projector/sqlite-read-model.js';
import { WrongExpectedRevisionError } from '../../src/store/errors.js';
import type { AppendResult, EventStore } from '../../src/store/port.js';
import { createDeadlineSweeper, expiryEventId, SWEEPER_ACTOR } from '../../src/application/deadline-sweeper.js';
import { startEsdbEmulator, type EsdbEmulator } from '../emulator/esdb-emulator.js';
import { compareWithFold, sessionEvents } from '../support/read-model-check.js';
import { at, expiriesOf, startSession, storeCredentials, T0 } from '../support/sweeper-steps.js';
import { signal, within } from '../support/waits.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-esdb-sweepers-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The time the test moves by hand, and each instance's clock on it. Instances' clocks never
 * agree exactly: B's runs behind A's, so the `recordedAt` of an expiry tells which one wrote it.
 */
function world() {
  let now = T0;
  return {
    moveTo: (minutes: number) => void (now = T0 + minutes * 60_000),
    clockOf: (skewMs: number) => () => new Date(now + skewMs),
  };
}
const A_SKEW_MS = 0;
const B_SKEW_MS = -2000;

/**
 * One ledger instance as `ledger serve` wires it on EventStoreDB: its own client connection,
 * its own read-model file fed by its own projector, and its own command handler, all on its
 * own clock. `project` waits, bounded, until its read model holds everything in the log.
 */
interface Instance {
  store: EventStore;
  readModelDb: Database.Database;
  readModel: SqliteReadModel;
  clock: () => Date;
  handle: CommandHandler;
  project(): Promise<void>;
}

async function openInstance(name: string, connectionString: string, clock: () => Date): Promise<Instance & { close(): Promise<void> }> {
  const config = loadConfig({
    LEDGER_STORE: 'eventstoredb',
    EVENTSTORE_CONNECTION_STRING: connectionString,
    LEDGER_DB: join(dir, randomUUID(), `${name}.db`),
  });
  // Its own sweeper is made by each test, to drive it by hand.
  const ledger = await createLedger({ ...ledgerOptionsOf(config, clock), sweepIntervalMs: 0 });
  ledger.start();
  const { store, readModelDb, readModel, projector } = ledger;
  return {
    store,
    readModelDb,
    readModel,
    clock,
    handle: ledger.commands,
    async project() {
      const last = await store.lastPosition();
      if (!(await projector.waitForPosition(last, 5000))) throw new Error(`${name}'s projector did not reach ${last}`);
    },
    close: () => ledger.close(),
  };
}

/** Two instances sharing one emulated cluster; everything is closed, in order, when `t` ends. */
async function twoInstances(t: Test) {
  const emulator: EsdbEmulator = await startEsdbEmulator();
  const { moveTo, clockOf } = world();
  const a = await openInstance('a', emulator.connectionString, clockOf(A_SKEW_MS));
  const b = await openInstance('b', emulator.connectionString, clockOf(B_SKEW_MS));
  t.teardown(async () => {
    await Promise.all([a.close(), b.close()]);
    await emulator.stop();
  });
  return { a, b, moveTo };
}

/** A sweeper of the instance; `store` replaces the instance's own under its command handler. */
const sweeperOf = (instance: Instance, store = instance.store) =>
  createDeadlineSweeper({
    readModel: instance.readModel,
    commands: createCommandHandler({ store, clock: instance.clock }),
    clock: instance.clock,
    intervalMs: 60_000,
  });

const typesOf = async (store: EventStore, sessionId: string) =>
  (await store.readStream(sessionStreamName(sessionId))).map((event) => event.type);

/** What the real store answered one append, or threw. */
interface AppendOutcome {
  sessionId: string;
  answered?: AppendResult;
  threw?: unknown;
}

/**
 * The instance's real store, each append's outcome noted in `appends`. With `holdFirstAppend`
 * the first append waits for `release`: the command handler has read and folded the stream
 * by then, so the test can let another writer in between.
 */
function watchedAppends(store: EventStore, { holdFirstAppend = false } = {}) {
  const appendCalled = signal();
  const mayAppend = signal();
  const appends: AppendOutcome[] = [];
  let holding = holdFirstAppend;
  const watched: EventStore = {
    ...store,
    async append(streamName, events, options) {
      const sessionId = events[0]!.data.sessionId;
      if (holding) {
        holding = false;
        appendCalled.settle();
        await mayAppend.promise;
      }
      try {
        const answered = await store.append(streamName, events, options);
        appends.push({ sessionId, answered });
        return answered;
      } catch (error) {
        appends.push({ sessionId, threw: error });
        throw error;
      }
    },
  };
  return { store: watched, appends, appendCalled: appendCalled.promise, release: mayAppend.settle };
}

t.test('two instances sweeping one EventStoreDB at once record each expiry once', async (t) => {
  const { a, b, moveTo } = await twoInstances(t);
  const due = Array.from({ length: 12 }, (_, i) => `due-${String(i).padStart(2, '0')}`);
  // Written through both instances: they share one log.
  for (const [i, id] of due.entries()) await startSession((i % 2 ? b : a).handle, id, at(10 + (i % 4)));
  await startSession(a.handle, 'completed', at(10));
  await startSession(b.handle, 'not-yet', at(60));
  moveTo(5);
  await storeCredentials(b.handle, 'completed');
  await Promise.all([a.project(), b.project()]);

  moveTo(30);
  // Each read model names every due session, so both sweepers go after all of them.
  for (const instance of [a, b]) {
    t.same(instance.readModel.expiredPending(instance.clock().getTime(), 100).map((row) => row.sessionId).sort(), due);
  }
  const [appendsOfA, appendsOfB] = [watchedAppends(a.store), watchedAppends(b.store)];
  const [byA, byB] = await Promise.all([sweeperOf(a, appendsOfA.store).sweepOnce(), sweeperOf(b, appendsOfB.store).sweepOnce()]);
  // Who wins which session is the race's to decide; the test says only that each is won once.
  t.comment(`A expired ${byA.expired.length}, B expired ${byB.expired.length}`);
  t.same(byA.expired.filter((id) => byB.expired.includes(id)), [], 'no session reported by both');
  t.same([...byA.expired, ...byB.expired].sort(), due, 'every due session reported by one of them');
  // Both went after every session; the loser's append carried the same event id, so the store
  // answered it with the winner's event rather than refusing it or writing a second one.
  for (const [name, { appends }, { expired }] of [['A', appendsOfA, byA], ['B', appendsOfB, byB]] as const) {
    t.same(
      appends.map(({ sessionId, answered, threw }) => [sessionId, answered?.alreadyRecorded ?? threw]).sort(),
      due.map((sessionId) => [sessionId, !expired.includes(sessionId)]),
      `${name} appended once to each due session: written if it reported it, else answered as already recorded`,
    );
  }

  for (const id of due) {
    const [expiry, ...more] = await expiriesOf(a.store, id);
    t.same(more, [], `${id}: one SessionExpired`);
    // Its recordedAt is on the reporter's clock: the sweeper that says it expired the session wrote the event.
    const writer = byA.expired.includes(id) ? a : b;
    t.match(expiry, {
      eventId: expiryEventId(id),
      data: { sessionId: id },
      metadata: { actor: SWEEPER_ACTOR, recordedAt: writer.clock().toISOString() },
    });
  }
  const log = await sessionEvents(a.store);
  t.equal(log.filter((event) => event.type === 'SessionExpired').length, due.length, 'no other expiry anywhere in the log');
  t.same(await typesOf(a.store, 'completed'), ['SessionStarted', 'CredentialsStored'], 'the completed session is untouched');
  t.same(await typesOf(a.store, 'not-yet'), ['SessionStarted'], 'the session not yet due is untouched');

  await Promise.all([a.project(), b.project()]);
  for (const [name, instance] of [['A', a], ['B', b]] as const) {
    for (const id of due) {
      t.match(instance.readModel.session(id), { status: 'failed', errorMessage: EXPIRED_FAILURE.errorMessage }, `${name}: ${id} expired`);
    }
    t.match(instance.readModel.session('completed'), { status: 'completed', errorMessage: null }, `${name}: completed stays completed`);
    t.match(instance.readModel.session('not-yet'), { status: 'pending', errorMessage: null }, `${name}: not-yet still pending`);
    t.same(instance.readModel.expiredPending(instance.clock().getTime(), 100), [], `${name}: nothing due any more`);
    t.same((await compareWithFold(instance.store, instance.readModelDb)).differences, [], `${name}'s read model equals a fresh fold`);
  }

  const last = await a.store.lastPosition();
  t.same(await Promise.all([sweeperOf(a).sweepOnce(), sweeperOf(b).sweepOnce()]), [{ expired: [] }, { expired: [] }]);
  t.equal(await a.store.lastPosition(), last, 'sweeping again appends nothing');
});

t.test("B reads a stream, A expires the session, then B appends: B's append is A's, recognised", async (t) => {
  const { a, b, moveTo } = await twoInstances(t);
  await startSession(a.handle, 'contested', at(10));
  await Promise.all([a.project(), b.project()]);
  moveTo(20);

  const held = watchedAppends(b.store, { holdFirstAppend: true });
  const late = sweeperOf(b, held.store).sweepOnce();
  await within(held.appendCalled, "B's sweeper has read the stream and is about to append");
  t.same(await sweeperOf(a).sweepOnce(), { expired: ['contested'] }, 'A expires it meanwhile');
  const [byA] = await expiriesOf(a.store, 'contested');
  held.release();

  t.same(await within(late, "B's sweep has ended"), { expired: [] }, 'B reports nothing: it wrote nothing');
  // Same event id on both instances, so the adapter answers B with A's event, although B's
  // copy carries B's own recordedAt and expected the revision before A's.
  t.same(
    held.appends,
    [{ sessionId: 'contested', answered: { revision: byA!.revision, position: byA!.position, hash: byA!.hash, alreadyRecorded: true } }],
    "B's append is recognised as A's",
  );
  t.match(await expiriesOf(a.store, 'contested'), [{ eventId: expiryEventId('contested'), metadata: { recordedAt: a.clock().toISOString() } }]);
  t.same(await typesOf(b.store, 'contested'), ['SessionStarted', 'SessionExpired'], 'one expiry in the log');

  await Promise.all([a.project(), b.project()]);
  for (const instance of [a, b]) {
    t.match(instance.readModel.session('contested'), { status: 'failed', errorMessage: EXPIRED_FAILURE.errorMessage, anomalies: [] });
  }
});

t.test('B reads a stream, the session completes through A, then B appends: the expiry is refused', async (t) => {
  const { a, b, moveTo } = await twoInstances(t);
  await startSession(a.handle, 'completed-late', at(10));
  await Promise.all([a.project(), b.project()]);
  moveTo(20);

  const held = watchedAppends(b.store, { holdFirstAppend: true });
  const late = sweeperOf(b, held.store).sweepOnce();
  await within(held.appendCalled, "B's sweeper has read the stream and is about to append");
  await storeCredentials(a.handle, 'completed-late');
  held.release();

  t.same(await within(late, "B's sweep has ended"), { expired: [] });
  // The stream moved past the revision B decided on; decided again, the session is no longer pending.
  t.match(held.appends, [{ sessionId: 'completed-late', threw: WrongExpectedRevisionError }], 'refused once, not tried again');
  t.equal(held.appends.length, 1);
  t.same(await typesOf(a.store, 'completed-late'), ['SessionStarted', 'CredentialsStored'], 'no expiry in the log');

  await Promise.all([a.project(), b.project()]);
  for (const instance of [a, b]) t.match(instance.readModel.session('completed-late'), { status: 'completed', anomalies: [] });
});
