/**
 * The port's idempotency rule (`earlierResultOf`) on its own, for what the conformance suite
 * cannot reach through a store: the rule compares an event's type as well as its data, but
 * today no two event types share a data shape, so a store's codec never lets such a pair
 * through. A future type (or an upcast one) could; the rule must not lean on the schemas.
 */
import t from 'tap';
import { ledgerEventCodec, type PreparedEvent, type RecordedEvent } from '../../src/events/index.js';
import { EventIdConflictError } from '../../src/store/errors.js';
import { earlierResultOf } from '../../src/store/idempotency.js';
import { newSessionFailed } from '../support/events.js';

const streamName = 'authSession-session-1';
const failed = ledgerEventCodec.prepare(newSessionFailed('session-1'));

/** `event` as the store gave it back, at `revision`. */
const recordedAs = (event: PreparedEvent, revision: bigint): RecordedEvent =>
  ({ ...event, streamName, revision, position: 1000n + revision, hash: `hash-${revision}` }) as RecordedEvent;

t.test('nothing recorded under the ids: a fresh append', async (t) => {
  t.equal(earlierResultOf(streamName, [failed], []), null);
});

t.test('the same id, type and data: a retry, answered with what was recorded', async (t) => {
  t.same(earlierResultOf(streamName, [failed], [recordedAs(failed, 3n)]), { revision: 3n, position: 1003n, hash: 'hash-3', alreadyRecorded: true });
});

t.test('the same id and data under another type: a conflict, not a retry', async (t) => {
  // Shaped by hand: SessionExpired has no such data, which is why no store can show this.
  const otherType = { ...failed, type: 'SessionExpired' } as PreparedEvent;
  t.throws(() => earlierResultOf(streamName, [otherType], [recordedAs(failed, 0n)]), {
    constructor: EventIdConflictError,
    eventId: failed.eventId,
    reason: 'otherContent',
    message: `event id ${failed.eventId} was recorded with another type or data; appending to ${streamName} refused`,
  });
});
