/**
 * `ledger serve` on storage it cannot use: a file that is not a database, a corrupt one, a
 * folder that cannot be created, a read-only file, a full disk. Each stops it before it
 * listens, with one line on stderr that names the file and the fix, and exit 1: no stack
 * trace. Run through the dispatcher in this process (the same path as the real process).
 */
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { runInProcess } from '../support/cli-in-process.js';
import { writeStory } from '../support/audited-ledger.js';
import { JWT_SECRET } from '../support/ledger-server.js';
import { makeReadOnly, NO_SMALL_DISK, readOnlyFilesUnavailable, smallDisk } from '../support/storage-faults.js';

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

const disk = smallDisk(1024);
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
