/**
 * Commands that only read never create: pointed at a database that is not there they say so
 * and leave no folder or file behind; on one that is there they change nothing, not even its
 * schema. Only serve, simulate and the imports create.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { runInProcess } from '../support/cli-in-process.js';
import { runLedger } from '../support/ledger-process.js';
import { writeStory } from '../support/audited-ledger.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-read-only-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const NEEDS_A_LEDGER = [['history', 'some-session'], ['verify'], ['export'], ['seal', '--list'], ['replay']];

t.test('a mistyped LEDGER_DB: a clear error, exit 1, and no folder or file created', async (t) => {
  const mistyped = join(dir, 'mistyped', 'path', 'ledger.db');
  for (const args of NEEDS_A_LEDGER) {
    const run = await runInProcess(args, { LEDGER_DB: mistyped });
    t.equal(run.code, 1, args.join(' '));
    t.same(run.err, [`no ledger database at ${mistyped} (LEDGER_DB), and this command creates none: check the path, or start a ledger there with \`ledger serve\``]);
    t.same(run.out, []);
  }
  const token = await runInProcess(['token', '--role', 'auditor'], { LEDGER_DB: mistyped });
  t.equal(token.code, 2, 'token without a secret to sign with');
  t.match(token.err.join('\n'), 'no token secret');
  t.notOk(existsSync(join(dir, 'mistyped')), 'nothing was created');
});

t.test('as a real process: history on a missing file', async (t) => {
  const missing = join(dir, 'elsewhere', 'ledger.db');
  const run = await runLedger(['history', 'x'], { LEDGER_DB: missing });
  t.equal(run.code, 1);
  t.match(run.stderr, `no ledger database at ${missing}`);
  t.notOk(existsSync(join(dir, 'elsewhere')));
});

t.test('on a ledger an older version wrote, reading commands refuse rather than migrate it', async (t) => {
  const path = join(dir, 'older.db');
  const story = await writeStory(path);
  const db = new Database(path);
  db.exec('delete from schema_version where version = (select max(version) from schema_version)');
  db.close();
  const versionOf = () => {
    const opened = new Database(path, { readonly: true });
    const { version } = opened.prepare('select max(version) as version from schema_version').get() as { version: number };
    opened.close();
    return version;
  };
  const before = versionOf();
  for (const args of [['history', story.cancelled], ['verify'], ['export']]) {
    const run = await runInProcess(args, { LEDGER_DB: path });
    t.equal(run.code, 1, args.join(' '));
    t.match(run.err.join('\n'), `the database has schema_version ${before}, older than this ledger's ${before + 1}; \`ledger serve\` brings it up to date`);
  }
  t.equal(versionOf(), before, 'still at the version it had');
});

t.test('on a ledger that is there, the reading commands read it', async (t) => {
  const path = join(dir, 'ledger.db');
  const story = await writeStory(path);
  const history = await runInProcess(['history', story.completedThenCleanedUp, '--json'], { LEDGER_DB: path });
  t.equal(history.code, 0, history.err.join('\n'));
  t.match(JSON.parse(history.out.join('\n')), { status: 'completed' });
  const verify = await runInProcess(['verify'], { LEDGER_DB: path });
  t.equal(verify.code, 0, verify.out.join('\n'));
  t.equal(verify.out.at(-1), 'clean');
});
