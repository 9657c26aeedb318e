/**
 * The second projection, `session_outcomes`: sessions counted by the hour they were created,
 * provider, status and failure reason, kept by a projector of its own. Its counts equal a
 * fresh fold's, live, after a replay, and after a crash mid-batch; verify names an edited
 * count; GET /v1/stats/outcomes serves them to auditors and the VM manager.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import t from 'tap';
import { createLedger } from '../../src/application/create-ledger.js';
import { replayReadModel } from '../../src/audit/replay.js';
import { verifyLedger } from '../../src/audit/verify.js';
import { OutcomesJson, StartedJson } from '../../src/contract/index.js';
import { sessionStreamName, type NewEvent } from '../../src/events/index.js';
import { openOutcomes } from '../../src/projector/outcomes-read-model.js';
import { openReadModel } from '../../src/projector/sqlite-read-model.js';
import { openSqliteEventStore } from '../../src/store/sqlite/index.js';
import { newCredentialsStored, newSessionCancelled, newSessionFailed, newSessionStarted, newVmDestroyed } from '../support/events.js';
import { startLedger } from '../support/ledger-server.js';
import { runTsChild } from '../support/ts-child.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-outcomes-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const child = fileURLToPath(new URL('../support/projector-child.ts', import.meta.url));

const hourOf = (index: number) => new Date(Date.UTC(2030, 0, 1, index % 3)).toISOString();
/** Sessions of every outcome, over three hours and two providers; some change bucket more than once. */
const shapes: readonly ((id: string, provider: string, at: string) => NewEvent[])[] = [
  (id, provider, at) => [newSessionStarted(id, { provider }, { metadata: { recordedAt: at } }), newCredentialsStored(id, { provider })],
  (id, provider, at) => [newSessionStarted(id, { provider }, { metadata: { recordedAt: at } }), newVmDestroyed(id)],
  (id, provider, at) => [newSessionStarted(id, { provider }, { metadata: { recordedAt: at } }), newVmDestroyed(id), newCredentialsStored(id, { provider })],
  (id, provider, at) => [newSessionStarted(id, { provider }, { metadata: { recordedAt: at } }), newSessionFailed(id, { reason: 'consentDenied' })],
  (id, provider, at) => [newSessionStarted(id, { provider }, { metadata: { recordedAt: at } }), newSessionCancelled(id)],
  (id, provider, at) => [newSessionStarted(id, { provider }, { metadata: { recordedAt: at } })],
];

/** Writes `sessions` sessions, round by round so the streams interleave; returns the file. */
async function writeSessions(name: string, sessions: number): Promise<string> {
  const path = join(dir, `${name}.db`);
  const store = openSqliteEventStore({ path, synchronous: 'OFF' });
  const streams = Array.from({ length: sessions }, (_, i) => ({ id: `${name}-${i}`, events: shapes[i % shapes.length]!(`${name}-${i}`, i % 2 ? 'codex' : 'gemini', hourOf(i)) }));
  for (let round = 0; round < 3; round++) {
    for (const { id, events } of streams) {
      const event = events[round];
      if (event) await store.append(sessionStreamName(id), [event]);
    }
  }
  await store.close();
  return path;
}

/** The ledger on `path`, both projectors run to the end of the log. */
async function projected(path: string) {
  const ledger = await createLedger({ store: { kind: 'sqlite', path }, providers: ['gemini', 'codex'] });
  ledger.start();
  const last = await ledger.store.lastPosition();
  await ledger.projector.waitForPosition(last, 30_000);
  await ledger.outcomesProjector.waitForPosition(last, 30_000);
  return ledger;
}

t.test('counts kept live equal a fresh fold, and the counts after a replay equal them', async (t) => {
  const path = await writeSessions('live', 60);
  const ledger = await projected(path);
  t.teardown(() => ledger.close());
  const live = ledger.outcomes.snapshot();
  t.equal(live.counts.reduce((sum, count) => sum + count.sessions, 0), 60, 'every session counted once');
  // Session i: shape i % 6, provider by i % 2, hour i % 3: the first shape (completed) is gemini's, in hour 0, ten times.
  t.ok(
    live.counts.some((count) => count.hour === Date.UTC(2030, 0, 1, 0) / 3_600_000 && count.provider === 'gemini' && count.status === 'completed' && count.sessions === 10),
    'by the hour created, provider and status',
  );
  t.ok(live.counts.some((count) => count.status === 'failed' && count.failureReason === 'vmDestroyed'), 'a failure is counted with its reason');
  const report = await verifyLedger({ store: ledger.store, readModel: ledger.readModel, outcomes: ledger.outcomes });
  t.same(report.outcomeDifferences, [], 'verify: the counts are what a fresh fold gives');

  await replayReadModel({ store: ledger.store, readModelPath: ledger.readModelPath, batchSize: 7 });
  t.same(ledger.outcomes.snapshot(), live, 'replayed: the same counts, at the same checkpoint');
  t.match(await verifyLedger({ store: ledger.store, readModel: ledger.readModel, outcomes: ledger.outcomes }), { clean: true });
});

