import { DEFAULT_SESSION_TTL_MS, SESSION_STATUSES, type SessionStatus } from '../contract/index.js';
import {
  derivedEventId,
  InvalidEventError,
  ledgerEventCodec,
  sessionStreamName,
  type Actor,
  type EventMetadataInput,
  type EventType,
  type NewEvent,
} from '../events/index.js';
import { EventIdConflictError, WrongExpectedRevisionError } from '../store/errors.js';
import type { EventStore } from '../store/port.js';
import type { LegacyRead, LegacyValues } from './legacy-rows.js';

// `ledger import-legacy`: each row of the legacy mutable `auth_sessions` table becomes the
// events that explain it, with ids derived from the row, so a second run appends nothing.

/** Who the imported events are recorded as. */
export const IMPORT_ACTOR: Actor = Object.freeze({ role: 'ledger', sub: 'import-legacy' });

/** What a failed row without an error message is recorded with (`errorMessage` cannot be empty). */
export const NO_ERROR_MESSAGE = 'failed (the legacy row has no error message)';

/** The failure reason of every imported `failed` row: the legacy table kept no reason apart from the message. */
export const LEGACY_FAILURE_REASON = 'legacy';

/** The events import-legacy can write for one session, in the order it writes them. */
const IMPORTED_TYPES = ['SessionStarted', 'CredentialsStored', 'SessionFailed', 'SessionCancelled'] as const satisfies readonly EventType[];

/** The id of the event of `type` that import-legacy writes for a session: the same on every run. */
export function importEventId(sessionId: string, type: EventType): string {
  return derivedEventId(`import-legacy/${sessionId}/${type}`);
}

export type LegacyRowEvents =
  | { ok: true; sessionId: string; status: SessionStatus; events: NewEvent[] }
  | { ok: false; sessionId: string | null; reason: string };

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)?$/i;

/**
 * A legacy timestamp as the ledger records one (`Date#toISOString()`), or null when it is not
 * one. Accepted: psql's `timestamptz` text (`2024-03-01 12:34:56.789+00`, `+05:30`, `-03`, no
 * fraction or up to microseconds) and ISO 8601 (`2024-03-01T12:34:56Z`). Without an offset
 * it is UTC. A fraction is truncated to milliseconds.
 */
export function legacyTimestamp(text: string): string | null {
  const match = TIMESTAMP.exec(text);
  if (!match) return null;
  const [, year, month, day, hours, minutes, seconds, fraction = '', zulu, sign, offsetHours, offsetMinutes = '00'] = match;
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hours), Number(minutes), Number(seconds), Number(fraction.padEnd(3, '0').slice(0, 3)));
  // Date rolls 2024-02-30 over to March; a value that does not come back as written is no time.
  const asWritten =
    date.getUTCFullYear() === Number(year) &&
    date.getUTCMonth() === Number(month) - 1 &&
    date.getUTCDate() === Number(day) &&
    date.getUTCHours() === Number(hours) &&
    date.getUTCMinutes() === Number(minutes) &&
    date.getUTCSeconds() === Number(seconds);
  if (!asWritten) return null;
  if (zulu !== undefined || sign === undefined) return date.toISOString();
  const offset = Number(offsetHours) * 60 + Number(offsetMinutes);
  if (Number(offsetHours) > 15 || Number(offsetMinutes) > 59) return null;
  return new Date(date.getTime() - (sign === '-' ? -offset : offset) * 60_000).toISOString();
}

const isLegacyStatus = (status: string): status is SessionStatus => (SESSION_STATUSES as readonly string[]).includes(status);

type Timed = { ok: true; at: string } | { ok: false; reason: string };

function timeOf(values: LegacyValues, column: 'created_at' | 'completed_at' | 'updated_at'): Timed {
  const text = values[column];
  if (text === null) return { ok: false, reason: `${column} is missing` };
  const at = legacyTimestamp(text);
  return at === null ? { ok: false, reason: `${column} ${JSON.stringify(text)} is not a timestamp` } : { ok: true, at };
}

/**
 * The events that explain one legacy row, every one checked against its schema: the pure
 * part of the import. `SessionStarted` at `created_at`, then by status `CredentialsStored` at
 * `completed_at` (or `updated_at`), `SessionFailed` or `SessionCancelled` at `updated_at`, or
 * nothing more for `pending`. A row that cannot be explained says why.
 */
export function legacyRowEvents(values: LegacyValues): LegacyRowEvents {
  const sessionId = values.session_id;
  if (sessionId === null || sessionId === '') return { ok: false, sessionId: null, reason: 'session_id is missing' };
  const refuse = (reason: string): LegacyRowEvents => ({ ok: false, sessionId, reason });
  const { status } = values;
  if (status === null) return refuse('status is missing');
  if (!isLegacyStatus(status)) return refuse(`unknown status ${JSON.stringify(status)} (expected ${SESSION_STATUSES.join(', ')})`);
  const created = timeOf(values, 'created_at');
  if (!created.ok) return refuse(created.reason);

  const metadata = (recordedAt: string): EventMetadataInput => ({ actor: IMPORT_ACTOR, recordedAt, correlationId: `legacy:${sessionId}` });
  const event = (type: EventType, data: Record<string, unknown>, recordedAt: string) =>
    ({ type, eventId: importEventId(sessionId, type), data: { sessionId, ...data }, metadata: metadata(recordedAt) }) as NewEvent;

  const events = [
    event(
      'SessionStarted',
      {
        userId: values.user_id,
        provider: values.provider,
        browserVmId: values.browser_vm_id,
        expiresAt: new Date(Date.parse(created.at) + DEFAULT_SESSION_TTL_MS).toISOString(),
      },
      created.at,
    ),
  ];
  if (status === 'completed') {
    const completed = values.completed_at === null ? timeOf(values, 'updated_at') : timeOf(values, 'completed_at');
    if (!completed.ok) {
      return refuse(values.completed_at === null && values.updated_at === null ? 'completed_at and updated_at are both missing' : completed.reason);
    }
    events.push(event('CredentialsStored', { provider: values.provider, credentialRef: `legacy:${sessionId}` }, completed.at));
  } else if (status === 'failed' || status === 'cancelled') {
    const updated = timeOf(values, 'updated_at');
    if (!updated.ok) return refuse(updated.reason);
    events.push(
      status === 'failed'
        ? event('SessionFailed', { reason: LEGACY_FAILURE_REASON, errorMessage: values.error_message || NO_ERROR_MESSAGE }, updated.at)
        : event('SessionCancelled', { cancelledBy: values.user_id }, updated.at),
    );
  }
  for (const proposed of events) {
    try {
      ledgerEventCodec.prepare(proposed);
    } catch (error) {
      if (error instanceof InvalidEventError) return refuse(`${proposed.type} refused: ${error.message}`);
      throw error;
    }
  }
  return { ok: true, sessionId, status, events };
}

