/**
 * Storage faults, brought about for real. At start: `ledger serve` on a file that is not a
 * database, a corrupt one, a folder that cannot be created, a read-only file, a full disk;
 * each stops it before it listens, with one line on stderr that names the file and the fix,
 * and exit 1, no stack trace (run through the dispatcher in this process, the same path as
 * the real process). While serving: a full disk (SQLite's own page limit, and a small tmpfs
 * where this process may mount one) and a file made read-only. While a fault lasts an append
 * answers 503 `unavailable` problem+json with `Retry-After` naming the fault, or 201 only if
 * it was stored; `/readyz` names it; the projector and the deadline sweeper wait it out. Once
 * it is gone the ledger serves as before: a refused append retried with its eventId is
 * recorded once, the log holds exactly the acknowledged appends, and the read model is the
 * fold of the log. A fault this machine cannot make is skipped, saying why.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { createDeadlineSweeper } from '../../src/application/deadline-sweeper.js';
import { StartedJson } from '../../src/contract/index.js';
import { StorageFaultError, type StorageFaultKind } from '../../src/store/errors.js';
import { openSqliteEventStore, type SqliteEventStore } from '../../src/store/sqlite/index.js';
import { writeStory } from '../support/audited-ledger.js';
import { runInProcess } from '../support/cli-in-process.js';
import { newSessionStarted } from '../support/events.js';
import { JWT_SECRET, startLedger, type TestLedger } from '../support/ledger-server.js';
import { immutableFilesWork, makeReadOnly, NO_SMALL_DISK, readOnlyFilesUnavailable, setImmutable, smallDisk } from '../support/storage-faults.js';

t.test('at start, a file it cannot use: one line, exit 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-start-faults-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  /** `serve` on `db`: it must stop at once (a serve that started would listen until the test times out). */
  async function serveOn(db: string) {
    return runInProcess(['serve'], { LEDGER_DB: db, LEDGER_PORT: '0', LEDGER_JWT_SECRET: JWT_SECRET, LOG_LEVEL: 'silent' });
  }

  /** One line, exit 1, naming the file, the fault and the fix; nothing on stdout. */
  function saysInOneLine(t: Test, run: Awaited<ReturnType<typeof serveOn>>, db: string, fault: string, fix: string) {
    t.equal(run.code, 1, 'exit 1');
    t.equal(run.err.length, 1, `one line: ${run.stderr}`);
    const [line = ''] = run.err;
    t.notMatch(line, /\n|\(\S+:\d+:\d+\)/, 'no stack trace');
    t.match(line, `cannot open the ledger database ${db} (LEDGER_DB): ${fault}`);
    t.match(line, fix);
    t.same(run.out, []);
  }

  t.test('a file that is not a database', async (t) => {
    const db = join(dir, 'notes.db');
    writeFileSync(db, 'these are my notes, not a ledger\n'.repeat(200));
    const run = await serveOn(db);
    saysInOneLine(t, run, db, 'the file is not a SQLite database (SQLITE_NOTADB)', 'point LEDGER_DB at a ledger');
    // A reading command says the same of it.
    const verify = await runInProcess(['verify'], { LEDGER_DB: db });
    saysInOneLine(t, verify, db, 'the file is not a SQLite database (SQLITE_NOTADB)', 'point LEDGER_DB at a ledger');
  });

  t.test('a corrupt database: its header holds, its pages are garbage', async (t) => {
    const db = join(dir, 'corrupt.db');
    await writeStory(db);
    const pageSize = 4096;
    const fd = openSync(db, 'r+');
    const garbage = Buffer.alloc(statSync(db).size - pageSize, 0xa5);
    writeSync(fd, garbage, 0, garbage.length, pageSize);
    closeSync(fd);
    const run = await serveOn(db);
    saysInOneLine(t, run, db, 'the database file is corrupt (SQLITE_CORRUPT', 'restore it from a backup (ledger backup)');
  });

  t.test('a folder that cannot be created: a part of the path is a file', async (t) => {
    const aFile = join(dir, 'a-file');
    writeFileSync(aFile, '');
    const db = join(aFile, 'data', 'ledger.db');
    const run = await serveOn(db);
    saysInOneLine(t, run, db, `its folder cannot be created (${join(aFile, 'data')}: ENOTDIR)`, 'set LEDGER_DB to a path this user may write');
  });

  t.test('a database file this process may not write', { skip: readOnlyFilesUnavailable() }, async (t) => {
    const db = join(dir, 'read-only.db');
    await writeStory(db);
    t.teardown(makeReadOnly(db));
    const run = await serveOn(db);
    saysInOneLine(t, run, db, 'the database file or its folder is read-only (SQLITE_READONLY', 'make the file, its -wal and -shm files and its folder writable');
    // Reading needs no writing: verify still reads it.
    const verify = await runInProcess(['verify'], { LEDGER_DB: db });
    t.equal(verify.code, 0, verify.stderr);
  });

  // Room for the story's WAL, which holds every commit of its appends and of the projector
  // that follows them until the close checkpoints it, and for that checkpoint.
  const disk = smallDisk(2048);
  t.teardown(() => disk?.unmount());

  t.test('a full disk', { skip: disk === null && NO_SMALL_DISK }, async (t) => {
    if (disk === null) return;
    const db = join(disk.folder, 'ledger.db');
    await writeStory(db);
    disk.fill();
    const run = await serveOn(db);
    saysInOneLine(t, run, db, 'the disk is full (SQLITE_', 'free space on its disk, then start again');
    disk.free();
    // With room again, the same file opens: `replay` writes to it and exits.
    const replay = await runInProcess(['replay'], { LEDGER_DB: db });
    t.equal(replay.code, 0, replay.stderr);
  });
});

