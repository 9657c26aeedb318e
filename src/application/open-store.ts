import type Database from 'better-sqlite3';
import type { EventStoreDbStoreOptions } from '../store/eventstoredb/index.js';
import type { EventStore } from '../store/port.js';
import { openSqliteEventStore, type SqliteEventStoreOptions } from '../store/sqlite/index.js';
import { SAFETY_NET_CHECKPOINT_PAGES } from '../store/sqlite/checkpointer.js';
import { openDatabaseFile, probeWritable } from '../store/sqlite/database-file.js';
import { withStorageFaults } from '../store/sqlite/storage-fault.js';

/**
 * Where the events live: the embedded SQLite file (which then holds the read model too), or
 * EventStoreDB, with the read model in a SQLite file of this instance's own.
 */
export type StoreChoice =
  | ({ kind: 'sqlite' } & SqliteEventStoreOptions)
  | ({
      kind: 'eventstoredb';
      /** The read model's SQLite file. */
      readModelPath: string;
      access?: SqliteEventStoreOptions['access'];
    } & EventStoreDbStoreOptions);

export interface OpenedStore {
  store: EventStore;
  /** The SQLite connection that holds the read model and its checkpoint. */
  readModelDb: Database.Database;
  /** Writes one page of the SQLite file (the events' too, on the embedded default): a StorageFaultError if it cannot. */
  probeWrite: () => void;
  close(): Promise<void>;
}

/** A write of one page to the connection's file, its failure said as a storage fault. */
const probeOf = (db: Database.Database) => () => withStorageFaults(db.name, 'write', () => probeWritable(db));

/** The read model's connection: it can be rebuilt from the log, so it need not sync every commit. */
const openReadModelFile = (path: string, { access = 'create', busyTimeoutMs = 5000 }: { access?: SqliteEventStoreOptions['access']; busyTimeoutMs?: number }) =>
  openDatabaseFile(path, { access, busyTimeoutMs, synchronous: 'NORMAL' });

/**
 * The chosen event store, and the SQLite file the read model lives in: the same file as the
 * events on the embedded default; a file of this instance's own on EventStoreDB, fed from
 * `$all`, so instances scale out with no shared read database. The EventStoreDB adapter (and
 * its gRPC client, a good part of a process's memory) is loaded only when it is the choice.
 */
export async function openStore(choice: StoreChoice): Promise<OpenedStore> {
  if (choice.kind === 'sqlite') {
    const store = openSqliteEventStore(choice);
    // The same file, on a connection of its own, so the projectors' commits do not wait for an
    // fsync: an append is synced when it is acknowledged, and a read-model batch lost to a power
    // cut is lost with its checkpoint, so the projector applies it again from the log.
    let readModelDb: Database.Database;
    try {
      readModelDb = openReadModelFile(choice.path, choice);
      // The store's checkpointer checkpoints this file off the event loop; SQLite's own, on
      // this connection, only if it falls far behind.
      if (!readModelDb.readonly) readModelDb.pragma(`wal_autocheckpoint = ${SAFETY_NET_CHECKPOINT_PAGES}`);
    } catch (error) {
      await store.close();
      throw error;
    }
    return {
      store,
      readModelDb,
      probeWrite: probeOf(store.database),
      async close() {
        await store.close();
        readModelDb.close();
      },
    };
  }
  // The file first: a read-only command pointed at a missing one stops before connecting.
  const readModelDb = openReadModelFile(choice.readModelPath, choice);
  const store = await openEventLog(choice);
  return {
    store,
    readModelDb,
    probeWrite: probeOf(readModelDb),
    async close() {
      await store.close();
      readModelDb.close();
    },
  };
}

/**
 * The events alone, for a command that reads nothing else (history, export): on EventStoreDB
 * it does not touch this instance's read-model file.
 */
export async function openEventLog(choice: StoreChoice): Promise<EventStore> {
  if (choice.kind === 'sqlite') return openSqliteEventStore(choice);
  const { openEventStoreDbStore } = await import('../store/eventstoredb/index.js');
  return openEventStoreDbStore(choice);
}
