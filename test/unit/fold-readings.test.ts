/**
 * What the ledger reads off the fold besides the state itself: the session as it was at a
 * point (`?asOf=`, `ledger history --as-of`), the status changes a resumed watch owes its
 * client, and the bucket `session_outcomes` counts a session in. And the one thing the fold
 * refuses: an event type the codec would never let through.
 */
import t from 'tap';
import {
  asOfPoint,
  bucketKey,
  evolve,
  fold,
  foldAsOf,
  HOUR_MS,
  initialState,
  isAtOrBefore,
  outcomeOf,
  statusChangesAfter,
  type OutcomeBucket,
} from '../../projections/index.js';
import type { RecordedEvent } from '../../src/events/index.js';
import { fact, history, recorded, timeOf } from '../support/events.js';

const SID = 'session-1';
const start = fact('SessionStarted', SID);
const vmDestroyed = fact('VmDestroyed', SID);
const failed = fact('SessionFailed', SID);
const credentials = fact('CredentialsStored', SID);

/** Positions 100, 110, 120, 130; recordedAt T0, +1 s, +2 s, +3 s. */
const stream = history(start, vmDestroyed, failed, credentials);

t.test("asOf's text: digits alone are a position, anything else a time", async (t) => {
  t.same(asOfPoint('42'), { position: 42n });
  t.same(asOfPoint('0'), { position: 0n });
  t.same(asOfPoint('2030-01-01T00:00:01.000Z'), { instant: Date.parse('2030-01-01T00:00:01.000Z') }, 'an ISO time begins with digits');
  t.same(asOfPoint('2030-01-01T00:00:01'), { instant: Date.parse('2030-01-01T00:00:01') }, 'and may end with them');
});

t.test('a point includes the events at it, and none after', async (t) => {
  const positions = (events: readonly RecordedEvent[]) => events.map((event) => event.position);
  t.same(positions(stream.filter(isAtOrBefore({ position: 110n }))), [100n, 110n], 'a position: inclusive');
  t.same(positions(stream.filter(isAtOrBefore({ position: 99n }))), [], 'before the first event');
  t.same(positions(stream.filter(isAtOrBefore({ instant: Date.parse(timeOf(2)) }))), [100n, 110n, 120n], 'a time: inclusive');
  t.same(positions(stream.filter(isAtOrBefore({ instant: Date.parse(timeOf(2)) - 1 }))), [100n, 110n], 'a millisecond earlier');
});

t.test('the session as it was: its stream folded up to the point', async (t) => {
  t.match(foldAsOf(stream, { position: 100n }), { status: 'pending', revision: 0n });
  t.match(foldAsOf(stream, { position: 125n }), { status: 'failed', revision: 2n, failure: { reason: 'vmDestroyed' } });
  t.match(foldAsOf(stream, asOfPoint(timeOf(3))), { status: 'completed', revision: 3n });
  t.equal(foldAsOf(stream, { position: 50n }), initialState, 'before its first event: no session yet');
});

t.test('status changes after a position: each change once, the state just after it', async (t) => {
  const fromStart = statusChangesAfter(stream, 100n);
  t.same(
    fromStart.changes.map(({ status, position }) => [status, position]),
    [
      ['failed', 110n],
      ['completed', 130n],
    ],
    'the second failure changes nothing',
  );
  t.equal(fromStart.changes[0]!.failure?.reason, 'vmDestroyed', 'each change is the whole state then');
  t.same(fromStart.now, fold(stream), 'and now is the stream folded whole');
  t.equal(fromStart.considered, 130n, 'up to the stream’s last position');

  t.same(statusChangesAfter(stream, 110n).changes.map((state) => state.status), ['completed'], 'after the failure: only what came later');
  const none = statusChangesAfter(stream, 130n);
  t.same([none.changes, none.now.status, none.considered], [[], 'completed', 130n], 'at the end: nothing owed');
  const beyond = statusChangesAfter(stream, 500n);
  t.same([beyond.changes, beyond.considered], [[], 500n], 'a position past the stream is considered as given');
  const empty = statusChangesAfter([], 7n);
  t.same([empty.changes, empty.now, empty.considered], [[], initialState, 7n], 'no stream at all');
});

t.test('the outcome bucket: the hour the session was created, its provider, status and failure reason', async (t) => {
  const created = '2030-01-01T10:20:00.000Z';
  const hourOf = (iso: string) => Date.parse(iso) / HOUR_MS;
  const started = recorded('SessionStarted', { ...start.data, provider: 'codex' }, { revision: 0n, position: 100n, recordedAt: created });
  // An hour later, so a bucket taken from the last event's time would show.
  const later = '2030-01-01T11:05:00.000Z';
  const destroyed = recorded('VmDestroyed', vmDestroyed.data, { revision: 1n, position: 101n, recordedAt: later });
  const stored = recorded('CredentialsStored', credentials.data, { revision: 2n, position: 102n, recordedAt: later });

  t.equal(outcomeOf(initialState), null, 'no event: no bucket');
  t.same(outcomeOf(fold([started])), { hour: hourOf('2030-01-01T10:00:00.000Z'), provider: 'codex', status: 'pending', failureReason: null });
  t.same(outcomeOf(fold([started, destroyed])), { hour: hourOf('2030-01-01T10:00:00.000Z'), provider: 'codex', status: 'failed', failureReason: 'vmDestroyed' });
  t.same(
    outcomeOf(fold([started, destroyed, stored])),
    { hour: hourOf('2030-01-01T10:00:00.000Z'), provider: 'codex', status: 'completed', failureReason: null },
    'completed after a failure: no failure reason',
  );
  t.same(
    outcomeOf(fold([destroyed])),
    { hour: hourOf('2030-01-01T11:00:00.000Z'), provider: null, status: 'failed', failureReason: 'vmDestroyed' },
    'never started: the hour of its first event, no provider',
  );
});

t.test('bucket keys: equal buckets, one key; any field different, another', async (t) => {
  const bucket: OutcomeBucket = { hour: 500_000, provider: 'gemini', status: 'failed', failureReason: 'expired' };
  t.equal(bucketKey({ ...bucket }), bucketKey(bucket));
  const others: OutcomeBucket[] = [
    { ...bucket, hour: 500_001 },
    { ...bucket, provider: 'codex' },
    { ...bucket, provider: null },
    { ...bucket, status: 'pending' },
    { ...bucket, failureReason: 'vmDestroyed' },
    { ...bucket, failureReason: null },
  ];
  t.equal(new Set([bucket, ...others].map(bucketKey)).size, others.length + 1);
});

t.test('an event type the codec would refuse never reaches a state: evolve throws, naming it', async (t) => {
  const [teleported] = history(start).map((event) => ({ ...event, type: 'SessionTeleported' }) as unknown as RecordedEvent);
  t.throws(() => evolve(initialState, teleported!), new TypeError('evolve: unknown event type "SessionTeleported"'));
});
