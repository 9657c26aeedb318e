import { isDeepStrictEqual } from 'node:util';
import type { PreparedEvent, RecordedEvent } from '../events/index.js';
import { EventIdConflictError } from './errors.js';
import type { AppendResult } from './port.js';

/**
 * The port's idempotency rule, shared by every adapter so none can drift: given the events
 * already recorded under any of an append's ids, says whether the append is a retry of an
 * earlier one (its original result), fresh (`null`), or a conflict (throws).
 *
 * A retry is an append whose every id is already in that stream with the same type and
 * data; it answers the revision and position of the latest of them. Metadata may differ
 * (a retry is recorded at another time), so it is not compared. An append of which only
 * some ids are recorded is neither a retry nor fresh: a conflict.
 */
export function earlierResultOf(
  streamName: string,
  append: readonly PreparedEvent[],
  recorded: readonly RecordedEvent[],
): AppendResult | null {
  if (recorded.length === 0) return null;
  const byId = new Map(recorded.map((event) => [event.eventId, event]));
  for (const event of append) {
    const earlier = byId.get(event.eventId);
    if (!earlier) continue;
    if (earlier.streamName !== streamName) throw new EventIdConflictError(event.eventId, streamName, 'otherStream');
    if (earlier.type !== event.type || !isDeepStrictEqual(earlier.data, event.data)) {
      throw new EventIdConflictError(event.eventId, streamName, 'otherContent');
    }
  }
  if (recorded.length < append.length) {
    const seen = append.find((event) => byId.has(event.eventId))!;
    throw new EventIdConflictError(seen.eventId, streamName, 'partialRetry');
  }
  // Stryker disable next-line EqualityOperator: `>=` is equivalent, the events of one stream never share a revision.
  const last = recorded.reduce((latest, event) => (event.revision > latest.revision ? event : latest));
  return { revision: last.revision, position: last.position, hash: last.hash, alreadyRecorded: true };
}
