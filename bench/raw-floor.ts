// The floor under any SQLite event store: better-sqlite3 inserting rows straight into the
// ledger's own `events` table (same columns, indexes and constraints), in WAL mode with
// synchronous FULL, so each commit costs the fsync the ledger's commits cost. No reads, no
// checks, no hash: what is left when the store does nothing but write.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { migrate } from '../src/store/sqlite/migrations.js';
import type { Login } from './login-event.js';

/** Inserts the logins' events, `rowsPerCommit` to a transaction; rows written per second. */
export function rawInsertRate(path: string, logins: readonly Login[], rowsPerCommit: number): number {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    migrate(db);
    const insert = db.prepare(
      'insert into events (stream_name, category, revision, event_id, type, data, metadata, hash) values (?, ?, 0, ?, ?, ?, ?, ?)',
    );
    // A stand-in for the hash chain's link, the same length as a SHA-256 in hex.
    const rows = logins.map(({ streamName, event }) => [
      streamName, 'authSession', event.eventId, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata), randomUUID().repeat(2).slice(0, 64),
    ]);
    const commit = db.transaction((batch: unknown[][]) => {
      for (const row of batch) insert.run(...row);
    });
    const begin = performance.now();
    for (let first = 0; first < rows.length; first += rowsPerCommit) commit(rows.slice(first, first + rowsPerCommit));
    return rows.length / ((performance.now() - begin) / 1000);
  } finally {
    db.close();
  }
}
