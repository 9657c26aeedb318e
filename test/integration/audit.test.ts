/**
 * `verify` over a real SQLite file: the read model is the fold of the log, every chain holds,
 * and each way of tampering with the file is named: an event's byte, an event deleted, two
 * swapped, a row's status edited, a row deleted. A careful forger who recomputes the chain,
 * or cuts a stream short and replays, passes the chain check, and only the seals catch him.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createLedger } from '../../src/application/create-ledger.js';
import { replayReadModel } from '../../src/audit/replay.js';
import { sealLog, sealsDocument } from '../../src/audit/sealer.js';
import { readSealKey, sealHash, writeNewSealKey, type SealKey } from '../../src/audit/seals.js';
import { verifyLedger, type VerifyReport } from '../../src/audit/verify.js';
import { withProjectedLedger, writeStory, type Story } from '../support/audited-ledger.js';
import { changeAByte, deleteEvent, deleteRow, editAndRechain, editStatus, swapEvents, truncateStream } from '../support/tamper.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-audit-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function freshStory(): Promise<{ path: string; story: Story }> {
  const path = join(dir, `${randomUUID()}.db`);
  return { path, story: await writeStory(path) };
}

/** Verifies the ledger on `path` as it is, without projecting first (the read model is under test). */
async function verify(path: string, seals?: Parameters<typeof verifyLedger>[0]['seals']): Promise<VerifyReport> {
  const ledger = await createLedger({ store: { kind: 'sqlite', path }, providers: ['gemini'] });
  try {
    return await verifyLedger({ store: ledger.store, readModel: ledger.readModel, seals });
  } finally {
    await ledger.close();
  }
}

t.test('a ledger as it should be: clean, every session and event checked', async (t) => {
  const { path } = await freshStory();
  const report = await verify(path);
  t.match(report, { checked: 5, events: 12, differences: [], chainBreaks: [], undecodable: [], clean: true });
});

t.test("a changed byte of one event's data: its chain breaks there", async (t) => {
  const { path, story } = await freshStory();
  changeAByte(path, story.completedThenCleanedUp, 1);
  const report = await verify(path);
  t.same(report.chainBreaks, [{ sessionId: story.completedThenCleanedUp, revision: '1', reason: 'hash' }]);
  t.equal(report.clean, false);
});

t.test('an event deleted from the middle of a stream: a revision is missing, and the fold differs', async (t) => {
  const { path, story } = await freshStory();
  deleteEvent(path, story.failedThenLate, 1);
  const report = await verify(path);
  t.same(report.chainBreaks, [{ sessionId: story.failedThenLate, revision: '2', reason: 'sequence' }]);
  t.ok(report.differences.some((d) => d.sessionId === story.failedThenLate && d.column === 'anomalies'), 'the late credentials no longer come after a failure');
});

t.test('two events swapped: the chain breaks at the first of them', async (t) => {
  const { path, story } = await freshStory();
  swapEvents(path, story.cancelled, 1, 2);
  const report = await verify(path);
  t.same(report.chainBreaks, [{ sessionId: story.cancelled, revision: '1', reason: 'hash' }]);
});

t.test("a read-model row's status edited: the column is named, with both values", async (t) => {
  const { path, story } = await freshStory();
  editStatus(path, story.completedThenCleanedUp, 'failed');
  const report = await verify(path);
  t.same(report.differences, [{ sessionId: story.completedThenCleanedUp, column: 'status', readModel: '"failed"', fold: '"completed"' }]);
  t.same(report.chainBreaks, [], 'the log itself is whole');
});

t.test('a row deleted from the read model: the row is named as missing', async (t) => {
  const { path, story } = await freshStory();
  deleteRow(path, story.pending);
  const report = await verify(path);
  t.match(report.differences, [{ sessionId: story.pending, column: 'row', readModel: 'missing', fold: /"status":"pending"/ }]);
  t.equal(report.differences.length, 1);
});

t.test('a row the log does not explain: named too', async (t) => {
  const { path, story } = await freshStory();
  deleteEvent(path, story.pending, 0);
  const report = await verify(path);
  t.match(report.differences, [{ sessionId: story.pending, column: 'row', readModel: /"status":"pending"/, fold: 'missing' }]);
});

/** A new seal key in the test's folder. */
function newKey(): SealKey {
  const file = join(dir, `${randomUUID()}.key`);
  writeNewSealKey(file);
  return readSealKey(file);
}

/** Seals the ledger on `path` (its read model projected first) and gives back the seals document, as an auditor keeps a copy. */
const sealAndCopy = (t: Test, path: string, key: SealKey) =>
  withProjectedLedger(path, async (ledger) => {
    t.ok(await sealLog({ readModelPath: ledger.readModelPath, store: ledger.store, key, clock: () => new Date() }), 'sealed');
    return sealsDocument(ledger.readModelDb, key.publicKeyPem);
  });

