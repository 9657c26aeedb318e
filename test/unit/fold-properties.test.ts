/**
 * Properties of the fold over random streams of one session (see test/support/arbitraries.ts).
 * Where a property needs the expected outcome it computes it from the events directly, by
 * DESIGN.md's prose ("completed wins; among the other outcomes, the first one wins"), not
 * through evolve, so the two are independent statements of the same rules.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { EventId } from '../../src/contract/index.js';
import {
  EXPIRED_FAILURE,
  VM_DESTROYED_FAILURE,
  evolve,
  fold,
  initialState,
  type AnomalyKind,
  type Failure,
  type SessionState,
} from '../../projections/index.js';
import {
  EventMetadata,
  LedgerEvent,
  eventTypes,
  ledgerEventCodec,
  sessionStreamName,
  type RecordedEvent,
} from '../../src/events/index.js';
import { historyArb } from '../support/arbitraries.js';

/** Runs a property; fast-check's report (seed, shrunk counterexample) fails the test. */
function holds(t: Test, property: fc.IProperty<unknown>, params: fc.Parameters<unknown> = {}): void {
  fc.assert(property, params);
  t.pass('holds');
}

const firstOf = (events: readonly RecordedEvent[], type: RecordedEvent['type']) => events.find((e) => e.type === type);

/** The first event other than SessionStarted: the first outcome. */
const firstOutcome = (events: readonly RecordedEvent[]) => events.find((e) => e.type !== 'SessionStarted');

/** The failure an event causes when it reaches a pending session, if it is a failure. */
function failureOf(event: RecordedEvent): Failure | null {
  const at = event.metadata.recordedAt;
  switch (event.type) {
    case 'VmDestroyed':
      return { ...VM_DESTROYED_FAILURE, at, position: event.position };
    case 'SessionExpired':
      return { ...EXPIRED_FAILURE, at, position: event.position };
    case 'SessionFailed':
      return { reason: event.data.reason, errorMessage: event.data.errorMessage, at, position: event.position };
    default:
      return null;
  }
}

/** Every state the fold passes through, after each event. */
function states(events: readonly RecordedEvent[]): SessionState[] {
  const out: SessionState[] = [];
  let state = initialState;
  for (const event of events) out.push((state = evolve(state, event)));
  return out;
}

/** initialState as it was before any fold ran. */
const pristine = structuredClone(initialState);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

t.test('sanity: generated streams are valid, one session, in store order', async (t) => {
  holds(
    t,
    fc.property(historyArb({ including: 'CredentialsStored' }), (events) => {
      assert.ok(events.some((e) => e.type === 'CredentialsStored'), '`including` is honoured');
      const sessionId = events[0]?.data.sessionId;
      events.forEach((event, index) => {
        const { type, data, eventId, streamName, revision, position, metadata } = event;
        assert.ok(LedgerEvent.safeParse({ type, data }).success, `${type} data is valid`);
        assert.ok(EventMetadata.safeParse(metadata).success, 'metadata is valid');
        assert.ok(EventId.safeParse(eventId).success, 'event id is a UUID');
        assert.equal(data.sessionId, sessionId, 'one session');
        assert.equal(streamName, sessionStreamName(data.sessionId));
        assert.equal(revision, BigInt(index), 'revisions are 0, 1, 2…');
        const previous = events[index - 1];
        if (previous) {
          assert.ok(position > previous.position, 'positions strictly increase');
          assert.ok(metadata.recordedAt >= previous.metadata.recordedAt, 'time never goes back');
        }
        // What the store would give back for it decodes to the same event.
        const stored = { ...event, dataJson: JSON.stringify(data), metadataJson: JSON.stringify(metadata) };
        assert.deepEqual(ledgerEventCodec.decode(stored), event);
      });
    }),
  );
});

t.test('a stream ends completed if and only if it holds a CredentialsStored', async (t) => {
  holds(
    t,
    fc.property(historyArb({ including: 'CredentialsStored' }), (events) => {
      const first = firstOf(events, 'CredentialsStored');
      assert.ok(first?.type === 'CredentialsStored');
      const state = fold(events);
      assert.equal(state.status, 'completed');
      assert.equal(state.completedAt, first.metadata.recordedAt, 'completedAt is the first credential’s recordedAt');
      assert.equal(state.credentialRef, first.data.credentialRef);
    }),
  );
  holds(
    t,
    fc.property(historyArb({ types: eventTypes.filter((type) => type !== 'CredentialsStored') }), (events) => {
      const state = fold(events);
      assert.notEqual(state.status, 'completed');
      assert.equal(state.completedAt, null);
    }),
  );
});

t.test('completed is absorbing: every state after it keeps status, completedAt and credentialRef', async (t) => {
  holds(
    t,
    fc.property(historyArb({ including: 'CredentialsStored' }), (events) => {
      const seen = states(events);
      const reached = seen.findIndex((state) => state.status === 'completed');
      const completed = seen[reached];
      assert.ok(completed);
      for (const later of seen.slice(reached + 1)) {
        assert.equal(later.status, 'completed');
        assert.equal(later.completedAt, completed.completedAt);
        assert.equal(later.credentialRef, completed.credentialRef);
      }
    }),
    { numRuns: 300 },
  );
});

