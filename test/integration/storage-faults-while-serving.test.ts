/**
 * Storage faults while the ledger serves: a full disk (SQLite's own page limit, and a small
 * tmpfs where this process may mount one) and a file made read-only. While a fault lasts an
 * append answers 503 `unavailable` problem+json with `Retry-After` naming the fault, or 201
 * only if it was stored; `/readyz` names it; the projector and the deadline sweeper wait it
 * out. Once it is gone the ledger serves as before: a refused append retried with its
 * eventId is recorded once, the log holds exactly the acknowledged appends, and the read
 * model is the fold of the log.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { createDeadlineSweeper } from '../../src/application/deadline-sweeper.js';
import { StartedJson } from '../../src/contract/index.js';
import { StorageFaultError, type StorageFaultKind } from '../../src/store/errors.js';
import { openSqliteEventStore } from '../../src/store/sqlite/index.js';
import { newSessionStarted } from '../support/events.js';
import { startLedger, type TestLedger } from '../support/ledger-server.js';
import { immutableFilesWork, NO_SMALL_DISK, setImmutable, smallDisk } from '../support/storage-faults.js';

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

  // Events the projector has not applied when the fault comes: it meets the fault too.
  t.ok(await ledger.projector.waitForPosition(BigInt(pending.position), 5000), 'the pending session is in the read model');
  await ledger.projector.stop();
  t.equal((await appendOnce()).status, 201, 'an append before the fault');
  lifted = false;
  fault.impose(ledger);
  ledger.projector.start();

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

/** SQLite's own limit on the file's pages, lowered to the pages it has on the ledger's connection. */
let pageLimit = 0;
const pageLimitFault: Fault = {
  kind: 'disk-full',
  total: false,
  impose: ({ ledger }) => {
    pageLimit = ledger.readModelDb.pragma('max_page_count', { simple: true }) as number;
    ledger.readModelDb.pragma('max_page_count = 1');
  },
  lift: ({ ledger }) => void ledger.readModelDb.pragma(`max_page_count = ${pageLimit}`),
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
