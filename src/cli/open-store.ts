import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { LedgerConfig } from '../config.js';
import { openEventStoreDbStore } from '../store/eventstoredb/index.js';
import type { EventStore } from '../store/port.js';
import { openSqliteEventStore } from '../store/sqlite/index.js';

export interface OpenedStore {
  store: EventStore;
  /** The SQLite connection that holds the read model and its checkpoint. */
  readModelDb: Database.Database;
  close(): Promise<void>;
}

/**
 * The configured event store, and the SQLite file the read model lives in: the same file as
 * the events on the embedded default; a file of this instance's own on EventStoreDB, fed
 * from `$all`, so instances scale out with no shared read database.
 */
export function openConfiguredStore(config: LedgerConfig): OpenedStore {
  if (config.LEDGER_STORE === 'sqlite') {
    const store = openSqliteEventStore({ path: config.LEDGER_DB, synchronous: config.LEDGER_SQLITE_SYNCHRONOUS });
    return { store, readModelDb: store.database, close: () => store.close() };
  }
  const store = openEventStoreDbStore({ connectionString: config.EVENTSTORE_CONNECTION_STRING! });
  mkdirSync(dirname(config.LEDGER_DB), { recursive: true });
  const readModelDb = new Database(config.LEDGER_DB);
  readModelDb.pragma('journal_mode = WAL');
  // The read model can be rebuilt from the log, so it need not sync every commit.
  readModelDb.pragma('synchronous = NORMAL');
  return {
    store,
    readModelDb,
    async close() {
      await store.close();
      readModelDb.close();
    },
  };
}