t.test(
  'the first outcome wins: the first event other than SessionStarted sets failure and cancellation for good, ' +
    'and the status unless a CredentialsStored ever comes',
  async (t) => {
    holds(
      t,
      fc.property(historyArb(), (events) => {
        const outcome = firstOutcome(events);
        const state = fold(events);

        // A failure is the first event that left `pending`, if that was a VmDestroyed,
        // SessionFailed or SessionExpired; it is kept even if the session later completes.
        const failure = outcome ? failureOf(outcome) : null;
        assert.deepEqual(state.failure, failure);

        const cancel = outcome?.type === 'SessionCancelled' ? outcome : undefined;
        assert.equal(state.cancelledBy, cancel?.data.cancelledBy ?? null);
        assert.equal(state.cancelledAt, cancel?.metadata.recordedAt ?? null);

        const status = events.some((e) => e.type === 'CredentialsStored')
          ? 'completed'
          : failure
            ? 'failed'
            : cancel
              ? 'cancelled'
              : 'pending';
        assert.equal(state.status, status);
      }),
      { numRuns: 500 },
    );
  },
);

t.test('anomalies: each kind counts exactly what it names', async (t) => {
  holds(
    t,
    fc.property(historyArb(), (events) => {
      const count = (kind: AnomalyKind) => fold(events).anomalies.filter((a) => a.kind === kind).length;
      const starts = events.filter((e) => e.type === 'SessionStarted').length;
      const firstStart = events.findIndex((e) => e.type === 'SessionStarted');
      const credentials = events.findIndex((e) => e.type === 'CredentialsStored');
      const outcome = firstOutcome(events);
      const completedOver = credentials >= 0 && outcome?.type !== 'CredentialsStored' ? outcome?.type : undefined;

      assert.equal(count('sessionIdMismatch'), 0, 'one session');
      assert.equal(count('duplicateStart'), Math.max(0, starts - 1));
      assert.equal(count('eventBeforeStart'), (firstStart < 0 ? events : events.slice(0, firstStart)).length);
      assert.equal(
        count('duplicateCredentials'),
        Math.max(0, events.filter((e) => e.type === 'CredentialsStored').length - 1),
      );
      assert.equal(
        count('failureIgnored'),
        credentials < 0 ? 0 : events.slice(credentials).filter((e) => e.type === 'SessionFailed').length,
      );
      assert.equal(count('completedAfterCancel'), completedOver === 'SessionCancelled' ? 1 : 0);
      assert.equal(count('completedAfterFailure'), completedOver && completedOver !== 'SessionCancelled' ? 1 : 0);

      const positions = new Set(events.map((e) => e.position));
      const anomalies = fold(events).anomalies;
      anomalies.forEach((anomaly, index) => {
        assert.ok(positions.has(anomaly.position), 'an anomaly names the position of one of the events');
        assert.ok(anomaly.position >= (anomalies[index - 1]?.position ?? -1n), 'in the order of the stream');
      });
    }),
    { numRuns: 300 },
  );
});

t.test('bookkeeping: the last event’s revision, position and time; the first start’s time', async (t) => {
  holds(
    t,
    fc.property(historyArb(), (events) => {
      const state = fold(events);
      const last = events.at(-1);
      assert.equal(state.revision, last?.revision ?? -1n);
      assert.equal(state.position, last?.position ?? null);
      assert.equal(state.updatedAt, last?.metadata.recordedAt ?? null);
      assert.equal(state.sessionId, events[0]?.data.sessionId ?? null);
      const start = firstOf(events, 'SessionStarted');
      assert.equal(state.started, start !== undefined);
      assert.equal(state.createdAt, start?.metadata.recordedAt ?? null);
      assert.equal(state.userId, start?.type === 'SessionStarted' ? start.data.userId : null);
      assert.equal(state.vmDestroyedAt, firstOf(events, 'VmDestroyed')?.metadata.recordedAt ?? null);
    }),
  );
});

t.test('deterministic: folding the same stream twice, or a copy of it, gives deep-equal states', async (t) => {
  holds(
    t,
    fc.property(historyArb(), (events) => {
      const once = fold(events);
      assert.deepStrictEqual(fold(events), once);
      assert.deepStrictEqual(fold(structuredClone(events)), once);
    }),
  );
});

t.test('resumable: fold(rest, fold(prefix)) equals fold(whole) at every split point', async (t) => {
  holds(
    t,
    fc.property(historyArb(), (events) => {
      const whole = fold(events);
      for (let split = 0; split <= events.length; split++) {
        const resumed = fold(events.slice(split), fold(events.slice(0, split)));
        assert.deepStrictEqual(resumed, whole, `split at ${split}`);
      }
    }),
  );
});

t.test('total and pure: never throws, mutates neither events nor the state it starts from', async (t) => {
  holds(
    t,
    fc.property(historyArb(), fc.nat(), (events, at) => {
      const split = at % (events.length + 1);
      const snapshot = structuredClone(events);
      // Frozen, so that any write throws in this strict-mode module's callees as well.
      const frozen = deepFreeze(structuredClone(events));
      const from = deepFreeze(fold(frozen.slice(0, split)));
      const fromSnapshot = structuredClone(from);

      const state = fold(frozen.slice(split), from);
      assert.deepStrictEqual(frozen, snapshot, 'events unchanged');
      assert.deepStrictEqual(from, fromSnapshot, 'starting state unchanged');
      assert.deepStrictEqual(state, fold(events));
    }),
  );
  t.strictSame(initialState, pristine, 'initialState unchanged');
});

t.test('fold takes any iterable, read once, in order', async (t) => {
  holds(
    t,
    fc.property(historyArb(), (events) => {
      function* generate() {
        yield* events;
      }
      assert.deepStrictEqual(fold(generate()), fold(events));
    }),
  );
});
