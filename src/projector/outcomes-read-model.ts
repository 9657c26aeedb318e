import type Database from 'better-sqlite3';
import { bucketKey, initialState, outcomeOf, type OutcomeBucket } from '../../projections/index.js';
import type { SessionStatus } from '../contract/index.js';
import type { RecordedEvent } from '../events/index.js';
import { assertTableName, migrate } from '../store/sqlite/migrations.js';
import { withStorageFaults } from '../store/sqlite/storage-fault.js';
import { foldStateFromJson, foldStateToJson } from './fold-state-json.js';
import { projectEvents } from './project-events.js';
import type { Projection } from './projection.js';
import { readModelSchema } from './read-model-schema.js';

/** The `session_outcomes` projector's row in `projector_checkpoint`. */
export const OUTCOMES_CHECKPOINT = 'session_outcomes';

/** A bucket and how many sessions are in it. */
export interface OutcomeCount extends OutcomeBucket {
  sessions: number;
}

/** The tables the projection keeps; other names for the fresh pair a replay fills. */
export interface OutcomeTables {
  counts: string;
  states: string;
}
export const OUTCOME_TABLES: OutcomeTables = { counts: 'session_outcomes', states: 'session_outcome_states' };

export interface OutcomesReadModel extends Projection {
  /** The buckets of sessions created in [fromHour, toHour), of one provider if named, with at least one session. */
  counts(fromHour: number, toHour: number, provider?: string): OutcomeCount[];
  /** Every bucket with at least one session, with the checkpoint they are as of, read together. */
  snapshot(): { position: bigint; counts: OutcomeCount[] };
}

interface CountRow {
  hour: bigint;
  provider: string;
  status: SessionStatus;
  failure_reason: string;
  sessions: bigint;
}

const countOf = (row: CountRow): OutcomeCount => ({
  hour: Number(row.hour),
  provider: row.provider === '' ? null : row.provider,
  status: row.status,
  failureReason: row.failure_reason === '' ? null : row.failure_reason,
  sessions: Number(row.sessions),
});

/** A bucket as its key columns: no NULLs, so the primary key holds. */
const columnsOf = ({ hour, provider, status, failureReason }: OutcomeBucket) => [hour, provider ?? '', status, failureReason ?? ''] as const;

/**
 * Sessions counted by hour × provider × status × failure reason: a second projection of the
 * log, with its own checkpoint, one transaction per batch like `auth_sessions`. Each event
 * moves its session from the bucket it was counted in to the one its new state gives. `tables`
 * and `name` (the checkpoint's) are other for the fresh copy a replay fills.
 */
export function openOutcomes(db: Database.Database, tables: OutcomeTables = OUTCOME_TABLES, name = OUTCOMES_CHECKPOINT): OutcomesReadModel {
  assertTableName(tables.counts);
  assertTableName(tables.states);
  migrate(db, readModelSchema);
  const prepare = (sql: string) => db.prepare(sql).safeIntegers(true);
  const { counts, states } = tables;
  const statements = {
    checkpoint: prepare('select position from projector_checkpoint where name = ?').pluck(),
    saveCheckpoint: prepare('insert into projector_checkpoint (name, position) values (?, ?) on conflict (name) do update set position = excluded.position'),
    state: prepare(`select hour, provider, status, failure_reason, fold_state from ${states} where session_id = ?`),
    saveState: prepare(
      `insert into ${states} (session_id, hour, provider, status, failure_reason, fold_state) values (?, ?, ?, ?, ?, ?)
       on conflict (session_id) do update set hour = excluded.hour, provider = excluded.provider, status = excluded.status,
         failure_reason = excluded.failure_reason, fold_state = excluded.fold_state`,
    ),
    add: prepare(
      `insert into ${counts} (hour, provider, status, failure_reason, sessions) values (?, ?, ?, ?, 1)
       on conflict (hour, provider, status, failure_reason) do update set sessions = sessions + 1`,
    ),
    // Apart from `add`: SQLite checks `sessions >= 0` on the row an upsert would insert, before the conflict.
    remove: prepare(`update ${counts} set sessions = sessions - 1 where hour = ? and provider = ? and status = ? and failure_reason = ?`),
    counts: prepare(`select * from ${counts} where hour >= ? and hour < ? and sessions > 0 order by hour, provider, status, failure_reason`),
    countsOfProvider: prepare(
      `select * from ${counts} where hour >= ? and hour < ? and provider = ? and sessions > 0 order by hour, provider, status, failure_reason`,
    ),
    all: prepare(`select * from ${counts} where sessions > 0 order by hour, provider, status, failure_reason`),
  };
  const checkpoint = () => (statements.checkpoint.get(name) as bigint | undefined) ?? 0n;

  const apply = db.transaction((events: readonly RecordedEvent[]) => {
    const from = checkpoint();
    const fresh = events.filter((event) => event.position > from);
    const last = fresh.at(-1);
    if (last === undefined) return { position: from, rows: [] };
    const counted = new Map<string, OutcomeBucket>();
    const changed = projectEvents(fresh, (sessionId) => {
      const stored = statements.state.get(sessionId) as (Omit<CountRow, 'sessions'> & { fold_state: string }) | undefined;
      if (stored === undefined) return initialState;
      const { fold_state, ...bucket } = stored;
      counted.set(sessionId, { ...countOf({ ...bucket, sessions: 0n }) });
      return foldStateFromJson(fold_state);
    });
    for (const [sessionId, state] of changed) {
      const before = counted.get(sessionId);
      const after = outcomeOf(state)!;
      if (before === undefined || bucketKey(before) !== bucketKey(after)) {
        if (before !== undefined) statements.remove.run(...columnsOf(before));
        statements.add.run(...columnsOf(after));
      }
      statements.saveState.run(sessionId, ...columnsOf(after), foldStateToJson(state));
    }
    statements.saveCheckpoint.run(name, last.position);
    return { position: last.position, rows: [] };
  });

  return {
    name,
    checkpoint,
    // A full disk or a read-only file is the storage's fault, which the projector waits out.
    apply: (events) => withStorageFaults(db.name, 'write', () => apply.immediate(events)),
    counts(fromHour, toHour, provider) {
      const rows = (provider === undefined ? statements.counts.all(fromHour, toHour) : statements.countsOfProvider.all(fromHour, toHour, provider)) as CountRow[];
      return rows.map(countOf);
    },
    snapshot: db.transaction(() => ({ position: checkpoint(), counts: (statements.all.all() as CountRow[]).map(countOf) })),
  };
}
