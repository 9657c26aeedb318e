import type { RecordedEvent } from '../src/events/index.js';
import { evolve } from './evolve.js';
import { fold } from './fold.js';
import type { SessionState } from './session-state.js';

export interface StatusChanges {
  /** The state just after each event, after `after`, that changed the status, in order. */
  changes: SessionState[];
  /** The stream folded whole. */
  now: SessionState;
  /** The last position considered: the stream's last, or `after` when the stream ends before it. */
  considered: bigint;
}

/**
 * The status changes of a stream after a position: what a resumed live watch owes a client
 * that saw everything up to `after`. A status is a change when it differs from the one
 * before it, so a client that was told the status at `after` is told each change once.
 */
export function statusChangesAfter(events: readonly RecordedEvent[], after: bigint): StatusChanges {
  let state = fold(events.filter((event) => event.position <= after));
  const changes: SessionState[] = [];
  for (const event of events.filter((e) => e.position > after)) {
    const next = evolve(state, event);
    if (next.status !== state.status) changes.push(next);
    state = next;
  }
  const last = events.at(-1)?.position ?? after;
  // Stryker disable next-line EqualityOperator: `>=` is equivalent, the two are equal then.
  return { changes, now: state, considered: last > after ? last : after };
}