t.test('seals of an untouched log all hold: each new one follows the last, and signs the heads the log gives', async (t) => {
  const { path, story } = await freshStory();
  const key = newKey();
  await sealAndCopy(t, path, key);
  await withProjectedLedger(path, async (ledger) => {
    t.equal(await sealLog({ readModelPath: ledger.readModelPath, store: ledger.store, key, clock: () => new Date() }), null, 'the log has not moved: nothing to seal');
    await ledger.commands(
      { type: 'RecordFact', data: { fact: { type: 'VmDestroyed', data: { sessionId: story.pending, vmId: 'vm-x', reason: 'gone' } } } },
      { eventId: randomUUID(), actor: { role: 'controller', sub: 'vm-manager' } },
    );
  });
  const copy = await sealAndCopy(t, path, key);
  t.equal(copy.seals.length, 2);
  t.equal(copy.seals[1]!.previousSeal, sealHash(copy.seals[0]!), 'the second names the first');
  const report = await verify(path, { seals: copy.seals, publicKey: createPublicKey(key.publicKeyPem) });
  t.same(report.seals, { checked: 2, broken: null });
  t.equal(report.clean, true);
});

t.test('a seal altered, dropped, or checked with another key: named, and why', async (t) => {
  const { path } = await freshStory();
  const key = newKey();
  await sealAndCopy(t, path, key);
  await withProjectedLedger(path, (ledger) =>
    ledger.commands(
      { type: 'StartSession', data: { sessionId: 'one-more', userId: 'u', provider: 'gemini', browserVmId: 'vm-1', expiresAt: new Date(Date.now() + 60_000).toISOString() } },
      { eventId: randomUUID(), actor: { role: 'controller', sub: 'vm-manager' } },
    ),
  );
  const { seals } = await sealAndCopy(t, path, key);
  const publicKey = createPublicKey(key.publicKeyPem);
  const altered = [seals[0]!, { ...seals[1]!, headsHash: '0'.repeat(64) }];
  t.match((await verify(path, { seals: altered, publicKey })).seals?.broken, { index: 1, reason: 'signature' });
  t.match((await verify(path, { seals: [seals[1]!], publicKey })).seals?.broken, { index: 0, reason: 'chain' }, 'the second without the first names a seal nobody has');
  t.match((await verify(path, { seals, publicKey: createPublicKey(newKey().publicKeyPem) })).seals?.broken, { index: 0, reason: 'signature' });
});

t.test('the careful forger: a chain recomputed after an edit passes verify alone; the seals taken before catch it', async (t) => {
  const { path, story } = await freshStory();
  const key = newKey();
  const copy = await sealAndCopy(t, path, key);
  // A failure turned into another story: the credential reference edited, every later hash recomputed.
  editAndRechain(path, story.failedThenLate, 2, (data) => ({ ...data, credentialRef: 'cred-forged' }));
  const alone = await verify(path);
  t.equal(alone.clean, true, 'every chain holds, and the read model (which never showed the reference) agrees: verify alone passes');
  const sealed = await verify(path, { seals: copy.seals, publicKey: createPublicKey(key.publicKeyPem) });
  t.match(sealed.seals, { checked: 1, broken: { index: 0, position: copy.seals[0]!.position, reason: 'heads' } }, 'the seal no longer holds');
  t.equal(sealed.clean, false);
});

t.test("a stream's last events cut off and the read model replayed: verify alone passes; the seals catch it", async (t) => {
  const { path, story } = await freshStory();
  const key = newKey();
  const copy = await sealAndCopy(t, path, key);
  truncateStream(path, story.completedThenCleanedUp, 1);
  t.match(await verify(path), { clean: false }, 'before the replay, the read model still remembers them');
  const replayed = await withProjectedLedger(path, (ledger) => replayReadModel({ store: ledger.store, readModelPath: ledger.readModelPath }));
  t.match(replayed, { sessions: 5 });
  t.match(await verify(path), { clean: true, chainBreaks: [], differences: [] }, 'after it, the read model is the fold of what is left');
  const sealed = await verify(path, { seals: copy.seals, publicKey: createPublicKey(key.publicKeyPem) });
  t.match(sealed.seals?.broken, { index: 0, reason: 'heads' });
});

t.test('a started ledger with a seal key seals on its timer while the log moves, and not while it stands still', async (t) => {
  const path = join(dir, `${randomUUID()}.db`);
  const keyFile = join(dir, `${randomUUID()}.key`);
  writeNewSealKey(keyFile);
  const ledger = await createLedger({ store: { kind: 'sqlite', path }, providers: ['gemini'], seal: { keyFile, intervalMs: 30 } });
  t.teardown(() => ledger.close());
  ledger.start();
  const count = () => sealsDocument(ledger.readModelDb, null).seals.length;
  const start = (sessionId: string) =>
    ledger.commands(
      { type: 'StartSession', data: { sessionId, userId: 'u', provider: 'gemini', browserVmId: 'vm', expiresAt: new Date(Date.now() + 60_000).toISOString() } },
      { eventId: randomUUID(), actor: { role: 'controller', sub: 'vm-manager' } },
    );
  /** Waits, bounded, until a seal covers `position`. */
  const sealedAfter = async (position: bigint) => {
    for (const deadline = Date.now() + 5000; !sealsDocument(ledger.readModelDb, null).seals.some((seal) => BigInt(seal.position) >= position); ) {
      if (Date.now() > deadline) throw new Error(`no seal reached position ${position} within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  await sealedAfter((await start('first')).position);
  const sealed = count();
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(count(), sealed, 'the log did not move: no new seal');
  await sealedAfter((await start('second')).position);
  const { seals } = sealsDocument(ledger.readModelDb, null);
  t.equal(seals.at(-1)!.previousSeal, sealHash(seals.at(-2)!), 'the new seal follows the last');
  t.match(await verify(path, { seals, publicKey: createPublicKey(readSealKey(keyFile).publicKeyPem) }), { clean: true, seals: { broken: null } });
});
