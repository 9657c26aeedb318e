/**
 * `ledger backup <file>`: the restore drill (a backup taken while a real `ledger serve` is
 * under write load, a ledger started on the copy, `verify` clean, every append acknowledged
 * before the backup began in the copy), and what it refuses. The backups run through the
 * dispatcher in this process, the server in a process of its own: two processes on one file.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { createLedger } from '../../src/application/create-ledger.js';
import { runInProcess } from '../support/cli-in-process.js';
import { PROVIDERS, writeStory } from '../support/audited-ledger.js';
import { serveLedger } from '../support/served-ledger.js';
import { NO_SMALL_DISK, smallDisk } from '../support/storage-faults.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-backup-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Each event of a file, in position order: what a copy is compared by. */
function eventsOf(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('select position, event_id as eventId, hash from events order by position').all() as { position: number; eventId: string; hash: string }[];
  } finally {
    db.close();
  }
}

t.test('restore drill: a backup under write load, a ledger on the copy, verify clean', async (t) => {
  const served = await serveLedger();
  t.teardown(() => served.stop());
  const acknowledged: string[] = [];
  let backupBegan = false;
  const acknowledgedBeforeBackup: string[] = [];
  /** One writer: a session, then its facts, one after the other, each acknowledged (201) or the drill fails. */
  const writer = async (appends: number) => {
    const { sessionId } = await served.startSession();
    for (let i = 0; i < appends; i++) {
      const eventId = randomUUID();
      const answer = await served.call('POST', `/v1/sessions/${sessionId}/events`, {
        token: served.controller,
        body: { type: i % 2 === 0 ? 'SessionFailed' : 'CredentialsStored', eventId, data: i % 2 === 0 ? { reason: 'drill', errorMessage: 'a drill' } : { provider: 'gemini', credentialRef: `cred-${i}` } },
      });
      if (answer.status !== 201) throw new Error(`append answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      acknowledged.push(eventId);
      if (!backupBegan) acknowledgedBeforeBackup.push(eventId);
    }
  };
  const copy = join(dir, 'drill-copy.db');
  const load = Promise.all(Array.from({ length: 4 }, () => writer(30)));
  // Once the load is well under way.
  while (acknowledged.length < 20) await new Promise((resolve) => setTimeout(resolve, 10));
  backupBegan = true;
  const run = await runInProcess(['backup', copy], { LEDGER_DB: served.db });
  const afterBackup = acknowledged.length;
  await load;
  t.equal(run.code, 0, run.stderr);
  t.match(run.out.join('\n'), new RegExp(`^backed up ${served.db} to ${copy}: \\d+ events up to position \\d+, read model at position \\d+, \\d+ bytes$`));
  t.ok(afterBackup < acknowledged.length, 'appends went on after the backup began');
  t.same(readdirSync(dir), ['drill-copy.db'], 'one file, no -wal, nothing partial left');

  const original = eventsOf(served.db);
  const copied = eventsOf(copy);
  t.same(copied, original.slice(0, copied.length), "the copy is the log up to a moment: the original's first events, hashes and all");
  const inCopy = new Set(copied.map((event) => event.eventId));
  t.ok(acknowledgedBeforeBackup.length >= 20);
  t.ok(acknowledgedBeforeBackup.every((eventId) => inCopy.has(eventId)), 'every append acknowledged before the backup began is in the copy');
  t.match(run.out[0], `${copied.length} events up to position ${copied.at(-1)!.position}`);

  // A ledger started on the copy projects what its read model had not, and verify finds it clean.
  const restored = await createLedger({ store: { kind: 'sqlite', path: copy }, providers: PROVIDERS });
  restored.start();
  t.ok(await restored.projector.waitForPosition(BigInt(copied.at(-1)!.position), 10_000), 'the restored ledger catches up');
  await restored.close();
  const verify = await runInProcess(['verify'], { LEDGER_DB: copy });
  t.equal(verify.code, 0, verify.stdout);
  t.equal(verify.out.at(-1), 'clean');
});

t.test('what backup refuses, and --force', async (t) => {
  const ledger = join(dir, 'refusals', 'ledger.db');
  await writeStory(ledger);
  const env = { LEDGER_DB: ledger };
  const existing = join(dir, 'refusals', 'existing.db');
  writeFileSync(existing, 'an older backup');

  const kept = await runInProcess(['backup', existing], env);
  t.equal(kept.code, 1);
  t.same(kept.err, [`${existing} exists: name another file, or give --force to replace it`]);
  t.equal(readFileSync(existing, 'utf8'), 'an older backup', 'left as it was');

  const replaced = await runInProcess(['backup', existing, '--force'], env);
  t.equal(replaced.code, 0, replaced.stderr);
  t.same(eventsOf(existing), eventsOf(ledger), 'replaced by the copy');

  const itself = await runInProcess(['backup', ledger, '--force'], env);
  t.equal(itself.code, 1);
  t.same(itself.err, [`${ledger} is the ledger's database itself (LEDGER_DB): name another file`]);

  const nowhere = join(dir, 'no-such-folder', 'copy.db');
  const noFolder = await runInProcess(['backup', nowhere], env);
  t.equal(noFolder.code, 1);
  t.same(noFolder.err, [`the folder of ${nowhere} does not exist: create it first`]);

  const missing = join(dir, 'not-there.db');
  const noLedger = await runInProcess(['backup', join(dir, 'copy-of-nothing.db')], { LEDGER_DB: missing });
  t.equal(noLedger.code, 1);
  t.match(noLedger.err, [`no ledger database at ${missing} (LEDGER_DB)`]);
  t.notOk(existsSync(missing) || existsSync(join(dir, 'copy-of-nothing.db')), 'nothing created');

  const cluster = await runInProcess(['backup', join(dir, 'cluster.db')], { LEDGER_STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:1?tls=false' });
  t.equal(cluster.code, 2);
  t.match(cluster.err, [/^with LEDGER_STORE=eventstoredb the events live in the cluster: back them up with the cluster's own backups/]);

  const usage = await runInProcess(['backup'], env);
  t.equal(usage.code, 2);
  t.match(usage.err.join('\n'), 'missing <file>');
});

const disk = smallDisk(256);
t.teardown(() => disk?.unmount());
t.test('a backup onto a full disk: one line, exit 1, nothing left there', { skip: disk === null && NO_SMALL_DISK }, async (t) => {
  if (disk === null) return;
  const ledger = join(dir, 'to-a-full-disk', 'ledger.db');
  await writeStory(ledger);
  disk.fill();
  const target = join(disk.folder, 'copy.db');
  const run = await runInProcess(['backup', target], { LEDGER_DB: ledger });
  t.equal(run.code, 1);
  t.match(run.err, [new RegExp(`^cannot write the backup ${target}: the disk is full \\(SQLITE_.*\\); nothing was left there$`)]);
  t.same(readdirSync(disk.folder), [], 'no copy, whole or partial');
  disk.free();
  t.equal((await runInProcess(['backup', target], { LEDGER_DB: ledger })).code, 0, 'with room again, the backup is made');
});
