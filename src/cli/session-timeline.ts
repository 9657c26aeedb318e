import { errorMessageOf, evolve, initialState, type SessionState } from '../../projections/index.js';
import type { RecordedEvent } from '../events/index.js';

/** One line per event, with the status the fold gives just after it; then the anomalies. */
export function sessionTimeline(events: readonly RecordedEvent[]): { lines: string[]; state: SessionState } {
  const lines: string[] = [];
  let state = initialState;
  for (const event of events) {
    state = evolve(state, event);
    const facts = Object.entries(event.data)
      .filter(([key]) => key !== 'sessionId')
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(' ');
    lines.push(
      `  #${event.revision} @${event.position} ${event.metadata.recordedAt} ${event.type.padEnd(17)} → ${state.status.padEnd(9)} ${facts}`,
    );
  }
  const error = errorMessageOf(state);
  lines.push(`  status: ${state.status}${state.completedAt ? ` (completed at ${state.completedAt})` : ''}${error ? ` — ${error}` : ''}`);
  for (const anomaly of state.anomalies) lines.push(`  anomaly: ${anomaly.kind} at position ${anomaly.position}`);
  return { lines, state };
}
