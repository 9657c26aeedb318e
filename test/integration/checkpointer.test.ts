/**
 * Checkpoints off the event loop (checkpointer.ts): the store's own connection leaves SQLite's
 * automatic checkpoint as a safety net only, and a worker thread copies the WAL back into the
 * database file as appends accumulate; a checkpointer that cannot work hands back to SQLite.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { createCheckpointer, EVENTS_PER_CHECKPOINT, SAFETY_NET_CHECKPOINT_PAGES } from '../../src/store/sqlite/checkpointer.js';
import { openSqliteEventStore } from '../../src/store/sqlite/index.js';
import { newSessionStarted } from '../support/events.js';


/** Waits, bounded, for what another thread does. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 10_000) throw new Error(`not within 10 s: ${what}`);
    await sleep(20);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ledger-checkpointer-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('appends reach the database file by a checkpoint no connection of the event loop runs', async (t) => {
  const path = join(dir, 'ledger.db');
  const store = openSqliteEventStore({ path });
  t.equal(store.database.pragma('wal_autocheckpoint', { simple: true }), BigInt(SAFETY_NET_CHECKPOINT_PAGES), "SQLite's own checkpoint only as a safety net");
  const before = statSync(path).size;
  // Far below the safety net's 10,000 pages: only the checkpointer copies them into the file.
  for (let i = 0; i < 3; i++) {
    await Promise.all(Array.from({ length: EVENTS_PER_CHECKPOINT / 2 }, () => {
      const id = randomUUID();
      return store.append(`authSession-${id}`, [newSessionStarted(id)]);
    }));
  }
  await until(() => statSync(path).size > before, 'the database file grew by a checkpoint');
  t.ok(statSync(path).size > before, `the database file grew from ${before} bytes to ${statSync(path).size}`);
  await store.close();
});

t.test('a checkpointer that cannot open the file says so, once, and the caller takes over', async (t) => {
  const reasons: string[] = [];
  const checkpointer = createCheckpointer({ path: join(dir, 'missing.db'), busyTimeoutMs: 100, onFailure: (reason) => reasons.push(reason) });
  checkpointer.appended(EVENTS_PER_CHECKPOINT);
  await until(() => reasons.length > 0, 'the failure reported');
  checkpointer.appended(EVENTS_PER_CHECKPOINT);
  await checkpointer.close();
  t.equal(reasons.length, 1);
  t.match(reasons[0], /^checkpoint failed: .*unable to open database file/);
});
