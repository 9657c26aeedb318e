import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { SESSION_CATEGORY } from '../events/index.js';
import { CHECKPOINT_NAME } from '../projector/projector.js';
import { openReadModel, type SqliteReadModel } from '../projector/sqlite-read-model.js';
import type { EventStore } from '../store/port.js';

/** The table the read model serves from, and which a replay replaces. */
const TABLE = 'auth_sessions';

export interface ReplayOptions {
  store: EventStore;
  /** The read model's file; the replay works through a connection of its own. */
  readModelPath: string;
  /** Events applied per transaction. */
  batchSize?: number;
  /** How long the swap waits for a running projector's transaction to end. */
  lockTimeoutMs?: number;
  onProgress?: (events: number, total: number) => void;
}

export interface ReplayResult {
  /** Events folded into the fresh table. */
  events: number;
  /** Rows of the table swapped in. */
  sessions: number;
  /** The checkpoint the swapped-in table carries. */
  position: bigint;
  elapsedMs: number;
}

/**
 * The statements that make a fresh copy of the table's shape: the table and its indexes,
 * as SQLite keeps them (migrations included), under new names. Index names are global, so
 * each carries the copy's suffix, which it keeps once the copy is renamed.
 */
function copyOfShape(db: Database.Database, copy: string, suffix: string): string[] {
  const objects = db.prepare("select type, sql from sqlite_master where tbl_name = ? and sql is not null order by type desc").all(TABLE) as {
    type: 'table' | 'index';
    sql: string;
  }[];
  return objects.map(({ type, sql }) =>
    type === 'table'
      ? sql.replace(/^create table\s+"?auth_sessions"?/i, `create table ${copy}`)
      : sql.replace(/^create index\s+"?(\w+?)(?:__\w+)?"?\s+on\s+"?auth_sessions"?/i, (_whole, base: string) => `create index ${base}__${suffix} on ${copy}`),
  );
}

/**
 * Rebuilds the read model from the log into a fresh table, then swaps it in atomically: the
 * old table answers until the swap, and a `serve` on the same file goes on answering and
 * projecting through it and after it. At the swap (under the write lock, so no projector
 * commits meanwhile) the fresh table is brought up to the running projector's checkpoint,
 * never past it, so that projector goes on from where it was and tells its watchers of every
 * change after it. On EventStoreDB, this instance's read model is rebuilt from `$all`.
 */
export async function replayReadModel({ store, readModelPath, batchSize = 1000, lockTimeoutMs = 30_000, onProgress }: ReplayOptions): Promise<ReplayResult> {
  const started = Date.now();
  const db = new Database(readModelPath, { timeout: lockTimeoutMs });
  db.pragma('journal_mode = WAL');
  try {
    openReadModel(db); // the schema up to date first: the copy takes its shape
    const suffix = `r${randomBytes(4).toString('hex')}`;
    const copy = `${TABLE}_${suffix}`;
    const checkpointName = `replay:${suffix}`;
    // IMMEDIATE: it reads the shape, then writes; a deferred transaction could not upgrade past a commit in between.
    db.transaction(() => {
      for (const statement of copyOfShape(db, copy, suffix)) db.exec(statement);
    }).immediate();
    let fresh: SqliteReadModel | null = openReadModel(db, { table: copy });
    try {
      const total = Number(await store.lastPosition({ category: SESSION_CATEGORY }));
      let events = 0;
      const apply = async (until: bigint | null) => {
        for (let after = fresh!.checkpoint(checkpointName); ; ) {
          const page = (await store.readAll({ after, category: SESSION_CATEGORY, maxCount: batchSize })).filter(
            (event) => until === null || event.position <= until,
          );
          if (page.length === 0) return;
          after = fresh!.applyBatch(checkpointName, page).position;
          events += page.length;
          onProgress?.(events, Math.max(total, events));
        }
      };
      // The bulk of it, with the old table answering all along.
      await apply(null);
      // The swap: nothing commits to the file meanwhile (on the embedded store, not even an append).
      db.exec('begin immediate');
      try {
        const running = (db.prepare('select position from projector_checkpoint where name = ?').pluck().safeIntegers(true).get(CHECKPOINT_NAME) as bigint | undefined) ?? 0n;
        await apply(running);
        const position = fresh.checkpoint(checkpointName) > running ? fresh.checkpoint(checkpointName) : running;
        const sessions = fresh.countSessions();
        fresh = null;
        db.exec(`drop table ${TABLE}`);
        db.exec(`alter table ${copy} rename to ${TABLE}`);
        db.prepare('insert into projector_checkpoint (name, position) values (?, ?) on conflict (name) do update set position = excluded.position').run(CHECKPOINT_NAME, position);
        db.prepare('delete from projector_checkpoint where name = ?').run(checkpointName);
        db.exec('commit');
        return { events, sessions, position, elapsedMs: Date.now() - started };
      } catch (error) {
        db.exec('rollback');
        throw error;
      }
    } catch (error) {
      // The old table still serves; the unfinished copy goes.
      db.exec(`drop table if exists ${copy}`);
      db.prepare('delete from projector_checkpoint where name = ?').run(checkpointName);
      throw error;
    }
  } finally {
    db.close();
  }
}
