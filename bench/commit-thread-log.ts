// The log both commit-thread prototypes write: the ledger's events table in raw better-sqlite3
// (WAL, synchronous=FULL), and the one function that commits a batch of appends. The main
// thread and the worker call the same function, so the two prototypes do the same work per
// append (idempotency look-up, stream head, expected revision, hash link, insert) and differ
// only in which thread waits for the fsync.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { SAFETY_NET_CHECKPOINT_PAGES } from '../src/store/sqlite/checkpointer.js';
import { migrate } from '../src/store/sqlite/migrations.js';

/** One append as a caller asks for it; `ticket` matches its acknowledgement. */
export interface PrototypeAppend {
  ticket: number;
  streamName: string;
  /** The stream's current revision as the caller knows it; -1 for a stream not yet written. */
  expectedRevision: number;
  eventId: string;
  type: string;
  data: unknown;
  metadata: unknown;
}

/** The answer to one append, sent only after the transaction that holds it committed. */
export type PrototypeAck =
  | { ticket: number; position: number; revision: number }
  | { ticket: number; error: string };

/** What the scenario drives, on either thread: an append that resolves once its transaction committed. */
export interface PrototypeAppender {
  append(append: Omit<PrototypeAppend, 'ticket'>): Promise<PrototypeAck>;
  /** Transactions committed so far (appends / commits = the mean batch). */
  readonly commits: number;
  /** Time spent in those commits, in ms, on whichever thread ran them. */
  readonly commitMs: number;
  close(): Promise<void>;
}

/** The most appends one transaction takes: a burst waits for the next commit, not a longer one. */
export const MAX_BATCH = 512;

const GENESIS_HASH = '0'.repeat(64);

export interface PrototypeLog {
  /** Writes the batch in one transaction (one fsync); a commit that fails acknowledges none of it. */
  commitBatch(appends: readonly PrototypeAppend[]): PrototypeAck[];
  /** The events stored, read back to check that what was acknowledged is there. */
  storedCount(): number;
  close(): void;
}

interface Head {
  revision: number;
  hash: string;
}

/**
 * The ledger's events table and indexes, in a new file at `path`. `syncedByCaller`: the caller
 * syncs the WAL and checkpoints it, off the event loop, as the ledger's store does.
 */
export function openPrototypeLog(path: string, { syncedByCaller = false }: { syncedByCaller?: boolean } = {}): PrototypeLog {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // A caller that syncs the WAL itself before it acknowledges (as the ledger's store does) has
  // SQLite commit without syncing; the durability of what is acknowledged is the same.
  db.pragma(`synchronous = ${syncedByCaller ? 'NORMAL' : 'FULL'}`);
  // Such a caller also checkpoints off the event loop (src/store/sqlite/checkpointer.ts).
  if (syncedByCaller) db.pragma(`wal_autocheckpoint = ${SAFETY_NET_CHECKPOINT_PAGES}`);
  // The ledger's own table and indexes, as its migrations make them.
  migrate(db);

  const byId = db.prepare('select position, stream_name, revision, type, data from events where event_id = ?');
  const head = db.prepare('select revision, hash from events where stream_name = ? order by revision desc limit 1');
  const insert = db.prepare(
    'insert into events (stream_name, category, revision, event_id, type, data, metadata, hash) values (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const count = db.prepare('select count(*) from events').pluck();

  const commit = db.transaction((appends: readonly PrototypeAppend[]): PrototypeAck[] => {
    // Heads written earlier in this batch: the same stream twice in one batch links to itself.
    const heads = new Map<string, Head>();
    return appends.map((append): PrototypeAck => {
      const { ticket, streamName, expectedRevision, eventId, type } = append;
      const dataJson = JSON.stringify(append.data);
      const earlier = byId.get(eventId) as { position: number; stream_name: string; revision: number; type: string; data: string } | undefined;
      if (earlier !== undefined) {
        // The same event again is answered as first recorded; another event under its id is refused.
        const same = earlier.stream_name === streamName && earlier.type === type && earlier.data === dataJson;
        return same ? { ticket, position: earlier.position, revision: earlier.revision } : { ticket, error: `event id ${eventId} is taken` };
      }
      const current = heads.get(streamName) ?? (head.get(streamName) as Head | undefined);
      const revision = (current?.revision ?? -1) + 1;
      if (expectedRevision !== revision - 1) return { ticket, error: `${streamName} is at revision ${revision - 1}, not ${expectedRevision}` };
      const metadataJson = JSON.stringify(append.metadata);
      const hash = createHash('sha256')
        .update([current?.hash ?? GENESIS_HASH, streamName, String(revision), eventId, type, dataJson, metadataJson].join('\n'))
        .digest('hex');
      const dash = streamName.indexOf('-');
      const category = dash === -1 ? streamName : streamName.slice(0, dash);
      const position = Number(insert.run(streamName, category, revision, eventId, type, dataJson, metadataJson, hash).lastInsertRowid);
      heads.set(streamName, { revision, hash });
      return { ticket, position, revision };
    });
  });

  return {
    commitBatch(appends) {
      try {
        // IMMEDIATE, as the ledger's append: the write lock before the first read.
        return commit.immediate(appends);
      } catch (error) {
        const reason = `batch not committed: ${error instanceof Error ? error.message : String(error)}`;
        return appends.map(({ ticket }) => ({ ticket, error: reason }));
      }
    },
    storedCount: () => count.get() as number,
    close: () => db.close(),
  };
}
