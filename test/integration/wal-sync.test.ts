import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { walSyncOf } from '../../src/store/sqlite/wal-sync.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-wal-sync-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** A database in WAL mode that has written, so its log exists. */
function walDatabase(name: string) {
  const path = join(dir, name);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('create table t (x)');
  return { path, db };
}

t.test('a sync asked for while one runs waits for the next, which covers every commit before it', async (t) => {
  const { path, db } = walDatabase('shared.db');
  const wal = walSyncOf(path);
  db.prepare('insert into t values (1)').run();
  const first = wal.afterCommit();
  db.prepare('insert into t values (2)').run();
  const second = wal.afterCommit();
  const third = wal.afterCommit();
  t.not(second, first, 'the running sync may have begun before the second commit');
  t.equal(third, second, 'commits made while one sync runs share the next');
  const order: string[] = [];
  await Promise.all([first.then(() => order.push('first')), second.then(() => order.push('second'))]);
  t.same(order, ['first', 'second']);
  t.not(wal.afterCommit(), second, 'once no sync runs, a new one starts at once');
  await wal.close();
  db.close();
});

t.test('close waits for the syncs asked for', async (t) => {
  const { path, db } = walDatabase('close.db');
  const wal = walSyncOf(path);
  const settled: number[] = [];
  for (let i = 0; i < 3; i++) {
    db.prepare('insert into t values (?)').run(i);
    void wal.afterCommit().then(() => settled.push(i));
  }
  await wal.close();
  t.same(settled, [0, 1, 2]);
  db.close();
});

t.test('a database without its log cannot be synced, and says so at once', async (t) => {
  t.throws(() => walSyncOf(join(dir, 'missing.db')), { code: 'ENOENT' });
});
