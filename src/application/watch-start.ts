import { statusChangesAfter, type SessionStatus } from '../../projections/index.js';
import { SessionNotFoundError } from '../decide/index.js';
import { sessionStreamName } from '../events/index.js';
import type { ReadModel } from '../projector/read-model.js';
import { sessionRowOf, type SessionRow } from '../projector/session-row.js';
import type { EventStore } from '../store/port.js';
import type { SessionVisibility } from './caller.js';

/** Where a watch stands: the last position it has considered, the status it last told, and when the session last changed. */
export interface Told {
  position: bigint;
  status: SessionStatus;
  /** `recordedAt` of the session's last event. */
  updatedAt: string | null;
}

/**
 * When a watch that has told this ends, in milliseconds since the epoch: at `completed` at
 * once (nothing can change it); at `failed` or `cancelled` once `graceMs` has passed since the
 * session's last event, because a late `CredentialsStored` still completes it and the page
 * should learn that live; while `pending`, never.
 */
export function endOfWatch(told: Told, graceMs: number): number {
  if (told.status === 'pending') return Number.POSITIVE_INFINITY;
  if (told.status === 'completed' || told.updatedAt === null) return Number.NEGATIVE_INFINITY;
  return Date.parse(told.updatedAt) + graceMs;
}

export interface WatchStart {
  /** Where the watch stands once `rows` are sent. */
  told: Told;
  /** What the watch sends first, in order. */
  rows: SessionRow[];
}

/**
 * What a live watch sends before it follows the projector: a fresh watch, the read model's
 * row; a resumed one (`Last-Event-ID`), each status change after that position, folded from
 * the stream itself, so none is repeated or missed even if the read model lags.
 */
export async function startWatch(
  deps: { readModel: ReadModel; store: EventStore },
  sessionId: string,
  lastEventId: bigint | undefined,
  maySee: SessionVisibility,
): Promise<WatchStart> {
  // A session the caller may not see is not found, as one that does not exist.
  const notFound = () => new SessionNotFoundError(sessionId, `no session ${sessionId}`);
  if (lastEventId === undefined) {
    const row = deps.readModel.session(sessionId);
    if (!row || !maySee(sessionId, row)) throw notFound();
    return { told: row, rows: [row] };
  }
  const events = await deps.store.readStream(sessionStreamName(sessionId));
  if (events.length === 0) throw notFound();
  const { changes, now, considered } = statusChangesAfter(events, lastEventId);
  if (!maySee(sessionId, now)) throw notFound();
  return { told: { position: considered, status: now.status, updatedAt: now.updatedAt }, rows: changes.map((state) => sessionRowOf(sessionId, state)) };
}
