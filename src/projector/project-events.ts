import { evolve, initialState, type SessionState } from '../../projections/index.js';
import { sessionIdOf, type RecordedEvent } from '../events/index.js';
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
    const sessionId = sessionIdOf(event.streamName);
    if (sessionId === null) continue;
    changed.set(sessionId, evolve(changed.get(sessionId) ?? stateOf(sessionId), event));
  }
  return changed;
}

/**
 * The read-model row of a session's state. The id is the stream's: `sessionRowOf` takes it
 * from the first event's data, which names the same session unless a writer put an event
 * naming another session first in this stream. The fold notes a mismatch among a stream's
 * events (`sessionIdMismatch`) but cannot see one against the stream's name, and two streams
 * must never share a row.
 */
export function rowOfSession(sessionId: string, state: SessionState): SessionRow {
  const row = sessionRowOf(state);
  // Every state here has folded at least one event, which is all sessionRowOf asks.
  if (row === null) throw new TypeError(`session ${sessionId} has no event folded`);
  return { ...row, sessionId };
}

/** Rows in the order of the last event each folded, as the projector reports changes. */
export function byPosition(a: SessionRow, b: SessionRow): number {
  return a.position < b.position ? -1 : a.position > b.position ? 1 : 0;
}

/** Every session's row from a log read from its start: what the read model must hold. */
export function projectAll(events: Iterable<RecordedEvent>): SessionRow[] {
  const states = projectEvents(events, () => initialState);
  return [...states].map(([sessionId, state]) => rowOfSession(sessionId, state)).sort(byPosition);
}
