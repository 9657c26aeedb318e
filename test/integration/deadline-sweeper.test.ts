import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { EXPIRED_FAILURE } from '../../projections/index.js';
import { createCommandHandler, type CommandHandler } from '../../src/application/command-handler.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { sessionStreamName } from '../../src/events/index.js';
import { createProjector } from '../../src/projector/projector.js';
import type { Projector } from '../../src/projector/projector-port.js';
import type { ReadModel } from '../../src/projector/read-model.js';
import { openReadModel, type SqliteReadModel } from '../../src/projector/sqlite-read-model.js';
import type { EventStore } from '../../src/store/port.js';
import { openSqliteEventStore, type SqliteEventStore } from '../../src/store/sqlite/index.js';
import type { PartLogger } from '../../src/part-logger.js';
import {
  createDeadlineSweeper,
  expiryEventId,
  SWEEPER_ACTOR,
  type DeadlineSweeperOptions,
} from '../../src/application/deadline-sweeper.js';
import { newSessionStarted } from '../support/events.js';
import { compareWithFold } from '../support/read-model-check.js';
import { at, expiriesOf, startSession, storeCredentials, T0 } from '../support/sweeper-steps.js';
import { signal, within } from '../support/waits.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-sweeper-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const freshPath = () => join(dir, `${randomUUID()}.db`);

/** A clock the test moves by hand: nothing here waits for wall time to pass. */
function fakeClock() {
  let now = new Date(T0);
  return {
    clock: () => now,
    /** Moves the clock to `minutes` after T0. */
    moveTo: (minutes: number) => void (now = new Date(T0 + minutes * 60_000)),
  };
}

/** Log messages by level, as a test reads them. */
function recordingLogger() {
  const lines: { level: 'info' | 'warn' | 'error'; fields: Record<string, unknown>; message: string }[] = [];
  const logger: PartLogger = {
    info: (fields, message) => void lines.push({ level: 'info', fields: fields as Record<string, unknown>, message }),
    warn: (fields, message) => void lines.push({ level: 'warn', fields: fields as Record<string, unknown>, message }),
    error: (fields, message) => void lines.push({ level: 'error', fields: fields as Record<string, unknown>, message }),
  };
  return { logger, lines, messages: () => lines.map((line) => line.message) };
}

/**
 * One ledger instance's worth on a SQLite file: its store connection, read model, projector
 * and command handler, all on the same hand-moved clock. `project` waits, bounded, until the
 * read model holds everything the store holds.
 */
interface Instance {
  store: SqliteEventStore;
  readModel: SqliteReadModel;
  handle: CommandHandler;
  projector: Projector | null;
  project(): Promise<void>;
}

function openInstance(
  t: Test,
  { path = freshPath(), clock, project = true }: { path?: string; clock: () => Date; project?: boolean },
): Instance {
  const store = openSqliteEventStore({ path, synchronous: 'NORMAL' });
  const readModel = openReadModel(store.database);
  const projector = project ? createProjector({ store, db: store.database, retryDelayMs: 10 }) : null;
  projector?.start();
  // One teardown, in order: the projector stops before its store closes.
  t.teardown(async () => {
    await projector?.stop();
    await store.close();
  });
  return {
    store,
    readModel,
    projector,
    handle: createCommandHandler({ store, clock }),
    async project() {
      if (projector === null) throw new Error('this instance has no projector');
      const last = await store.lastPosition();
      if (!(await projector.waitForPosition(last, 5000))) throw new Error(`the projector did not reach ${last}`);
    },
  };
}

function sweeperOf(t: Test, instance: Instance, clock: () => Date, options: Partial<DeadlineSweeperOptions> = {}) {
  const sweeper = createDeadlineSweeper({
    readModel: instance.readModel,
    commands: instance.handle,
    clock,
    intervalMs: 60_000,
    ...options,
  });
  t.teardown(() => sweeper.stop());
  return sweeper;
}

