import { errorMessageOf, type Anomaly, type SessionState, type SessionStatus } from '../../projections/index.js';

/**
 * A session as the read model holds it and the API answers it: the legacy `auth_sessions`
 * columns (camelCase here, snake_case in the table), plus where it stands in the log.
 */
export interface SessionRow {
  sessionId: string;
  userId: string | null;
  provider: string | null;
  browserVmId: string | null;
  status: SessionStatus;
  completedAt: string | null;
  errorMessage: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  /** Revision of the last event folded in. */
  revision: bigint;
  /** Global position of the last event folded in. */
  position: bigint;
  anomalies: readonly Anomaly[];
}

/**
 * The row of a session's stream, folded. The id is the stream's, the name every reader looks
 * the session up by, not the one in the first event's data: the fold notes a mismatch among
 * a stream's events (`sessionIdMismatch`) but cannot see one against the stream's name, and
 * two streams must never share a row. The state must have folded at least one event.
 */
export function sessionRowOf(sessionId: string, state: SessionState): SessionRow {
  if (state.position === null || state.updatedAt === null) throw new TypeError(`session ${sessionId} has no event folded`);
  return {
    sessionId,
    userId: state.userId,
    provider: state.provider,
    browserVmId: state.browserVmId,
    status: state.status,
    completedAt: state.completedAt,
    errorMessage: errorMessageOf(state),
    // A stream whose first fact arrived before its start still has a first moment.
    createdAt: state.createdAt ?? state.updatedAt,
    updatedAt: state.updatedAt,
    revision: state.revision,
    position: state.position,
    anomalies: state.anomalies,
  };
}