t.test('while serving, the storage fails the writes: 503, then normal service', async (t) => {
  /** A fault that can be brought on a served ledger and taken away again. */
  interface Fault {
    kind: StorageFaultKind;
    /** Every write fails while it lasts; SQLite's page limit still lets a row in where a page has room. */
    total: boolean;
    impose(ledger: TestLedger): void;
    lift(ledger: TestLedger): void;
  }

  /** A long message: pages fill fast, and no log line may carry it. */
  const MESSAGE = `the OAuth provider said no ${'x'.repeat(1500)}`;

  const poll = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  async function faultScenario(t: Test, fault: Fault, options: { folder?: string } = {}) {
    // The projector retries every 100 ms rather than every second: the fault is over sooner.
    const ledger = await startLedger({ over: 'inject', projectorRetryDelayMs: 100, ...options });
    let lifted = true;
    const lift = () => {
      if (!lifted) fault.lift(ledger);
      lifted = true;
    };
    // Lifted even when a check throws on the way: an immutable file would outlive the test.
    t.teardown(async () => {
      lift();
      await ledger.close();
    });
    const { call, controller } = ledger;
    const start = async () => {
      const started = await call('POST', '/v1/sessions', { token: controller, body: { userId: 'user-1', provider: 'gemini', browserVmId: `vm-${randomUUID()}` } });
      t.equal(started.status, 201);
      return StartedJson.parse(started.body);
    };
    const failing = await start();
    // Pending, and due for the sweeper's clock below: it must expire once, whatever the fault did.
    const pending = await start();
    const events = (session: string) => ledger.store.readStream(`authSession-${session}`);
    const append = (eventId: string) =>
      call('POST', `/v1/sessions/${failing.sessionId}/events`, { token: controller, body: { type: 'SessionFailed', eventId, data: { reason: 'providerError', errorMessage: MESSAGE } } });
    const acknowledged = new Set<string>();
    const refused: string[] = [];
    /** One append: recorded (201) or refused (503), nothing else. */
    const appendOnce = async () => {
      const eventId = randomUUID();
      const answer = await append(eventId);
      if (answer.status === 201) acknowledged.add(eventId);
      else refused.push(eventId);
      return answer;
    };
    const sweeper = createDeadlineSweeper({ readModel: ledger.ledger.readModel, commands: ledger.ledger.commands, clock: () => new Date(Date.now() + 3_600_000), intervalMs: 60_000 });

    // Events the projectors have not applied when the fault comes: they meet the fault too
    // (running, they apply an append as soon as it is acknowledged, before the fault is imposed).
    const { outcomesProjector } = ledger.ledger;
    t.ok(await ledger.projector.waitForPosition(BigInt(pending.position), 5000), 'the pending session is in the read model');
    await ledger.projector.stop();
    await outcomesProjector.stop();
    t.equal((await appendOnce()).status, 201, 'an append before the fault');
    lifted = false;
    fault.impose(ledger);
    ledger.projector.start();
    outcomesProjector.start();
    if (fault.total) {
      // Before any append has met it: /readyz names the projector's.
      await poll('the projector meets the fault', () => ledger.projector.fault !== null);
      const projecting = await call('GET', '/readyz');
      t.equal(projecting.status, 503);
      t.match(projecting.body, { fault: { of: 'projector', kind: fault.kind }, detail: /^the projector cannot write the read model: .*; it retries$/ });
    }

    let first = await appendOnce();
    if (fault.total) t.equal(first.status, 503, 'the first append under the fault is refused');
    for (let tries = 0; first.status === 201 && tries < 300; tries++) first = await appendOnce();
    t.equal(first.status, 503, 'an append the storage cannot take answers 503');
    t.equal(first.type, 'application/problem+json; charset=utf-8');
    t.match(first.body, { type: 'https://session-ledger.dev/problems/unavailable', status: 503, fault: fault.kind });
    t.match((first.body as { detail: string }).detail, /^the store cannot write its database: .*; nothing was recorded: retry with the same eventId$/);
    t.ok(Number(first.headers.get('retry-after')) >= 1, 'with Retry-After');
    const ready = await call('GET', '/readyz');
    t.equal(ready.status, 503, '/readyz: not ready');
    t.match(ready.body, { fault: { of: 'store', kind: fault.kind, since: String }, detail: /cannot write its database/ });

    for (let i = 0; i < 3; i++) t.ok([201, 503].includes((await appendOnce()).status), 'under the fault: stored (201) or refused (503), nothing else');
    const startUnderFault = await call('POST', '/v1/sessions', { token: controller, body: { userId: 'user-1', provider: 'gemini', browserVmId: 'vm-under-fault' } });
    if (fault.total) t.equal(startUnderFault.status, 503, 'a start too');

    await poll('the projector meets the fault', () => ledger.projector.fault !== null);
    const firstMet = ledger.projector.fault;
    t.equal(firstMet?.kind, fault.kind, 'the projector names the fault it waits out');
    await poll('the projector meets it again, retrying', () => ledger.projector.fault !== firstMet);
    t.equal(ledger.projector.failure, null, 'the projector has not stopped');
    const swept = await sweeper.sweepOnce();
    if (fault.total) t.same(swept.expired, [], 'the sweeper expires nothing, and goes on');

    lift();
    const retried = [...refused];
    for (const eventId of retried) {
      t.equal((await append(eventId)).status, 201, 'a refused append, retried with its eventId: recorded');
      t.equal((await append(eventId)).status, 200, '… once');
      acknowledged.add(eventId);
    }
    await sweeper.sweepOnce();
    await poll('the ledger is ready again', async () => (await call('GET', '/readyz')).status === 200);
    t.equal(ledger.projector.fault, null);

    const recorded = (await events(failing.sessionId)).filter((event) => event.type === 'SessionFailed').map((event) => event.eventId);
    t.same(recorded.sort(), [...acknowledged].sort(), 'the log holds exactly the acknowledged appends');
    t.same((await events(pending.sessionId)).filter((event) => event.type === 'SessionExpired').length, 1, 'the due session expired, once');
    const report = await ledger.ledger.application.verify();
    t.ok(report.clean, 'the read model is the fold of the log');
    t.equal(report.checked, startUnderFault.status === 201 ? 3 : 2);

    const lines = ledger.logs.map((line) => JSON.parse(line) as { level: number; msg: string; fault?: string });
    t.notOk(lines.some((line) => line.msg === 'unhandled error'), 'no "unhandled error"');
    t.ok(lines.some((line) => line.level === 40 && line.fault === fault.kind && line.msg === 'the event store cannot write: ' + fault.kind), 'a warning names the fault');
    const faultLines = lines.filter((line) => line.msg.startsWith('projector cannot write the read model')).map((line) => (line as { part?: string }).part);
    // The outcomes' projector writes small rows, which a page may still take under SQLite's page limit.
    t.equal(faultLines.filter((part) => part === 'projector').length, 1, 'the projector logs the fault once, however often it retried');
    const outcomesLines = faultLines.filter((part) => part === 'outcomes-projector').length;
    if (fault.total) t.equal(outcomesLines, 1, "the outcomes' projector too");
    else t.ok(outcomesLines <= 1, "the outcomes' projector at most once");
    t.notOk(ledger.logs.some((line) => line.includes('x'.repeat(100)) || line.includes(controller)), 'no request body, no token in the logs');
  }

  /** SQLite's own limit on the file's pages, lowered on each of the ledger's connections to it (the events', the read model's). */
  let pageLimit = 0;
  const connectionsOf = ({ ledger }: TestLedger) => [(ledger.store as SqliteEventStore).database, ledger.readModelDb];
  const pageLimitFault: Fault = {
    kind: 'disk-full',
    total: false,
    impose: (served) => {
      pageLimit = served.ledger.readModelDb.pragma('max_page_count', { simple: true }) as number;
      for (const db of connectionsOf(served)) db.pragma('max_page_count = 1');
    },
    lift: (served) => {
      for (const db of connectionsOf(served)) db.pragma(`max_page_count = ${pageLimit}`);
    },
  };

  t.test('a full disk: SQLite refuses pages past max_page_count', (t) => faultScenario(t, pageLimitFault));

  const disk = smallDisk(2048);
  t.teardown(() => disk?.unmount());
  t.test('a full disk: a small tmpfs filled up', { skip: disk === null && NO_SMALL_DISK }, (t) =>
    faultScenario(t, { kind: 'disk-full', total: true, impose: () => disk!.fill(), lift: () => disk!.free() }, { folder: disk!.folder }),
  );

  const filesOf = (ledger: TestLedger) => [ledger.dbPath, `${ledger.dbPath}-wal`];
  t.test('the file made read-only while serving (chattr +i)', { skip: !immutableFilesWork() && 'chattr +i does not work here (it needs root with CAP_LINUX_IMMUTABLE)' }, (t) =>
    faultScenario(t, {
      kind: 'read-only',
      total: true,
      impose: (ledger) => setImmutable(filesOf(ledger), true),
      lift: (ledger) => setImmutable(filesOf(ledger), false),
    }),
  );

  t.test('another process holds the write lock past the busy timeout: a storage fault, then the append goes through', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-busy-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'ledger.db');
    const store = openSqliteEventStore({ path, busyTimeoutMs: 50 });
    t.teardown(() => store.close());
    const holder = new Database(path);
    holder.exec('begin immediate');
    const event = newSessionStarted('busy');
    const refused = await store.append('authSession-busy', [event]).catch((error: unknown) => error);
    t.ok(refused instanceof StorageFaultError, 'a StorageFaultError');
    t.match(refused, { kind: 'busy', operation: 'write', reason: /^SQLITE_BUSY/ });
    holder.exec('rollback');
    holder.close();
    t.match(await store.append('authSession-busy', [event]), { alreadyRecorded: false, revision: 0n });
  });
});