t.test('a pending session past its deadline fails as expired; the others are left as they are', async (t) => {
  const { clock, moveTo } = fakeClock();
  const ledger = openInstance(t, { clock });
  await startSession(ledger.handle, 'due', at(15));
  // The same kind of deadline written with an offset: 14:10+02:00 is 12:10Z, before `due`'s
  // 12:15Z, though its text sorts after it.
  await startSession(ledger.handle, 'due-offset', '2030-01-01T14:10:00+02:00');
  await startSession(ledger.handle, 'not-yet', at(45));
  await startSession(ledger.handle, 'done', at(15));
  moveTo(5);
  await storeCredentials(ledger.handle, 'done');
  await ledger.project();

  moveTo(9);
  const sweeper = sweeperOf(t, ledger, clock);
  t.same(await sweeper.sweepOnce(), { expired: [] }, 'before any deadline, nothing is due');

  moveTo(20);
  t.same(
    ledger.readModel.expiredPending(clock().getTime(), 10),
    [
      { sessionId: 'due-offset', expiresAt: '2030-01-01T14:10:00+02:00' },
      { sessionId: 'due', expiresAt: at(15) },
    ],
    'due: pending and past the deadline, the oldest deadline first, each as its start wrote it',
  );
  const before = await ledger.store.lastPosition();
  t.same(await sweeper.sweepOnce(), { expired: ['due-offset', 'due'] });
  await ledger.project();

  const due = ledger.readModel.session('due')!;
  t.match(due, { status: 'failed', errorMessage: EXPIRED_FAILURE.errorMessage, completedAt: null, updatedAt: at(20) });
  t.equal(due.errorMessage, 'Session expired before OAuth completion');
  t.same(due.anomalies, [], 'an expiry is no anomaly');
  t.match(ledger.readModel.session('due-offset'), { status: 'failed', errorMessage: EXPIRED_FAILURE.errorMessage });
  t.match(ledger.readModel.session('not-yet'), { status: 'pending', errorMessage: null, updatedAt: at(0) }, 'not yet due: untouched');
  t.match(ledger.readModel.session('done'), { status: 'completed', completedAt: at(5), errorMessage: null, updatedAt: at(5) });
  t.same(ledger.readModel.session('done')!.anomalies, [], 'completed before the sweep: nothing recorded, nothing noted');
  t.same(await expiriesOf(ledger.store, 'done'), []);
  t.same(await expiriesOf(ledger.store, 'not-yet'), []);

  const [expiry, ...more] = await expiriesOf(ledger.store, 'due');
  t.same(more, [], 'one expiry');
  t.match(expiry, {
    type: 'SessionExpired',
    eventId: expiryEventId('due'),
    data: { sessionId: 'due', expiresAt: at(15) },
    metadata: { actor: SWEEPER_ACTOR, recordedAt: at(20), correlationId: expiryEventId('due') },
  });
  t.same(SWEEPER_ACTOR, { role: 'ledger', sub: 'deadline-sweeper' });
  t.equal((await ledger.store.lastPosition()) - before, 2n, 'two events in all');
  t.same((await compareWithFold(ledger.store, ledger.store.database)).differences, [], 'the read model equals a fresh fold');

  moveTo(30);
  t.same(await sweeper.sweepOnce(), { expired: [] }, 'sweeping again later writes nothing');
  t.equal(await ledger.store.lastPosition(), before + 2n);

  moveTo(45);
  t.same(await sweeper.sweepOnce(), { expired: ['not-yet'] }, 'its deadline reached, the last one is due too');
});

t.test('a session that ended after the read model last saw it is not expired', async (t) => {
  const { clock, moveTo } = fakeClock();
  const ledger = openInstance(t, { clock });
  await startSession(ledger.handle, 'completed-late', at(15));
  await startSession(ledger.handle, 'cancelled-late', at(15));
  await ledger.project();
  // The read model falls behind: it still says pending when the sweep asks it.
  await ledger.projector!.stop();
  moveTo(14);
  await storeCredentials(ledger.handle, 'completed-late');
  await ledger.handle(
    { type: 'CancelSession', data: { sessionId: 'cancelled-late', cancelledBy: 'user-1' } },
    { eventId: randomUUID(), actor: { role: 'frontend', sub: 'user:user-1' } },
  );
  moveTo(20);
  t.same(ledger.readModel.expiredPending(clock().getTime(), 10).map((due) => due.sessionId), ['cancelled-late', 'completed-late']);

  const before = await ledger.store.lastPosition();
  t.same(await sweeperOf(t, ledger, clock).sweepOnce(), { expired: [] }, 'the streams say they ended; the sweep does not fail');
  t.equal(await ledger.store.lastPosition(), before, 'nothing is appended');

  ledger.projector!.start();
  await ledger.project();
  t.match(ledger.readModel.session('completed-late'), { status: 'completed', errorMessage: null, anomalies: [] });
  t.match(ledger.readModel.session('cancelled-late'), { status: 'cancelled', errorMessage: null, anomalies: [] });
});

