import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnavailableError } from '@eventstore/db-client';
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

  // A call that starts before the client has noticed the drop fails UNAVAILABLE, and the client
  // reconnects for the next one: the writer tries again, as a real one would. Its event ids are
  // the same, so a retry cannot double an event.
  const append = async (sessionId: string, events: Parameters<typeof store.append>[1]): Promise<bigint> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await store.append(sessionStreamName(sessionId), events)).position;
      } catch (error) {
        if (!(error instanceof UnavailableError) || attempt >= 3) throw error;
      }
    }
  };
  // Before the drop: sessions started, half of them completed.
  for (let i = 0; i < 20; i++) await append(`s${i}`, i % 2 ? [newSessionStarted(`s${i}`), newCredentialsStored(`s${i}`)] : [newSessionStarted(`s${i}`)]);
  projector.start();
  const before = await store.lastPosition();
  t.ok(await projector.waitForPosition(before, 10_000), 'caught up before the drop');

  await emulator.dropConnections();
  // Written through a client opened after the drop: the projector's own client learns of
  // the drop only when its subscription reports it, and then closes the dropped channel
  // under any call started in between, a race this test is not about.
  const writer = openEventStoreDbStore({ connectionString: emulator.connectionString });
  // While the connection is down and after: VM clean-ups (completed stay completed) and late credentials.
  let last = 0n;
  for (let i = 0; i < 20; i++) {
    const events = i % 3 ? [newVmDestroyed(`s${i}`)] : [newVmDestroyed(`s${i}`), newCredentialsStored(`s${i}`)];
    last = (await writer.append(sessionStreamName(`s${i}`), events)).position;
  }
  await writer.close();
  t.ok(await projector.waitForPosition(last, 10_000), 'the projector passed every event appended after the drop');

  const { checked, differences } = await compareWithFold(store, db);
  t.equal(checked, 20);
  t.same(differences, [], 'the read model equals a fresh fold of the log: no event skipped, none applied twice');
  t.equal(checkpointOf(db), last, 'the checkpoint is the last position applied');
  t.equal(projector.failure, null);
});
