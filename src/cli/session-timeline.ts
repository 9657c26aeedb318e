import { errorMessageOf, evolve, initialState, type AnomalyKind, type SessionState, type SessionStatus } from '../../projections/index.js';
import type { RecordedEvent } from '../events/index.js';

/** One fact of a session's story: where and when it was recorded, by whom, and the status the fold gives just after it. */
export interface TimelineEntry {
  position: string;
  revision: string;
  recordedAt: string;
  type: string;
  /** `role:sub` of the token (or the ledger's part) that recorded it. */
  actor: string;
  status: SessionStatus;
  /** The anomalies this event showed. */
  anomalies: AnomalyKind[];
  data: Record<string, unknown>;
}

export interface Timeline {
  entries: TimelineEntry[];
  /** The session after the last event. */
  state: SessionState;
}

/** A session's story, event by event, folded as it goes. */
export function timelineOf(events: readonly RecordedEvent[]): Timeline {
  const entries: TimelineEntry[] = [];
  let state = initialState;
  for (const event of events) {
    const before = state.anomalies.length;
    state = evolve(state, event);
    // The session is the timeline's own; the rest of the data is what this fact says.
    const data: Record<string, unknown> = { ...event.data };
    delete data.sessionId;
    entries.push({
      position: String(event.position),
      revision: String(event.revision),
      recordedAt: event.metadata.recordedAt,
      type: event.type,
      actor: `${event.metadata.actor.role}:${event.metadata.actor.sub}`,
      status: state.status,
      anomalies: state.anomalies.slice(before).map((anomaly) => anomaly.kind),
      data,
    });
  }
  return { entries, state };
}

/** The timeline for people: one line per event, then the outcome and the anomalies. */
export function timelineLines({ entries, state }: Timeline): string[] {
  const lines = entries.map((entry) => {
    const facts = Object.entries(entry.data).map(([key, value]) => `${key}=${String(value)}`).join(' ');
    const anomalies = entry.anomalies.map((kind) => ` ⚠ ${kind}`).join('');
    return `  #${entry.revision} @${entry.position} ${entry.recordedAt} ${entry.type.padEnd(17)} → ${entry.status.padEnd(9)} by ${entry.actor}  ${facts}${anomalies}`;
  });
  const error = errorMessageOf(state);
  lines.push(`  status: ${state.status}${state.completedAt ? ` (completed at ${state.completedAt})` : ''}${error ? ` — ${error}` : ''}`);
  for (const anomaly of state.anomalies) lines.push(`  anomaly: ${anomaly.kind} at position ${anomaly.position}`);
  return lines;
}

/** Lines of a stream's timeline, as `simulate` prints them. */
export const sessionTimeline = (events: readonly RecordedEvent[]) => timelineLines(timelineOf(events));