t.test('a session that completes between the sweep reading its stream and appending stays completed', async (t) => {
  const { clock, moveTo } = fakeClock();
  const ledger = openInstance(t, { clock });
  await startSession(ledger.handle, 'raced', at(15));
  await ledger.project();
  moveTo(20);
  // The sweeper's store: the agent's credentials land just before the sweeper's first append.
  let agentCalled = false;
  const racing: EventStore = {
    ...ledger.store,
    async append(streamName, events, options) {
      if (!agentCalled) {
        agentCalled = true;
        await storeCredentials(ledger.handle, 'raced');
      }
      return ledger.store.append(streamName, events, options);
    },
  };
  const sweeper = sweeperOf(t, { ...ledger, handle: createCommandHandler({ store: racing, clock }) }, clock);
  t.same(await sweeper.sweepOnce(), { expired: [] }, 'decided again on the new state, the expiry is dropped');
  t.ok(agentCalled);
  t.same(
    (await ledger.store.readStream(sessionStreamName('raced'))).map((event) => event.type),
    ['SessionStarted', 'CredentialsStored'],
  );
  await ledger.project();
  t.match(ledger.readModel.session('raced'), { status: 'completed', anomalies: [] });
});

t.test('two sweepers, on two connections to one file, record each expiry once', async (t) => {
  const { clock, moveTo } = fakeClock();
  const path = freshPath();
  const one = openInstance(t, { path, clock });
  // A second instance on the same file: its own connection, read model and command handler.
  const two = openInstance(t, { path, clock, project: false });
  const ids = Array.from({ length: 20 }, (_, i) => `race-${String(i).padStart(2, '0')}`);
  for (const [i, id] of ids.entries()) await startSession(one.handle, id, at(10 + (i % 5)));
  await one.project();
  moveTo(30);

  const [a, b] = await Promise.all([sweeperOf(t, one, clock).sweepOnce(), sweeperOf(t, two, clock).sweepOnce()]);
  for (const id of ids) t.equal((await expiriesOf(one.store, id)).length, 1, `${id}: one SessionExpired`);
  t.same([...a.expired, ...b.expired].sort(), ids, 'each expiry reported by exactly one of them');

  // Both read the stream before either appends; the second append is a retry the store recognises.
  await startSession(one.handle, 'forced', at(29));
  await one.project();
  const appendCalled = signal();
  const mayAppend = signal();
  const gated: EventStore = {
    ...two.store,
    async append(streamName, events, options) {
      appendCalled.settle();
      await mayAppend.promise;
      return two.store.append(streamName, events, options);
    },
  };
  const late = sweeperOf(t, { ...two, handle: createCommandHandler({ store: gated, clock }) }, clock).sweepOnce();
  await within(appendCalled.promise, 'the second sweeper is about to append');
  t.same(await sweeperOf(t, one, clock).sweepOnce(), { expired: ['forced'] });
  mayAppend.settle();
  t.same(await late, { expired: [] }, 'the loser wrote nothing');
  t.equal((await expiriesOf(one.store, 'forced')).length, 1);

  // Again, before and after the read model has caught up: nothing new either way.
  const last = await one.store.lastPosition();
  const again = () => Promise.all([sweeperOf(t, one, clock).sweepOnce(), sweeperOf(t, two, clock).sweepOnce()]);
  t.same(await again(), [{ expired: [] }, { expired: [] }], 'while the read model still says pending');
  await one.project();
  t.same(await again(), [{ expired: [] }, { expired: [] }], 'once it says failed');
  t.equal(await one.store.lastPosition(), last);
  t.same(two.readModel.expiredPending(clock().getTime(), 100), [], 'both connections see the same read model');
  t.same((await compareWithFold(one.store, two.store.database)).differences, []);
});

