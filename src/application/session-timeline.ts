import { evolve, fold, initialState } from '../../projections/index.js';
import type { AnomalyKind, SessionStatus } from '../contract/index.js';
import { SessionNotFoundError } from '../decide/index.js';
import { sessionStreamName, type RecordedEvent } from '../events/index.js';
import { chainBreakOf, headHash, type ChainBreak } from '../store/hash-chain.js';
import type { EventStore } from '../store/port.js';
import type { SessionVisibility } from './caller.js';

/** One event of a session, with what the fold made of it. */
export interface TimelineStep {
  event: RecordedEvent;
  /** The session's status after this event. */
  status: SessionStatus;
  /** The anomalies this event showed. */
  anomalies: AnomalyKind[];
}

export interface SessionTimeline {
  steps: TimelineStep[];
  /** The stream's chain head, and where the chain does not hold, if anywhere. */
  chain: { head: string; break: ChainBreak | null };
}

/**
 * A session's stream step by step, as an auditor reads it: each event, the status the same
 * fold as the projector's gives after it, and the anomalies it showed; and its hash chain,
 * checked over the events as stored.
 */
export async function sessionTimeline(deps: { store: EventStore }, sessionId: string, maySee: SessionVisibility): Promise<SessionTimeline> {
  const streamName = sessionStreamName(sessionId);
  const events = await deps.store.readStream(streamName);
  // One the caller may not see is not found, as one that does not exist.
  if (events.length === 0 || !maySee(sessionId, fold(events))) throw new SessionNotFoundError(sessionId, `no session ${sessionId}`);
  // As many as were folded: an event appended between the two reads waits for the next look.
  const stored = (await deps.store.readStoredStream(streamName)).slice(0, events.length);
  let state = initialState;
  const steps = events.map((event) => {
    const before = state.anomalies.length;
    state = evolve(state, event);
    return { event, status: state.status, anomalies: state.anomalies.slice(before).map((anomaly) => anomaly.kind) };
  });
  return { steps, chain: { head: headHash(stored), break: chainBreakOf(stored) } };
}
