import { evolve, initialState, type SessionState } from '../../projections/index.js';
import { sessionIdOfStream, type RecordedEvent } from '../events/index.js';
import { sessionRowOf, type SessionRow } from './session-row.js';

/**
 * Folds events of many streams at once, each onto its session's state as `stateOf` gives it
 * (the stored state, or `initialState`). Pure: the projector runs it inside its transaction,
 * and verification runs it over the whole log from nothing.
 *
 * A session is keyed by its stream, `authSession-<sessionId>`, the name every reader looks it
 * up by; events of streams of other categories are skipped. Returns the states it changed,
 * keyed by session id.
 */
export function projectEvents(
  events: Iterable<RecordedEvent>,
  stateOf: (sessionId: string) => SessionState,
): Map<string, SessionState> {
  const changed = new Map<string, SessionState>();
  for (const event of events) {
    const sessionId = sessionIdOfStream(event.streamName);
    if (sessionId === null) continue;
    changed.set(sessionId, evolve(changed.get(sessionId) ?? stateOf(sessionId), event));
  }
  return changed;
}

/** Rows in the order of the last event each folded, as the projector reports changes. */
export function byPosition(a: SessionRow, b: SessionRow): number {
  return a.position < b.position ? -1 : a.position > b.position ? 1 : 0;
}

/** Every session's row from a log read from its start: what the read model must hold. */
export function projectAll(events: Iterable<RecordedEvent>): SessionRow[] {
  const states = projectEvents(events, () => initialState);
  return [...states].map(([sessionId, state]) => sessionRowOf(sessionId, state)).sort(byPosition);
}