t.test('a sweep takes at most batchSize sessions, the oldest deadlines first', async (t) => {
  const { clock, moveTo } = fakeClock();
  const ledger = openInstance(t, { clock });
  for (const [id, minute] of [['e', 14], ['a', 10], ['d', 13], ['b', 11], ['c', 12]] as const) {
    await startSession(ledger.handle, id, at(minute));
  }
  await ledger.project();
  moveTo(20);
  const sweeper = sweeperOf(t, ledger, clock, { batchSize: 2 });
  const sweeps: string[][] = [];
  for (let i = 0; i < 4; i++) {
    sweeps.push((await sweeper.sweepOnce()).expired);
    await ledger.project();
  }
  t.same(sweeps, [['a', 'b'], ['c', 'd'], ['e'], []]);
});

t.test('sweeps never overlap, even when asked for at once', async (t) => {
  const { clock, moveTo } = fakeClock();
  const ledger = openInstance(t, { clock });
  for (let i = 0; i < 6; i++) await startSession(ledger.handle, `o-${i}`, at(10));
  await ledger.project();
  moveTo(20);
  let active = 0;
  let mostActive = 0;
  // Within a sweep sessions go one by one, so two commands in flight would mean two sweeps.
  const counting: CommandHandler = async (...args) => {
    mostActive = Math.max(mostActive, ++active);
    try {
      // A turn of the event loop inside each command, for another sweep to slip into.
      await new Promise((resolve) => setImmediate(resolve));
      return await ledger.handle(...args);
    } finally {
      active--;
    }
  };
  const sweeper = sweeperOf(t, { ...ledger, handle: counting }, clock);
  const [first, second] = await Promise.all([sweeper.sweepOnce(), sweeper.sweepOnce()]);
  t.equal(mostActive, 1, 'one command at a time');
  t.equal(first.expired.length, 6);
  t.same(second, { expired: [] }, 'the second ran after the first: every expiry already recorded');
});

t.test('a session that cannot be expired is logged; the others are, and it is tried again next sweep', async (t) => {
  const { clock, moveTo } = fakeClock();
  const ledger = openInstance(t, { clock });
  for (const id of ['ok-1', 'stuck', 'ok-2']) await startSession(ledger.handle, id, at(10));
  await ledger.project();
  moveTo(20);
  let broken = true;
  const flaky: CommandHandler = async (command, envelope, guard) => {
    if (broken && command.type === 'ExpireSession' && command.data.sessionId === 'stuck') throw new Error('the disk is full');
    return ledger.handle(command, envelope, guard);
  };
  const { logger, lines } = recordingLogger();
  const sweeper = sweeperOf(t, { ...ledger, handle: flaky }, clock, { logger });
  t.same(await sweeper.sweepOnce(), { expired: ['ok-1', 'ok-2'] });
  t.match(lines, [
    { level: 'warn', fields: { sessionId: 'stuck', err: { message: 'the disk is full' } }, message: 'could not expire a session; the next sweep tries again' },
    { level: 'info', fields: { expired: 2 }, message: 'expired pending sessions past their deadline' },
  ]);
  broken = false;
  t.same(await sweeper.sweepOnce(), { expired: ['stuck'] });
});

