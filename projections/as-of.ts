import type { RecordedEvent } from '../src/events/index.js';
import { fold } from './fold.js';
import type { SessionState } from './session-state.js';

/** A point in a stream's history: a position (inclusive), or a moment (milliseconds since the epoch, inclusive). */
export type AsOf = { position: bigint } | { instant: number };

/** The contract's `asOf` text (a decimal position, or else an ISO time) as a point. */
export function asOfPoint(text: string): AsOf {
  return /^\d+$/.test(text) ? { position: BigInt(text) } : { instant: Date.parse(text) };
}

/** Whether an event had been recorded by that point. */
export function isAtOrBefore(asOf: AsOf): (event: RecordedEvent) => boolean {
  return 'position' in asOf
    ? (event) => event.position <= asOf.position
    : (event) => Date.parse(event.metadata.recordedAt) <= asOf.instant;
}

/** The session as it was at a point of its history: its stream folded up to that point. */
export function foldAsOf(events: readonly RecordedEvent[], asOf: AsOf): SessionState {
  return fold(events.filter(isAtOrBefore(asOf)));
}
