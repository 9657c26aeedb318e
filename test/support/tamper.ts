/**
 * What someone with write access to the SQLite file could do to it, each as a test does it:
 * straight SQL on the file, behind the ledger's back.
 */
import Database from 'better-sqlite3';
import { sessionStreamName } from '../../src/events/index.js';
import { chainHashes, GENESIS_HASH } from '../../src/store/hash-chain.js';

function withFile<T>(path: string, change: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return db.transaction(() => change(db))();
  } finally {
    db.close();
  }
}

interface Row {
  position: number;
  stream_name: string;
  revision: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  hash: string | null;
}
const streamOf = (db: Database.Database, sessionId: string) =>
  db.prepare('select * from events where stream_name = ? order by revision').all(sessionStreamName(sessionId)) as Row[];

/** Changes one byte of an event's data (its stored hash left as it was). */
export const changeAByte = (path: string, sessionId: string, revision: number) =>
  withFile(path, (db) => {
    const row = streamOf(db, sessionId)[revision]!;
    // The last character of the last value (a reason, a credential reference): still valid JSON.
    const at = row.data.lastIndexOf('"') - 1;
    const changed = row.data.slice(0, at) + (row.data[at] === 'a' ? 'b' : 'a') + row.data.slice(at + 1);
    db.prepare('update events set data = ? where position = ?').run(changed, row.position);
  });

/** Deletes an event from a stream. */
export const deleteEvent = (path: string, sessionId: string, revision: number) =>
  withFile(path, (db) => db.prepare('delete from events where stream_name = ? and revision = ?').run(sessionStreamName(sessionId), revision));

/** Swaps two events of a stream: each takes the other's revision. */
export const swapEvents = (path: string, sessionId: string, a: number, b: number) =>
  withFile(path, (db) => {
    const move = db.prepare('update events set revision = ? where stream_name = ? and revision = ?');
    const name = sessionStreamName(sessionId);
    move.run(1_000_000, name, a);
    move.run(a, name, b);
    move.run(b, name, 1_000_000);
  });

/** Edits the read model: a row's status, as the mutable table used to be edited. */
export const editStatus = (path: string, sessionId: string, status: string) =>
  withFile(path, (db) => db.prepare('update auth_sessions set status = ? where session_id = ?').run(status, sessionId));

export const deleteRow = (path: string, sessionId: string) =>
  withFile(path, (db) => db.prepare('delete from auth_sessions where session_id = ?').run(sessionId));

/**
 * Edits an event's data and recomputes every later hash of its stream: the careful forger,
 * whom the chain alone does not catch.
 */
export const editAndRechain = (path: string, sessionId: string, revision: number, edit: (data: Record<string, unknown>) => Record<string, unknown>) =>
  withFile(path, (db) => {
    const stream = streamOf(db, sessionId);
    const row = stream[revision]!;
    row.data = JSON.stringify(edit(JSON.parse(row.data) as Record<string, unknown>));
    const hashes = chainHashes(
      GENESIS_HASH,
      stream.map((event) => ({ ...event, streamName: event.stream_name, revision: BigInt(event.revision), eventId: event.event_id, dataJson: event.data, metadataJson: event.metadata })),
    );
    const update = db.prepare('update events set data = ?, hash = ? where position = ?');
    for (const [index, event] of stream.entries()) update.run(event.data, hashes[index], event.position);
  });

/** Deletes a stream's last events, from `revision` on: a quiet truncation, its chain still whole. */
export const truncateStream = (path: string, sessionId: string, revision: number) =>
  withFile(path, (db) => db.prepare('delete from events where stream_name = ? and revision >= ?').run(sessionStreamName(sessionId), revision));