t.test('start sweeps at once and then on its interval; stop waits for the sweep in progress', async (t) => {
  const { clock, moveTo } = fakeClock();
  const ledger = openInstance(t, { clock });
  await startSession(ledger.handle, 'first', at(10));
  await ledger.project();
  moveTo(20);

  const { logger, messages } = recordingLogger();
  const idle = sweeperOf(t, ledger, clock, { logger });
  await idle.stop();
  t.equal(idle.running, false, 'stopping a sweeper never started is fine');

  // The interval is long: only the sweep `start` runs at once happens in this test.
  const sweeper = sweeperOf(t, ledger, clock, { logger, intervalMs: 3_600_000 });
  sweeper.start();
  sweeper.start();
  t.equal(sweeper.running, true);
  await sweeper.stop();
  t.equal(sweeper.running, false);
  t.equal((await expiriesOf(ledger.store, 'first')).length, 1, 'the first sweep ran on start');
  t.same(messages(), ['deadline sweeper started', 'expired pending sessions past their deadline', 'deadline sweeper stopped']);
  await sweeper.stop();

  // Stopped in the middle of a sweep, it resolves once that sweep has appended.
  await startSession(ledger.handle, 'second', at(15));
  await ledger.project();
  const commandCalled = signal();
  const mayGoOn = signal();
  const held: CommandHandler = async (...args) => {
    commandCalled.settle();
    await mayGoOn.promise;
    return ledger.handle(...args);
  };
  const holding = sweeperOf(t, { ...ledger, handle: held }, clock);
  holding.start();
  await within(commandCalled.promise, 'the sweep is under way');
  let stopped = false;
  const stopping = holding.stop().then(() => (stopped = true));
  t.equal(holding.running, false, 'no longer running once asked to stop');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(stopped, false, 'stop waits for the sweep in progress');
  mayGoOn.settle();
  await stopping;
  t.equal((await expiriesOf(ledger.store, 'second')).length, 1, 'the sweep in progress finished its work');

  // Started again after a stop, and stopped while the last loop is still ending: one loop after the other.
  await startSession(ledger.handle, 'third', at(16));
  await ledger.project();
  const restarted = sweeperOf(t, ledger, clock);
  restarted.start();
  const firstStop = restarted.stop();
  restarted.start();
  t.equal(restarted.running, true);
  await firstStop;
  await restarted.stop();
  t.equal((await expiriesOf(ledger.store, 'third')).length, 1);
});

t.test('a failing sweep is logged and the next one runs', async (t) => {
  const { clock, moveTo } = fakeClock();
  const ledger = openInstance(t, { clock });
  await startSession(ledger.handle, 'later-sweep', at(10));
  await ledger.project();
  moveTo(20);
  let calls = 0;
  const secondCall = signal();
  const readModel: Pick<ReadModel, 'expiredPending'> = {
    expiredPending(nowMs, limit) {
      if (++calls === 1) throw new Error('database is locked');
      secondCall.settle();
      return ledger.readModel.expiredPending(nowMs, limit);
    },
  };
  const { logger, lines } = recordingLogger();
  const sweeper = sweeperOf(t, ledger, clock, { readModel, logger, intervalMs: 1 });
  sweeper.start();
  await within(secondCall.promise, 'the sweep after the failed one');
  await sweeper.stop();
  t.match(lines.find((line) => line.level === 'error'), {
    fields: { err: { message: 'database is locked' } },
    message: 'a deadline sweep failed; the next one runs as planned',
  });
  t.equal((await expiriesOf(ledger.store, 'later-sweep')).length, 1, 'the next sweep did the work');

  // Asked directly, a sweep that cannot ask the read model says so.
  const broken = sweeperOf(t, ledger, () => new Date(Number.NaN));
  await t.rejects(broken.sweepOnce(), RangeError, 'an invalid clock is refused by the query');
  await t.resolves(broken.stop(), 'a failed sweep does not make stop fail');
});

t.test('options and query arguments are checked', async (t) => {
  const { clock } = fakeClock();
  const ledger = openInstance(t, { clock, project: false });
  for (const intervalMs of [0, -1, 1.5, 2 ** 31, Number.NaN]) {
    t.throws(() => sweeperOf(t, ledger, clock, { intervalMs }), RangeError, `interval ${intervalMs}`);
  }
  for (const batchSize of [0, 2.5]) t.throws(() => sweeperOf(t, ledger, clock, { batchSize }), RangeError, `batch size ${batchSize}`);
  t.throws(() => ledger.readModel.expiredPending(Number.NaN, 10), RangeError);
  t.throws(() => ledger.readModel.expiredPending(T0, 0), RangeError);
  t.equal(expiryEventId('x'), expiryEventId('x'), 'the same id on every instance');
  t.not(expiryEventId('x'), expiryEventId('y'));
});

