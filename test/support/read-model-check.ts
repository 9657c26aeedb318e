/**
 * Checks a read model against the log: every row of `auth_sessions` must equal what a fresh
 * fold of the store's session streams gives, column by column, and no row may be missing or
 * extra. Tests of the projector, the API and the audit tools can all ask the same question.
 */
import type Database from 'better-sqlite3';
import { SESSION_CATEGORY, type RecordedEvent } from '../../src/events/index.js';
import { projectAll } from '../../src/projector/project-events.js';
import type { SessionRow } from '../../src/projector/session-row.js';
import { openReadModel } from '../../src/projector/sqlite-read-model.js';
import type { EventStore } from '../../src/store/port.js';

/** Every event of the session streams, in position order; `upTo` (inclusive) stops early. */
export async function sessionEvents(store: EventStore, upTo?: bigint): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (let after = 0n; ; ) {
    const page = await store.readAll({ after, category: SESSION_CATEGORY, maxCount: 1000 });
    for (const event of page) {
      if (upTo !== undefined && event.position > upTo) return events;
      events.push(event);
    }
    const last = page.at(-1);
    if (last === undefined) return events;
    after = last.position;
  }
}

const bySessionId = (a: SessionRow, b: SessionRow) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0);

/** What the read model must hold once it has applied the log up to `upTo` (default: all of it). */
export async function foldedRows(store: EventStore, upTo?: bigint): Promise<SessionRow[]> {
  return projectAll(await sessionEvents(store, upTo)).sort(bySessionId);
}

/** Every row of the read model on this connection, as the API reads them. */
export function readModelRows(db: Database.Database): SessionRow[] {
  const readModel = openReadModel(db);
  const ids = db.prepare('select session_id from auth_sessions order by session_id').pluck().all() as string[];
  return ids.map((id) => readModel.session(id)!).sort(bySessionId);
}

/** The read model's checkpoint, read from the file itself. */
export function checkpointOf(db: Database.Database, name = 'auth_sessions'): bigint {
  const position = db.prepare('select position from projector_checkpoint where name = ?').pluck().safeIntegers(true).get(name);
  return (position as bigint | undefined) ?? 0n;
}

export interface Difference {
  sessionId: string;
  column: string;
  readModel: string;
  fold: string;
}

const shown = (value: unknown) => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'missing';

/** Each column where the read model and a fresh fold disagree; a missing row is column `row`. */
export async function compareWithFold(
  store: EventStore,
  db: Database.Database,
  upTo?: bigint,
): Promise<{ checked: number; differences: Difference[] }> {
  const fold = new Map((await foldedRows(store, upTo)).map((row) => [row.sessionId, row]));
  const table = new Map(readModelRows(db).map((row) => [row.sessionId, row]));
  const differences: Difference[] = [];
  for (const sessionId of new Set([...fold.keys(), ...table.keys()])) {
    const expected = fold.get(sessionId);
    const actual = table.get(sessionId);
    if (!expected || !actual) {
      differences.push({ sessionId, column: 'row', readModel: shown(actual), fold: shown(expected) });
      continue;
    }
    for (const column of Object.keys(expected) as (keyof SessionRow)[]) {
      if (shown(actual[column]) !== shown(expected[column])) {
        differences.push({ sessionId, column, readModel: shown(actual[column]), fold: shown(expected[column]) });
      }
    }
  }
  return { checked: fold.size, differences };
}
