import type Database from 'better-sqlite3';
import { initialState, type SessionStatus } from '../../projections/index.js';
import type { RecordedEvent } from '../events/index.js';
import { migrate } from '../store/sqlite/migrations.js';
import { anomaliesFromJson, anomaliesToJson, foldStateFromJson, foldStateToJson } from './fold-state-json.js';
import { byPosition, projectEvents, rowOfSession } from './project-events.js';
import type { DueSession, ReadModel, SessionFilter, SessionPage } from './read-model.js';
import { readModelSchema } from './read-model-schema.js';
import { decodeCursor, encodeCursor } from './session-cursor.js';
import type { SessionRow } from './session-row.js';

/** What one committed batch did: the checkpoint after it, and the rows it changed in position order. */
export interface AppliedBatch {
  position: bigint;
  rows: SessionRow[];
}

/** The read model, plus what its projector needs to write it. */
export interface SqliteReadModel extends ReadModel {
  /** The position the projector called `name` has applied up to; 0n before its first batch. */
  checkpoint(name: string): bigint;
  /**
   * Folds the events onto the stored states and writes the changed rows and the checkpoint
   * in one IMMEDIATE transaction: all of it or, on a crash or an error, none of it. Events at
   * or before the checkpoint read inside that transaction are skipped, so an event is never
   * applied twice, even by two projectors on one file; when all of them are, the answer is
   * the checkpoint as the other projector left it, and no rows.
   */
  applyBatch(name: string, events: readonly RecordedEvent[]): AppliedBatch;
}

interface DbRow {
  session_id: string;
  user_id: string | null;
  provider: string | null;
  browser_vm_id: string | null;
  status: SessionStatus;
  completed_at: string | null;
  error_message: string | null;
  created_at: string;
  updated_at: string;
  revision: bigint;
  position: bigint;
  anomalies: string;
  created_at_ms: bigint;
}

const ROW_COLUMNS =
  'session_id, user_id, provider, browser_vm_id, status, completed_at, error_message, created_at, updated_at, revision, position, anomalies, created_at_ms';

const STATUSES: readonly SessionStatus[] = ['pending', 'completed', 'failed', 'cancelled'];

const rowOf = (row: DbRow): SessionRow => ({
  sessionId: row.session_id,
  userId: row.user_id,
  provider: row.provider,
  browserVmId: row.browser_vm_id,
  status: row.status,
  completedAt: row.completed_at,
  errorMessage: row.error_message,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  revision: row.revision,
  position: row.position,
  anomalies: anomaliesFromJson(row.anomalies),
});

/** The instant a timestamp names; the schemas only let valid ISO 8601 timestamps in. */
function instantOf(timestamp: string | null, sessionId: string, what: string): number {
  const ms = timestamp === null ? Number.NaN : Date.parse(timestamp);
  if (Number.isNaN(ms)) throw new TypeError(`session ${sessionId} has no valid ${what}`);
  return ms;
}

/**
 * The `auth_sessions` read model on a SQLite connection: its schema is brought up to date
 * here, in its own version table. The connection may be the event store's (embedded mode)
 * or a file of its own (EventStoreDB mode); every statement reads integers as bigints, so it
 * does not depend on how the connection was opened.
 */
