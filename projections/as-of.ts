import type { RecordedEvent } from '../src/events/index.js';
import { fold } from './fold.js';
import type { SessionState } from './session-state.js';

/** A point in a stream's history: a position (inclusive), or a moment (milliseconds since the epoch, inclusive). */
export type AsOf = { position: bigint } | { instant: number };

/** The session as it was at a point of its history: its stream folded up to that point. */
export function foldAsOf(events: readonly RecordedEvent[], asOf: AsOf): SessionState {
  const upTo =
    'position' in asOf
      ? (event: RecordedEvent) => event.position <= asOf.position
      : (event: RecordedEvent) => Date.parse(event.metadata.recordedAt) <= asOf.instant;
  return fold(events.filter(upTo));
}
