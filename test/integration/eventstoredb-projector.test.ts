import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { sessionStreamName } from '../../src/events/index.js';
import { createProjector } from '../../src/projector/index.js';
import { openEventStoreDbStore } from '../../src/store/eventstoredb/index.js';
import { startEsdbEmulator } from '../emulator/esdb-emulator.js';
import { newCredentialsStored, newSessionStarted, newVmDestroyed } from '../support/events.js';
import { checkpointOf, compareWithFold } from '../support/read-model-check.js';

t.test('a connection dropped mid-subscription: the projector resumes from its checkpoint, nothing skipped or doubled', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-esdb-projector-'));
  const emulator = await startEsdbEmulator();
  const store = openEventStoreDbStore({ connectionString: emulator.connectionString, resubscribeDelayMs: 50 });
  const db = new Database(join(dir, 'read-model.db'));
  const projector = createProjector({ store, db, retryDelayMs: 50 });
  t.teardown(async () => {
    await projector.stop();
    await store.close();
    db.close();
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // Before the drop: sessions started, half of them completed.
  for (let i = 0; i < 20; i++) {
    await store.append(sessionStreamName(`s${i}`), i % 2 ? [newSessionStarted(`s${i}`), newCredentialsStored(`s${i}`)] : [newSessionStarted(`s${i}`)]);
  }
  projector.start();
  const before = await store.lastPosition();
  t.ok(await projector.waitForPosition(before, 10_000), 'caught up before the drop');

  await emulator.dropConnections();
  // Written through the projector's own store, as in `ledger serve`: a call caught by the
  // client closing the dropped channel is made again on the new one.
  // While the connection is down and after: VM clean-ups (completed stay completed) and late credentials.
  let last = 0n;
  for (let i = 0; i < 20; i++) {
    const events = i % 3 ? [newVmDestroyed(`s${i}`)] : [newVmDestroyed(`s${i}`), newCredentialsStored(`s${i}`)];
    last = (await store.append(sessionStreamName(`s${i}`), events)).position;
  }
  t.ok(await projector.waitForPosition(last, 10_000), 'the projector passed every event appended after the drop');

  const { checked, differences } = await compareWithFold(store, db);
  t.equal(checked, 20);
  t.same(differences, [], 'the read model equals a fresh fold of the log: no event skipped, none applied twice');
  t.equal(checkpointOf(db), last, 'the checkpoint is the last position applied');
  t.equal(projector.failure, null);
});