export function openReadModel(db: Database.Database): SqliteReadModel {
  migrate(db, readModelSchema);
  const prepare = (sql: string) => db.prepare(sql).safeIntegers(true);

  const statements = {
    session: prepare(`select ${ROW_COLUMNS} from auth_sessions where session_id = ?`),
    foldState: prepare('select fold_state from auth_sessions where session_id = ?').pluck(),
    save: prepare(
      `insert into auth_sessions (${ROW_COLUMNS}, expires_at, expires_at_ms, fold_state)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict (session_id) do update set
         user_id = excluded.user_id, provider = excluded.provider, browser_vm_id = excluded.browser_vm_id,
         status = excluded.status, completed_at = excluded.completed_at, error_message = excluded.error_message,
         created_at = excluded.created_at, updated_at = excluded.updated_at, revision = excluded.revision,
         position = excluded.position, anomalies = excluded.anomalies, created_at_ms = excluded.created_at_ms,
         expires_at = excluded.expires_at, expires_at_ms = excluded.expires_at_ms, fold_state = excluded.fold_state`,
    ),
    checkpoint: prepare('select position from projector_checkpoint where name = ?').pluck(),
    saveCheckpoint: prepare(
      'insert into projector_checkpoint (name, position) values (?, ?) on conflict (name) do update set position = excluded.position',
    ),
    sessionsOfVm: prepare('select session_id from auth_sessions where browser_vm_id = ? order by created_at_ms, session_id').pluck(),
    countByStatus: prepare('select status, count(*) as count from auth_sessions group by status'),
    // Served by `auth_sessions_due` in this order: the due rows are a range of the index.
    expiredPending: prepare(
      `select session_id, expires_at from auth_sessions
       where status = 'pending' and expires_at_ms <= ?
       order by expires_at_ms, session_id limit ?`,
    ),
  };

  // One statement per combination of filters and cursor (16 at most), each able to use the
  // index that leads with its equality filter and then runs in list order.
  const listStatements = new Map<string, Database.Statement>();
  const listStatement = (filters: readonly string[], after: boolean) => {
    const key = `${filters.join(',')}|${after}`;
    let statement = listStatements.get(key);
    if (!statement) {
      const where = filters.map((column) => `${column} = ?`);
      if (after) where.push('(created_at_ms, session_id) < (?, ?)');
      statement = prepare(
        `select ${ROW_COLUMNS} from auth_sessions ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
         order by created_at_ms desc, session_id desc limit ?`,
      );
      listStatements.set(key, statement);
    }
    return statement;
  };

  const checkpoint = (name: string): bigint => (statements.checkpoint.get(name) as bigint | undefined) ?? 0n;

  const applyInTransaction = db.transaction((name: string, events: readonly RecordedEvent[]): AppliedBatch => {
    const from = checkpoint(name);
    const fresh = events.filter((event) => event.position > from);
    const last = fresh.at(-1);
    if (last === undefined) return { position: from, rows: [] };
    const states = projectEvents(fresh, (sessionId) => {
      const stored = statements.foldState.get(sessionId) as string | undefined;
      return stored === undefined ? initialState : foldStateFromJson(stored);
    });
    const rows: SessionRow[] = [];
    for (const [sessionId, state] of states) {
      const row = rowOfSession(sessionId, state);
      statements.save.run(
        row.sessionId,
        row.userId,
        row.provider,
        row.browserVmId,
        row.status,
        row.completedAt,
        row.errorMessage,
        row.createdAt,
        row.updatedAt,
        row.revision,
        row.position,
        anomaliesToJson(row.anomalies),
        instantOf(row.createdAt, sessionId, 'creation time'),
        state.expiresAt,
        // A stream not (yet) started has no deadline, and is never due.
        state.expiresAt === null ? null : instantOf(state.expiresAt, sessionId, 'deadline'),
        foldStateToJson(state),
      );
      rows.push(row);
    }
    statements.saveCheckpoint.run(name, last.position);
    return { position: last.position, rows: rows.sort(byPosition) };
  });

  return {
    session(sessionId) {
      const row = statements.session.get(sessionId) as DbRow | undefined;
      return row === undefined ? null : rowOf(row);
    },

    sessions({ cursor, limit, ...filter }: SessionFilter & { cursor?: string; limit: number }): SessionPage {
      if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`invalid page size ${String(limit)}`);
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const filters: string[] = [];
      const params: unknown[] = [];
      for (const [column, value] of [
        ['user_id', filter.userId],
        ['status', filter.status],
        ['provider', filter.provider],
      ] as const) {
        if (value === undefined) continue;
        filters.push(column);
        params.push(value);
      }
      if (after) params.push(after.createdAtMs, after.sessionId);
      // One row more than asked tells whether there is a next page, so the last page says so.
      const found = listStatement(filters, after !== undefined).all(...params, limit + 1) as DbRow[];
      const page = found.slice(0, limit);
      const end = page.at(-1);
      return {
        sessions: page.map(rowOf),
        nextCursor:
          found.length > limit && end !== undefined
            ? encodeCursor({ createdAtMs: Number(end.created_at_ms), sessionId: end.session_id })
            : null,
      };
    },

    sessionIdsOfVm(vmId) {
      return statements.sessionsOfVm.all(vmId) as string[];
    },

    countByStatus() {
      const counts = Object.fromEntries(STATUSES.map((status) => [status, 0])) as Record<SessionStatus, number>;
      for (const { status, count } of statements.countByStatus.all() as { status: SessionStatus; count: bigint }[]) {
        counts[status] = Number(count);
      }
      return counts;
    },

    expiredPending(nowMs, limit) {
      if (!Number.isSafeInteger(nowMs)) throw new RangeError(`invalid instant ${String(nowMs)}`);
      if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`invalid limit ${String(limit)}`);
      const found = statements.expiredPending.all(nowMs, limit) as { session_id: string; expires_at: string }[];
      return found.map((row): DueSession => ({ sessionId: row.session_id, expiresAt: row.expires_at }));
    },

    checkpoint,

    applyBatch(name, events) {
      return applyInTransaction.immediate(name, events);
    },
  };
}
