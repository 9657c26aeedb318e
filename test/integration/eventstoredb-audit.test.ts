/**
 * The auditors' tools on EventStoreDB (over real gRPC, against the test emulator): verify
 * walks the streams through the adapter, replay rebuilds this instance's read model from
 * `$all`, and seals are taken and checked.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createLedger } from '../../src/application/create-ledger.js';
import { replayReadModel } from '../../src/audit/replay.js';
import { sealLog, sealsDocument } from '../../src/audit/sealer.js';
import { readSealKey, writeNewSealKey } from '../../src/audit/seals.js';
import { verifyLedger } from '../../src/audit/verify.js';
import { sessionStreamName } from '../../src/events/index.js';
import { startEsdbEmulator } from '../emulator/esdb-emulator.js';
import { newCredentialsStored, newSessionStarted, newVmDestroyed } from '../support/events.js';
import { editStatus } from '../support/tamper.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-esdb-audit-'));
const emulator = await startEsdbEmulator();
t.teardown(async () => {
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
});
const readModelPath = join(dir, 'read-model.db');
const ledger = await createLedger({ store: { kind: 'eventstoredb', connectionString: emulator.connectionString, readModelPath }, providers: ['gemini'] });
t.teardown(() => ledger.close());
for (let i = 0; i < 30; i++) {
  const sessionId = `esdb-audit-${i}`;
  await ledger.store.append(sessionStreamName(sessionId), [newSessionStarted(sessionId), ...(i % 3 === 0 ? [newVmDestroyed(sessionId)] : []), ...(i % 2 === 0 ? [newCredentialsStored(sessionId)] : [])]);
}
ledger.start();
await ledger.projector.waitForPosition(await ledger.store.lastPosition(), 10_000);

const verify = (seals?: Parameters<typeof verifyLedger>[0]['seals']) => verifyLedger({ store: ledger.store, readModel: ledger.readModel, seals, pageSize: 7 });

t.test('verify walks every stream of the log through the adapter, a page of names at a time', async (t) => {
  t.match(await verify(), { checked: 30, events: 30 + 10 + 15, clean: true });
});

t.test("replay rebuilds this instance's read model from $all, and verify agrees", async (t) => {
  editStatus(readModelPath, 'esdb-audit-1', 'completed');
  t.match(await verify(), { clean: false, differences: [{ sessionId: 'esdb-audit-1', column: 'status' }] });
  const replayed = await replayReadModel({ store: ledger.store, readModelPath, batchSize: 10 });
  t.match(replayed, { events: 55, sessions: 30 });
  t.match(await verify(), { clean: true });
});

t.test('a seal of the log on EventStoreDB holds, and verify checks it', async (t) => {
  const keyFile = join(dir, `${randomUUID()}.key`);
  writeNewSealKey(keyFile);
  const key = readSealKey(keyFile);
  t.ok(await sealLog({ readModelPath, store: ledger.store, key, clock: () => new Date() }));
  const { seals } = sealsDocument(ledger.readModelDb, key.publicKeyPem);
  t.match(await verify({ seals, publicKey: createPublicKey(key.publicKeyPem) }), { clean: true, seals: { checked: 1, broken: null } });
});
