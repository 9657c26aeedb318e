import type Database from 'better-sqlite3';
import { initialState, type SessionState } from '../../projections/index.js';
import { fromLegacyColumns, LEGACY_COLUMNS, SESSION_STATUSES, type SessionStatus, type WithLegacyColumns } from '../contract/index.js';
import { sessionIdOfStream, sessionStreamName, type RecordedEvent } from '../events/index.js';
import { assertTableName, migrate } from '../store/sqlite/migrations.js';
import { withStorageFaults } from '../store/sqlite/storage-fault.js';
import { anomaliesFromJson, anomaliesToJson, foldStateFromJson, foldStateToJson } from './fold-state-json.js';
import { byPosition, projectEvents } from './project-events.js';
import type { AppliedBatch } from './projection.js';
import type { DueSession, ReadModel, SessionFilter, SessionPage } from './read-model.js';
import { readModelSchema } from './read-model-schema.js';
import { decodeCursor, encodeCursor } from './session-cursor.js';
import { sessionRowOf, type SessionRow } from './session-row.js';

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
  /** A page of the session ids that have a row, ascending, after `after` (exclusive): how an audit walks the table. */
  sessionIdsAfter(after: string, limit: number): string[];
  /** How many rows the table has. */
  countSessions(): number;
}

/** A session's row as the table holds it: anomalies as JSON, and a row always has its times. */
type StoredRow = Omit<SessionRow, 'anomalies' | 'createdAt' | 'updatedAt'> & { anomalies: string; createdAt: string; updatedAt: string };

/** A row of `auth_sessions` as a query reads it: the legacy columns, and the creation instant the list sorts by. */
type DbRow = WithLegacyColumns<StoredRow> & { created_at_ms: bigint };

const ROW_COLUMNS = [...Object.values(LEGACY_COLUMNS), 'created_at_ms'].join(', ');

/** What the projector writes for one session: its row, the state it folded to, and its stream's head. */
interface Written {
  row: SessionRow;
  state: SessionState;
  headHash: string | null;
}

/**
 * Every column the projector writes, with its value; bound by position, which better-sqlite3
 * binds faster than names and needs no object per row.
 */
const WRITTEN_COLUMNS: readonly (readonly [string, (written: Written) => unknown])[] = [
  [LEGACY_COLUMNS.sessionId, ({ row }) => row.sessionId],
  [LEGACY_COLUMNS.userId, ({ row }) => row.userId],
  [LEGACY_COLUMNS.provider, ({ row }) => row.provider],
  [LEGACY_COLUMNS.browserVmId, ({ row }) => row.browserVmId],
  [LEGACY_COLUMNS.status, ({ row }) => row.status],
  [LEGACY_COLUMNS.completedAt, ({ row }) => row.completedAt],
  [LEGACY_COLUMNS.errorMessage, ({ row }) => row.errorMessage],
  [LEGACY_COLUMNS.createdAt, ({ row }) => row.createdAt],
  [LEGACY_COLUMNS.updatedAt, ({ row }) => row.updatedAt],
  [LEGACY_COLUMNS.revision, ({ row }) => row.revision],
  [LEGACY_COLUMNS.position, ({ row }) => row.position],
  [LEGACY_COLUMNS.anomalies, ({ row }) => anomaliesToJson(row.anomalies)],
  ['created_at_ms', ({ row }) => instantOf(row.createdAt, row.sessionId, 'creation time')],
  ['expires_at', ({ state }) => state.expiresAt],
  // A stream not (yet) started has no deadline, and is never due.
  ['expires_at_ms', ({ row, state }) => (state.expiresAt === null ? null : instantOf(state.expiresAt, row.sessionId, 'deadline'))],
  ['fold_state', ({ state }) => foldStateToJson(state)],
  ['head_hash', ({ headHash }) => headHash],
];
// Every legacy column is written: a new one in LEGACY_COLUMNS must be added above.
if (Object.values(LEGACY_COLUMNS).some((column) => !WRITTEN_COLUMNS.some(([written]) => written === column))) {
  throw new Error('a legacy column of auth_sessions is not written by the projector');
}

/**
 * The columns a session's later events leave as they are, once it has started: who, where,
 * and when it was created. Most of the table's indexes are on them, so an update that does
 * not set them leaves those indexes alone (SQLite rewrites an index whose column is set).
 */
const IDENTITY_COLUMNS: ReadonlySet<string> = new Set([
  LEGACY_COLUMNS.sessionId,
  LEGACY_COLUMNS.userId,
  LEGACY_COLUMNS.provider,
  LEGACY_COLUMNS.browserVmId,
  LEGACY_COLUMNS.createdAt,
  'created_at_ms',
]);
const CHANGING_COLUMNS = WRITTEN_COLUMNS.filter(([column]) => !IDENTITY_COLUMNS.has(column));

/** The identity columns of a row folded from `before` and of one folded from `after` hold the same values. */
const sameIdentity = (before: SessionState, after: SessionState) =>
  before.userId === after.userId &&
  before.provider === after.provider &&
  before.browserVmId === after.browserVmId &&
  // As sessionRowOf gives `createdAt`.
  (before.createdAt ?? before.updatedAt) === (after.createdAt ?? after.updatedAt);

const rowOf = (row: DbRow): SessionRow => {
  const fields = fromLegacyColumns<StoredRow>(row);
  return { ...fields, anomalies: anomaliesFromJson(fields.anomalies) };
};

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
 * does not depend on how the connection was opened. `table` names another table of the same
 * shape to read and write instead: the fresh one a replay fills before it swaps it in.
 */
