import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { SESSION_CATEGORY } from '../events/index.js';
import { openOutcomes, OUTCOME_TABLES, OUTCOMES_CHECKPOINT } from '../projector/outcomes-read-model.js';
import type { Projection } from '../projector/projection.js';
import { CHECKPOINT_NAME } from '../projector/projector.js';
import { openReadModel } from '../projector/sqlite-read-model.js';
import type { EventStore } from '../store/port.js';

/** A projection a replay rebuilds: its tables, and how to keep a fresh copy of them under another checkpoint. */
interface Rebuilt {
  /** Its checkpoint's name, as the running projector has it. */
  checkpoint: string;
  tables: readonly string[];
  /** The projection over the fresh tables (`copyOf` names them), with its own checkpoint. */
  open(db: Database.Database, copyOf: (table: string) => string, checkpoint: string): Projection;
}

const REBUILT: readonly Rebuilt[] = [
  {
    checkpoint: CHECKPOINT_NAME,
    tables: ['auth_sessions'],
    open(db, copyOf, checkpoint) {
      const fresh = openReadModel(db, { table: copyOf('auth_sessions') });
      return { name: checkpoint, checkpoint: () => fresh.checkpoint(checkpoint), apply: (events) => fresh.applyBatch(checkpoint, events) };
    },
  },
  {
    checkpoint: OUTCOMES_CHECKPOINT,
    tables: [OUTCOME_TABLES.counts, OUTCOME_TABLES.states],
    open: (db, copyOf, checkpoint) => openOutcomes(db, { counts: copyOf(OUTCOME_TABLES.counts), states: copyOf(OUTCOME_TABLES.states) }, checkpoint),
  },
];

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
  /** Events folded into the fresh tables. */
  events: number;
  /** Rows of the `auth_sessions` swapped in. */
  sessions: number;
  /** The checkpoint the swapped-in `auth_sessions` carries. */
  position: bigint;
  elapsedMs: number;
}

/**
 * The statements that make a fresh copy of a table's shape: the table and its indexes, as
 * SQLite keeps them (migrations included), under new names. Index names are global, so each
 * carries the copy's suffix, which it keeps once the copy is renamed.
 */
function copyOfShape(db: Database.Database, table: string, copy: string, suffix: string): string[] {
  const objects = db.prepare("select type, sql from sqlite_master where tbl_name = ? and sql is not null order by type desc").all(table) as {
    type: 'table' | 'index';
    sql: string;
  }[];
  return objects.map(({ type, sql }) =>
    type === 'table'
      ? sql.replace(new RegExp(`^create table\\s+"?${table}"?`, 'i'), `create table ${copy}`)
      : sql.replace(new RegExp(`^create index\\s+"?(\\w+?)(?:__\\w+)?"?\\s+on\\s+"?${table}"?`, 'i'), (_whole, base: string) => `create index ${base}__${suffix} on ${copy}`),
  );
}

/**
 * Rebuilds the read model's projections (`auth_sessions`, `session_outcomes`) from the log
 * into fresh tables, then swaps them in atomically: the old tables answer until the swap, and
 * a `serve` on the same file goes on answering and projecting through it and after it. At the
 * swap (under the write lock, so no projector commits meanwhile) each fresh projection is
 * brought up to its running projector's checkpoint, never past it, so that projector goes on
 * from where it was and tells its watchers of every change after it. On EventStoreDB, this
 * instance's read model is rebuilt from `$all`.
 */
export async function replayReadModel({ store, readModelPath, batchSize = 1000, lockTimeoutMs = 30_000, onProgress }: ReplayOptions): Promise<ReplayResult> {
  const started = Date.now();
  const db = new Database(readModelPath, { timeout: lockTimeoutMs });
  db.pragma('journal_mode = WAL');
  const suffix = `r${randomBytes(4).toString('hex')}`;
  const copyOf = (table: string) => `${table}_${suffix}`;
  const replayCheckpoint = (target: Rebuilt) => `replay:${suffix}:${target.checkpoint}`;
  try {
    openReadModel(db); // the schema up to date first: the copies take its shape
    // IMMEDIATE: it reads the shape, then writes; a deferred transaction could not upgrade past a commit in between.
    db.transaction(() => {
      for (const table of REBUILT.flatMap((target) => target.tables)) for (const statement of copyOfShape(db, table, copyOf(table), suffix)) db.exec(statement);
    }).immediate();
    const fresh = REBUILT.map((target) => ({ target, projection: target.open(db, copyOf, replayCheckpoint(target)) }));
    try {
      const total = Number(await store.lastPosition({ category: SESSION_CATEGORY }));
      let events = 0;
      /**
       * Feeds the log to the fresh copies, from the lowest of their checkpoints (each skips what
       * it has), each up to its `until` (null: to the end).
       */
      const apply = async (until: (target: Rebuilt) => bigint | null) => {
        let read = fresh.map(({ projection }) => projection.checkpoint()).reduce((low, position) => (position < low ? position : low));
        for (;;) {
          const page = await store.readAll({ after: read, category: SESSION_CATEGORY, maxCount: batchSize });
          let fed = false;
          for (const [index, { target, projection }] of fresh.entries()) {
            const limit = until(target);
            const batch = limit === null ? page : page.filter((event) => event.position <= limit);
            if (batch.length === 0) continue;
            projection.apply(batch);
            fed = true;
            if (index === 0) events += batch.length;
          }
          if (!fed) return;
          read = page.at(-1)!.position;
          onProgress?.(events, Math.max(total, events));
        }
      };
      // The bulk of it, with the old tables answering all along.
      await apply(() => null);
      // The swap: nothing commits to the file meanwhile (on the embedded store, not even an append).
      db.exec('begin immediate');
      try {
        const checkpointOf = db.prepare('select position from projector_checkpoint where name = ?').pluck().safeIntegers(true);
        const running = new Map(REBUILT.map((target) => [target, (checkpointOf.get(target.checkpoint) as bigint | undefined) ?? 0n]));
        await apply((target) => running.get(target)!);
        const positions = new Map(fresh.map(({ target, projection }) => [target, projection.checkpoint() > running.get(target)! ? projection.checkpoint() : running.get(target)!]));
        const sessions = db.prepare(`select count(*) from ${copyOf('auth_sessions')}`).pluck().get() as number;
        const saveCheckpoint = db.prepare('insert into projector_checkpoint (name, position) values (?, ?) on conflict (name) do update set position = excluded.position');
        for (const target of REBUILT) {
          for (const table of target.tables) {
            db.exec(`drop table ${table}`);
            db.exec(`alter table ${copyOf(table)} rename to ${table}`);
          }
          saveCheckpoint.run(target.checkpoint, positions.get(target)!);
          db.prepare('delete from projector_checkpoint where name = ?').run(replayCheckpoint(target));
        }
        db.exec('commit');
        return { events, sessions, position: positions.get(REBUILT[0]!)!, elapsedMs: Date.now() - started };
      } catch (error) {
        db.exec('rollback');
        throw error;
      }
    } catch (error) {
      // The old tables still serve; the unfinished copies go.
      for (const table of REBUILT.flatMap((target) => target.tables)) db.exec(`drop table if exists ${copyOf(table)}`);
      for (const target of REBUILT) db.prepare('delete from projector_checkpoint where name = ?').run(replayCheckpoint(target));
      throw error;
    }
  } finally {
    db.close();
  }
}
