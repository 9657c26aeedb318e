import { evolve, fold, type SessionState } from '../../projections/index.js';
import type { RecordedEvent } from '../events/index.js';
import type { EventStore } from '../store/port.js';

/** Most sessions whose last state is kept; past it the memory starts afresh and streams are read again. */
const KEPT = 10_000;

/**
 * A session's state just before and just after each event, in position order: the fold of
 * its stream up to that event. The state after a stream's previous event is kept, so the
 * usual case is one `evolve`; otherwise (a first look at a stream, a restart from a
 * checkpoint) the stream is read from the store up to the event and folded.
 */
export function createSessionStates(store: EventStore) {
  const last = new Map<string, SessionState>();
  return {
    async around(event: RecordedEvent): Promise<{ before: SessionState; after: SessionState }> {
      let before = last.get(event.streamName);
      if (before?.revision !== event.revision - 1n) {
        const earlier = event.revision === 0n ? [] : await store.readStream(event.streamName, { maxCount: Number(event.revision) });
        before = fold(earlier);
      }
      const after = evolve(before, event);
      if (last.size >= KEPT && !last.has(event.streamName)) last.clear();
      last.set(event.streamName, after);
      return { before, after };
    },
  };
}