export function openReadModel(db: Database.Database, { table = 'auth_sessions' }: { table?: string } = {}): SqliteReadModel {
  assertTableName(table);
  migrate(db, readModelSchema);
  const prepare = (sql: string) => db.prepare(sql).safeIntegers(true);

  const statements = {
    session: prepare(`select ${ROW_COLUMNS} from ${table} where session_id = ?`),
    // The stored states of a batch's sessions, in one query rather than one per session.
    foldStates: prepare(`select session_id, fold_state from ${table} where session_id in (select value from json_each(?))`).raw(),
    save: prepare(
      `insert into ${table} (${WRITTEN_COLUMNS.map(([column]) => column).join(', ')})
       values (${WRITTEN_COLUMNS.map(() => '?').join(', ')})
       on conflict (session_id) do update set
         ${WRITTEN_COLUMNS.filter(([column]) => column !== 'session_id').map(([column]) => `${column} = excluded.${column}`).join(', ')}`,
    ),
    // A row whose identity columns stay as they are: only what changed, and the indexes on it.
    update: prepare(`update ${table} set ${CHANGING_COLUMNS.map(([column]) => `${column} = ?`).join(', ')} where session_id = ?`),
    checkpoint: prepare('select position from projector_checkpoint where name = ?').pluck(),
    saveCheckpoint: prepare(
      'insert into projector_checkpoint (name, position) values (?, ?) on conflict (name) do update set position = excluded.position',
    ),
    sessionsOfVm: prepare(`select session_id from ${table} where browser_vm_id = ? order by created_at_ms, session_id`).pluck(),
    countByStatus: prepare(`select status, count(*) as count from ${table} group by status`),
    sessionIdsAfter: prepare(`select session_id from ${table} where session_id > ? order by session_id limit ?`).pluck(),
    countSessions: prepare(`select count(*) from ${table}`).pluck(),
    // Served by `auth_sessions_due` in this order: the due rows are a range of the index.
    expiredPending: prepare(
      `select session_id, expires_at from ${table}
       where status = 'pending' and expires_at_ms <= ?
       order by expires_at_ms, session_id limit ?`,
    ),
  };

  // One statement per combination of filters and cursor, each able to use the index that
  // leads with its equality filter and then runs in list order.
  const listStatements = new Map<string, Database.Statement>();
  const listStatement = (conditions: readonly string[]) => {
    const key = conditions.join(' and ');
    let statement = listStatements.get(key);
    if (!statement) {
      statement = prepare(
        `select ${ROW_COLUMNS} from ${table} ${key ? `where ${key}` : ''}
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
    // Each stream's last event in the batch is its head: the batch is in position order.
    const heads = new Map<string, string | null>();
    const sessionIds: string[] = [];
    for (const event of fresh) {
      if (!heads.has(event.streamName)) {
        const sessionId = sessionIdOfStream(event.streamName);
        if (sessionId !== null) sessionIds.push(sessionId);
      }
      heads.set(event.streamName, event.hash);
    }
    const stored = new Map(statements.foldStates.all(JSON.stringify(sessionIds)) as [string, string][]);
    // The states of the sessions that have a row, as stored: what the row's columns hold now.
    const before = new Map<string, SessionState>();
    const states = projectEvents(fresh, (sessionId) => {
      const json = stored.get(sessionId);
      if (json === undefined) return initialState;
      const state = foldStateFromJson(json);
      before.set(sessionId, state);
      return state;
    });
    const rows: SessionRow[] = [];
    for (const [sessionId, state] of states) {
      const written: Written = { row: sessionRowOf(sessionId, state), state, headHash: heads.get(sessionStreamName(sessionId)) ?? null };
      const prior = before.get(sessionId);
      if (prior !== undefined && sameIdentity(prior, state)) {
        statements.update.run([...CHANGING_COLUMNS.map(([, valueOf]) => valueOf(written)), sessionId]);
      } else {
        statements.save.run(WRITTEN_COLUMNS.map(([, valueOf]) => valueOf(written)));
      }
      rows.push(written.row);
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
      const conditions: string[] = [];
      const params: unknown[] = [];
      for (const [condition, value] of [
        ['user_id = ?', filter.userId],
        ['status = ?', filter.status],
        ['provider = ?', filter.provider],
        ['created_at_ms >= ?', filter.sinceMs],
        ['created_at_ms < ?', filter.untilMs],
      ] as const) {
        if (value === undefined) continue;
        conditions.push(condition);
        params.push(value);
      }
      if (after) {
        conditions.push('(created_at_ms, session_id) < (?, ?)');
        params.push(after.createdAtMs, after.sessionId);
      }
      // One row more than asked tells whether there is a next page, so the last page says so.
      const found = listStatement(conditions).all(...params, limit + 1) as DbRow[];
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

    sessionIdsAfter(after, limit) {
      return statements.sessionIdsAfter.all(after, limit) as string[];
    },

    countSessions() {
      return Number(statements.countSessions.get());
    },

    countByStatus() {
      const counts = Object.fromEntries(SESSION_STATUSES.map((status) => [status, 0])) as Record<SessionStatus, number>;
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
      // A full disk or a read-only file is the storage's fault, which the projector waits out.
      return withStorageFaults(db.name, 'write', () => applyInTransaction.immediate(name, events));
    },
  };
}
