// The floor under any SQLite event store: better-sqlite3 inserting rows straight into the
// ledger's own `events` table (same columns, indexes and constraints), in WAL mode with
// synchronous FULL, so each commit costs the fsync the ledger's commits cost. No reads, no
// checks, no hash: what is left when the store does nothing but write.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { migrate } from '../src/store/sqlite/migrations.js';
import type { Login } from './login-event.js';

export interface RawFloor {
  /** Inserts the logins' events, `rowsPerCommit` to a transaction; how long it took, in ms. */
  insert(logins: readonly Login[]): number;
  close(): void;
}

export function openRawFloor(path: string, rowsPerCommit: number): RawFloor {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  migrate(db);
  const insert = db.prepare(
    'insert into events (stream_name, category, revision, event_id, type, data, metadata, hash) values (?, ?, 0, ?, ?, ?, ?, ?)',
  );
  const commit = db.transaction((batch: unknown[][]) => {
    for (const row of batch) insert.run(...row);
  });
  return {
    insert(logins) {
      // A stand-in for the hash chain's link, the same length as a SHA-256 in hex.
      const rows = logins.map(({ streamName, event }) => [
        streamName, 'authSession', event.eventId, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata), randomUUID().repeat(2).slice(0, 64),
      ]);
      const begin = performance.now();
      for (let first = 0; first < rows.length; first += rowsPerCommit) commit(rows.slice(first, first + rowsPerCommit));
      return performance.now() - begin;
    },
    close: () => db.close(),
  };
}