t.test('an edited count is named by verify, with both numbers', async (t) => {
  const path = await writeSessions('edited', 12);
  const ledger = await projected(path);
  t.teardown(() => ledger.close());
  new Database(path).prepare("update session_outcomes set sessions = sessions + 2 where status = 'cancelled'").run();
  const report = await verifyLedger({ store: ledger.store, readModel: ledger.readModel, outcomes: ledger.outcomes });
  t.match(report, { clean: false, differences: [], outcomeDifferences: [{ status: 'cancelled', readModel: 4, fold: 2 }] });
});

t.test('killed mid-batch, the outcomes projector resumes from its own checkpoint: nothing counted twice or missed', async (t) => {
  const path = await writeSessions('crash', 600);
  let checkpoint = 0n;
  for (const mark of [1n, 900n]) {
    const { lines, signal } = await runTsChild<{ started?: string; position?: string; done?: boolean }>(child, [path, '5', 'outcomes'], {
      onLine: (line, proc) => {
        if (line.done === undefined && line.position !== undefined && BigInt(line.position) >= mark) proc.kill('SIGKILL');
      },
    });
    t.equal(signal, 'SIGKILL', `killed once past ${mark}`);
    t.equal(lines[0]?.started, String(checkpoint), 'started from the checkpoint the last run left');
    const store = openSqliteEventStore({ path });
    const outcomes = openOutcomes(store.database);
    const { position } = outcomes.snapshot();
    t.ok(position > checkpoint, `its own checkpoint moved (${checkpoint} -> ${position})`);
    // The main read model has not moved: the checkpoints are apart, and verify takes each as it is.
    const report = await verifyLedger({ store, readModel: openReadModel(store.database), outcomes });
    t.same(report.outcomeDifferences, [], `the counts equal a fresh fold up to ${position}`);
    checkpoint = position;
    await store.close();
  }
  const ledger = await projected(path);
  t.teardown(() => ledger.close());
  t.match(await verifyLedger({ store: ledger.store, readModel: ledger.readModel, outcomes: ledger.outcomes }), { clean: true, outcomeDifferences: [] });
  t.equal(ledger.outcomes.snapshot().counts.reduce((sum, count) => sum + count.sessions, 0), 600);
});

t.test('GET /v1/stats/outcomes: buckets, completion rate per provider, top failure reasons; auditor and controller only', async (t) => {
  const ledger = await startLedger();
  t.teardown(() => ledger.close());
  const { call, controller } = ledger;
  const start = async (provider: string) => StartedJson.parse((await call('POST', '/v1/sessions', { token: controller, body: { userId: 'u', provider, browserVmId: `vm-${Math.random()}` } })).body);
  const record = (sessionId: string, token: string, body: object) => call('POST', `/v1/sessions/${sessionId}/events`, { token, body: { eventId: crypto.randomUUID(), ...body } });
  for (let i = 0; i < 3; i++) {
    const done = await start('gemini');
    await record(done.sessionId, done.agentToken, { type: 'CredentialsStored', data: { provider: 'gemini', credentialRef: 'c' } });
  }
  const failed = await start('gemini');
  await record(failed.sessionId, failed.agentToken, { type: 'SessionFailed', data: { reason: 'consentDenied', errorMessage: 'no' } });
  const crashed = await start('codex');
  await record(crashed.sessionId, controller, { type: 'VmDestroyed', data: { vmId: 'vm-x', reason: 'crash' } });
  await start('codex');
  await ledger.ledger.outcomesProjector.waitForPosition(await ledger.store.lastPosition(), 5000);

  const stats = OutcomesJson.parse((await call('GET', '/v1/stats/outcomes', { token: ledger.auditor })).body);
  t.match(stats.providers, [
    { provider: 'codex', sessions: 2, pending: 1, failed: 1, completionRate: 0 },
    { provider: 'gemini', sessions: 4, completed: 3, failed: 1, completionRate: 0.75 },
  ]);
  t.same(stats.topFailureReasons, [
    { reason: 'consentDenied', sessions: 1 },
    { reason: 'vmDestroyed', sessions: 1 },
  ]);
  t.ok(stats.buckets.every((bucket) => bucket.hour.endsWith(':00:00.000Z')), 'by the hour');
  const codex = OutcomesJson.parse((await call('GET', '/v1/stats/outcomes?provider=codex', { token: controller })).body);
  t.same(codex.providers.map((p) => p.provider), ['codex'], 'one provider, for the VM manager too');
  const past = OutcomesJson.parse((await call('GET', '/v1/stats/outcomes?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z', { token: controller })).body);
  t.same([past.buckets, past.providers, past.topFailureReasons], [[], [], []], 'nothing then');
  t.equal((await call('GET', '/v1/stats/outcomes', { token: ledger.frontend('u') })).status, 403);
  t.equal((await call('GET', '/v1/stats/outcomes', { token: failed.agentToken })).status, 403);
  t.equal((await call('GET', '/v1/stats/outcomes')).status, 401);
  t.equal((await call('GET', '/v1/stats/outcomes?from=yesterday', { token: controller })).status, 400);
});
