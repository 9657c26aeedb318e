import type { SessionStatus } from '../contract/index.js';
import { LedgerError } from '../ledger-error.js';
import type { SessionRow } from './session-row.js';

export interface SessionFilter {
  userId?: string;
  status?: SessionStatus;
  provider?: string;
  /** Created at or after this instant (ms since the epoch). */
  sinceMs?: number;
  /** Created before this instant (ms since the epoch). */
  untilMs?: number;
}

export interface SessionPage {
  sessions: SessionRow[];
  /** Pass back as `cursor` for the next page; `null` on the last page. */
  nextCursor: string | null;
}

/** A cursor the read model did not hand out (or that no longer parses). */
export class InvalidCursorError extends LedgerError {
  override readonly name = 'InvalidCursorError';
  readonly code = 'invalid-cursor';
}

/** A pending session whose deadline has passed, as the deadline sweeper needs it. */
export interface DueSession {
  sessionId: string;
  /** The session's `expiresAt`, exactly as its `SessionStarted` has it. */
  expiresAt: string;
}

/** The queries the ledger asks of the `auth_sessions` table. Synchronous: it is local SQLite. */
export interface ReadModel {
  session(sessionId: string): SessionRow | null;
  /** Newest first (by creation), filtered; throws InvalidCursorError on a foreign cursor. */
  sessions(query: SessionFilter & { cursor?: string; limit: number }): SessionPage;
  /** The sessions that ran in a browser VM (normally one). */
  sessionIdsOfVm(vmId: string): string[];
  countByStatus(): Record<SessionStatus, number>;
  /**
   * Pending sessions whose `expiresAt` is at or before `nowMs` (milliseconds since the epoch),
   * oldest deadline first, then by session id; at most `limit`. A session the read model has
   * not caught up with may have ended already: whoever acts on it checks its stream.
   */
  expiredPending(nowMs: number, limit: number): DueSession[];
}
