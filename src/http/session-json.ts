import { withLegacyColumns, type LegacySessionJson, type SessionJson, type TimelineJson } from '../contract/index.js';
import type { SessionTimeline } from '../application/session-timeline.js';
import type { RecordedEvent } from '../events/index.js';
import type { SessionRow } from '../projector/session-row.js';

// The read model's rows and the store's events as the contract's JSON: bigints as decimal strings.

export function toSessionJson(row: SessionRow): SessionJson {
  return {
    ...row,
    revision: String(row.revision),
    position: String(row.position),
    anomalies: row.anomalies.map((anomaly) => ({ ...anomaly, position: String(anomaly.position) })),
  };
}

/** The legacy routes' row: the same JSON with the `auth_sessions` column names. */
export function toLegacySessionJson(row: SessionRow): LegacySessionJson {
  return withLegacyColumns(toSessionJson(row));
}

export function toRecordedEventJson(event: RecordedEvent) {
  return {
    eventId: event.eventId,
    type: event.type,
    revision: String(event.revision),
    position: String(event.position),
    data: event.data,
    metadata: event.metadata,
  };
}

export function toTimelineJson(sessionId: string, { steps, chain }: SessionTimeline): TimelineJson {
  return {
    sessionId,
    steps: steps.map(({ event, status, anomalies }) => ({ event: { ...toRecordedEventJson(event), hash: event.hash }, status, anomalies })),
    chain: { head: chain.head, break: chain.break && { revision: String(chain.break.revision), reason: chain.break.reason } },
  };
}