// ---- the import loop --------------------------------------------------------------------------

export interface SkippedRow {
  /** The CSV line the row starts on, or the SQLite row's rowid. */
  line: number;
  sessionId: string | null;
  reason: string;
}

export interface LegacyImportSummary {
  /** Rows read, each imported, already there or skipped. */
  rows: number;
  imported: Record<SessionStatus, number>;
  /** Rows whose events were all in the ledger already, as this row explains them: a second run. */
  alreadyImported: number;
  skipped: SkippedRow[];
  /** `--strict` stopped the import at its first skipped row. */
  stoppedAtFirstSkip: boolean;
}

export function emptyImportSummary(): LegacyImportSummary {
  return { rows: 0, imported: { pending: 0, completed: 0, failed: 0, cancelled: 0 }, alreadyImported: 0, skipped: [], stoppedAtFirstSkip: false };
}

export type RowOutcome =
  | { kind: 'imported'; status: SessionStatus }
  | { kind: 'alreadyImported' }
  | { kind: 'skipped'; sessionId: string | null; reason: string };

const otherContent = (sessionId: string) =>
  `session ${sessionId} is already in the ledger from a legacy row with other content (a duplicate session_id)`;

/**
 * Appends one row's events in one atomic append on a stream that must not exist yet. The
 * store is the import's memory: a row it wrote before answers `alreadyRecorded` (and is then
 * checked against what the ledger holds), a row with the same session id and other content
 * is refused by the store's idempotency rule, and a session another writer started is a
 * wrong expected revision.
 */
export async function importLegacyRow(store: EventStore, values: LegacyValues): Promise<RowOutcome> {
  const mapped = legacyRowEvents(values);
  if (!mapped.ok) return { kind: 'skipped', sessionId: mapped.sessionId, reason: mapped.reason };
  const { sessionId, status, events } = mapped;
  const streamName = sessionStreamName(sessionId);
  try {
    const appended = await store.append(streamName, events, { expectedRevision: 'no_stream' });
    if (!appended.alreadyRecorded) return { kind: 'imported', status };
  } catch (error) {
    if (error instanceof EventIdConflictError) return { kind: 'skipped', sessionId, reason: otherContent(sessionId) };
    if (error instanceof WrongExpectedRevisionError) {
      return { kind: 'skipped', sessionId, reason: `session ${sessionId} is already in the ledger, started by another writer than import-legacy` };
    }
    if (error instanceof InvalidEventError) return { kind: 'skipped', sessionId, reason: error.message };
    throw error;
  }
  // Every id was recorded with the same type and data. The port does not compare metadata,
  // and a `pending` row's one event is also the start of a row imported with an outcome:
  // the row is there only if the events import-legacy wrote for this session are exactly its own.
  const importIds = new Set(IMPORTED_TYPES.map((type) => importEventId(sessionId, type)));
  const written = (await store.readStream(streamName)).filter((recorded) => importIds.has(recorded.eventId));
  const same =
    written.length === events.length &&
    written.every((recorded, i) => recorded.eventId === events[i]!.eventId && recorded.metadata.recordedAt === events[i]!.metadata.recordedAt);
  return same ? { kind: 'alreadyImported' } : { kind: 'skipped', sessionId, reason: otherContent(sessionId) };
}

export interface ImportOptions {
  /** Stop at the first skipped row, having appended nothing for it or after it. */
  strict: boolean;
  /** Called after each read is dealt with (for progress). */
  onRead?: (read: LegacyRead, summary: LegacyImportSummary) => void;
}

/**
 * Imports rows in file order, one append each, into `summary` (which is also returned; on a
 * thrown error it holds what was done so far). Memory does not grow with the file: only the
 * skipped rows are kept, to be reported.
 */
export async function importLegacyRows(
  store: EventStore,
  reads: AsyncIterable<LegacyRead>,
  options: ImportOptions,
  summary: LegacyImportSummary = emptyImportSummary(),
): Promise<LegacyImportSummary> {
  for await (const read of reads) {
    summary.rows++;
    const outcome: RowOutcome =
      read.kind === 'row' ? await importLegacyRow(store, read.values) : { kind: 'skipped', sessionId: read.sessionId, reason: read.reason };
    if (outcome.kind === 'imported') summary.imported[outcome.status]++;
    else if (outcome.kind === 'alreadyImported') summary.alreadyImported++;
    else summary.skipped.push({ line: read.line, sessionId: outcome.sessionId, reason: outcome.reason });
    options.onRead?.(read, summary);
    if (outcome.kind === 'skipped' && options.strict) {
      summary.stoppedAtFirstSkip = true;
      break;
    }
  }
  return summary;
}
