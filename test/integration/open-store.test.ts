import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openStore } from '../../src/application/open-store.js';
import type { SqliteEventStore } from '../../src/store/sqlite/index.js';
import { newSessionStarted } from '../support/events.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-open-store-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('embedded: one file, the events on a connection of their own, the read model on another', async (t) => {
  const path = join(dir, 'ledger.db');
  const opened = await openStore({ kind: 'sqlite', path });
  const events = (opened.store as SqliteEventStore).database;
  t.not(opened.readModelDb, events, 'a connection of its own');
  t.equal(opened.readModelDb.name, events.name, 'to the same file');
  // Neither makes SQLite sync at COMMIT: the store syncs the WAL before it acknowledges an
  // append (wal-sync.ts, held to it by the power-loss test); the read model is rebuilt from the log.
  t.equal(events.pragma('synchronous', { simple: true }), 1n, 'appends: synced by the store');
  t.equal(opened.readModelDb.pragma('synchronous', { simple: true }), 1, 'the read model: NORMAL');
  t.equal(opened.readModelDb.pragma('journal_mode', { simple: true }), 'wal');

  // Each sees what the other commits: the projector reads its checkpoint where the events are.
  await opened.store.append('authSession-s1', [newSessionStarted('s1')]);
  t.equal(opened.readModelDb.prepare('select count(*) from events').pluck().get(), 1);
  await opened.close();
  t.notOk(opened.readModelDb.open, 'closed with the store');
  t.notOk(events.open);
});
