/**
 * `ledger replay` as a real process on the file a real server is serving from, while
 * writers append and readers read their writes: no request fails, the server goes on
 * projecting through the swap and after it, and verify is clean afterwards.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { verifyLedger } from '../../src/audit/verify.js';
import { AppendedJson, StartedJson } from '../../src/contract/index.js';
import { startLedger } from '../support/ledger-server.js';
import { runLedger } from '../support/ledger-process.js';

const ledger = await startLedger({ synchronous: 'NORMAL', readWaitMs: 10_000 });
t.teardown(() => ledger.close());
const { call, controller } = ledger;

/** One login, start to credentials, each write read back with `?after=`; the statuses it saw, or the first failure. */
async function login(): Promise<string | null> {
  const started = await call('POST', '/v1/sessions', { token: controller, body: { userId: 'replay-user', provider: 'codex', browserVmId: `vm-${randomUUID()}` } });
  if (started.status !== 201) return `start: ${started.status} ${JSON.stringify(started.body)}`;
  const { sessionId, agentToken, position } = StartedJson.parse(started.body);
  const read = await call('GET', `/v1/sessions/${sessionId}?after=${position}`, { token: controller });
  if (read.status !== 200) return `read: ${read.status} ${JSON.stringify(read.body)}`;
  const stored = await call('POST', `/v1/sessions/${sessionId}/events`, {
    token: agentToken,
    body: { type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'codex', credentialRef: 'c' } },
  });
  if (stored.status !== 201) return `append: ${stored.status} ${JSON.stringify(stored.body)}`;
  const after = await call('GET', `/v1/sessions/${sessionId}?after=${AppendedJson.parse(stored.body).position}`, { token: controller });
  if (after.status !== 200 || (after.body as { status?: string }).status !== 'completed') return `read after: ${after.status} ${JSON.stringify(after.body)}`;
  return null;
}

t.test('a replay while the ledger serves and takes writes: nothing fails, and the log and the read model agree after', async (t) => {
  for (let i = 0; i < 200; i++) t.equal(await login(), null);
  const failures: string[] = [];
  let logins = 0;
  let replaying = true;
  const traffic = (async () => {
    while (replaying) {
      const failure = await login();
      logins++;
      if (failure) failures.push(failure);
    }
  })();
  const replay = await runLedger(['replay'], { LEDGER_DB: ledger.dbPath, LEDGER_SQLITE_SYNCHRONOUS: 'NORMAL' });
  replaying = false;
  await traffic;
  t.equal(replay.code, 0, replay.stderr);
  t.match(replay.stdout, /replayed \d+ events into \d+ sessions/);
  t.same(failures, [], `${logins} logins during the replay, none failed`);
  t.ok(logins > 0, 'traffic ran during the replay');

  t.equal(await login(), null, 'after the swap, the server goes on projecting: a new login reads its writes');
  await ledger.projector.waitForPosition(await ledger.store.lastPosition(), 10_000);
  const report = await verifyLedger({ store: ledger.store, readModel: ledger.ledger.readModel });
  t.match(report, { clean: true, differences: [], chainBreaks: [] });
  t.equal(report.checked, 200 + logins + 1);
});
