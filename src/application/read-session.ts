import { asOfPoint, fold, foldAsOf } from '../../projections/index.js';
import type { ListQuery, SessionQuery } from '../contract/index.js';
import { SessionNotFoundError } from '../decide/index.js';
import { sessionStreamName, type RecordedEvent } from '../events/index.js';
import type { Projector } from '../projector/projector-port.js';
import type { ReadModel, SessionPage } from '../projector/read-model.js';
import { sessionRowOf, type SessionRow } from '../projector/session-row.js';
import type { EventStore } from '../store/port.js';
import type { SessionVisibility } from './caller.js';
import { ReadModelLaggingError } from './errors.js';

/** What a read waits on: the projector, for at most `readWaitMs`. */
export interface ReadWaitDeps {
  projector: Projector;
  /** How long a read waits for the projector (`?after=`) before giving up. */
  readWaitMs: number;
}

/** Waits (bounded) for the read model to pass `after`: a frontend never reads its own write as stale. */
export async function awaitReadModel({ projector, readWaitMs }: ReadWaitDeps, after: bigint): Promise<void> {
  if (await projector.waitForPosition(after, readWaitMs)) return;
  throw new ReadModelLaggingError(projector.position, after, readWaitMs);
}

/**
 * A session: the read model's row, after waiting for the position `after` names; or, with
 * `asOf`, its stream folded as of a position or a moment. One the caller may not see is not
 * found, with the same error as one that does not exist.
 */
export async function readSession(
  deps: ReadWaitDeps & { store: EventStore; readModel: ReadModel },
  sessionId: string,
  { after, asOf }: SessionQuery,
  maySee: SessionVisibility,
): Promise<SessionRow> {
  if (after !== undefined) await awaitReadModel(deps, BigInt(after));
  let row: SessionRow | null;
  if (asOf === undefined) {
    row = deps.readModel.session(sessionId);
  } else {
    const state = foldAsOf(await deps.store.readStream(sessionStreamName(sessionId)), asOfPoint(asOf));
    row = state.revision < 0n ? null : sessionRowOf(sessionId, state);
  }
  if (!row || !maySee(sessionId, row)) {
    throw new SessionNotFoundError(sessionId, asOf === undefined ? `no session ${sessionId}` : `no session ${sessionId} as of ${asOf}`);
  }
  return row;
}

/** A session's raw stream, every event with its metadata; not found when the caller may not see it. */
export async function sessionEvents(deps: { store: EventStore }, sessionId: string, maySee: SessionVisibility): Promise<RecordedEvent[]> {
  const events = await deps.store.readStream(sessionStreamName(sessionId));
  if (events.length === 0 || !maySee(sessionId, fold(events))) throw new SessionNotFoundError(sessionId, `no session ${sessionId}`);
  return events;
}

/** A page of sessions, newest first. */
export function listSessions(deps: { readModel: ReadModel }, query: ListQuery): SessionPage {
  const { userId, status, provider, since, until, cursor, limit } = query;
  const instant = (text: string | undefined) => (text === undefined ? undefined : Date.parse(text));
  return deps.readModel.sessions({ userId, status, provider, sinceMs: instant(since), untilMs: instant(until), cursor, limit });
}