t.test('LEDGER_SWEEP_INTERVAL_MS is checked like the other settings', async (t) => {
  t.equal(loadConfig({}).LEDGER_SWEEP_INTERVAL_MS, 10_000, 'ten seconds by default');
  t.equal(loadConfig({ LEDGER_SWEEP_INTERVAL_MS: '0' }).LEDGER_SWEEP_INTERVAL_MS, 0, '0 turns the sweeper off');
  t.equal(loadConfig({ LEDGER_SWEEP_INTERVAL_MS: '250' }).LEDGER_SWEEP_INTERVAL_MS, 250);
  for (const value of ['-1', '1.5', 'soon', '3600001']) {
    t.throws(() => loadConfig({ LEDGER_SWEEP_INTERVAL_MS: value }), ConfigError, value);
    t.throws(() => loadConfig({ LEDGER_SWEEP_INTERVAL_MS: value }), /LEDGER_SWEEP_INTERVAL_MS/);
  }
});

/** `ledger serve` as a real process; `stopWhen` sees each log line and says when to send SIGTERM. */
async function serve(env: Record<string, string>, stopWhen: (line: { msg: string }) => boolean) {
  const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  const server = spawn(process.execPath, [...process.execArgv, main, 'serve'], {
    env: { ...process.env, LEDGER_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const bound = setTimeout(() => server.kill('SIGKILL'), 60_000);
  const lines: { msg: string; part?: string }[] = [];
  let buffered = '';
  let signalled = false;
  server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) !== -1) {
      const line = JSON.parse(buffered.slice(0, newline)) as { msg: string; part?: string };
      buffered = buffered.slice(newline + 1);
      lines.push(line);
      if (!signalled && stopWhen(line)) {
        signalled = true;
        server.kill('SIGTERM');
      }
    }
  });
  const code = await new Promise<number | null>((resolve) => server.on('close', (exitCode) => resolve(exitCode)));
  clearTimeout(bound);
  return { code, lines, messages: lines.map((line) => line.msg) };
}

/** A ledger file holding one session whose deadline passed long ago. */
async function fileWithDueSession(sessionId: string): Promise<string> {
  const path = join(dir, randomUUID(), 'ledger.db');
  const store = openSqliteEventStore({ path });
  await store.append(sessionStreamName(sessionId), [newSessionStarted(sessionId, { expiresAt: '2020-01-01T00:00:00.000Z' })]);
  await store.close();
  return path;
}

t.test('ledger serve runs the sweeper after the projector and stops it before', async (t) => {
  const path = await fileWithDueSession('abandoned');
  const run = await serve({ LEDGER_DB: path, LEDGER_SWEEP_INTERVAL_MS: '20' }, (line) => line.msg === 'expired pending sessions past their deadline');
  t.equal(run.code, 0, 'exits 0 on SIGTERM');
  const order = (message: string) => run.messages.indexOf(message);
  t.ok(order('deadline sweeper started') > order('projector starting from its checkpoint'), 'started after the projector');
  t.ok(order('deadline sweeper stopped') > order('stopping'), 'stopped on shutdown');
  t.ok(order('deadline sweeper stopped') < order('projector stopped'), 'before the projector');
  t.match(run.lines.find((line) => line.msg === 'deadline sweeper started'), { part: 'sweeper', intervalMs: 20 });

  const store = openSqliteEventStore({ path });
  t.teardown(() => store.close());
  t.match(await expiriesOf(store, 'abandoned'), [{ eventId: expiryEventId('abandoned'), metadata: { actor: SWEEPER_ACTOR } }]);
});

t.test('ledger serve with LEDGER_SWEEP_INTERVAL_MS=0 runs no sweeper', async (t) => {
  const path = await fileWithDueSession('left-alone');
  const run = await serve({ LEDGER_DB: path, LEDGER_SWEEP_INTERVAL_MS: '0' }, (line) => line.msg === 'ledger listening');
  t.equal(run.code, 0);
  t.notOk(run.messages.includes('deadline sweeper started'));
  t.ok(run.messages.includes('projector stopped'));
  const store = openSqliteEventStore({ path });
  t.teardown(() => store.close());
  t.same(await expiriesOf(store, 'left-alone'), []);
});
