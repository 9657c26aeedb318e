/**
 * decide(command, state): facts are always recorded; a start is refused when the stream
 * exists; a cancellation is refused when there is nothing to cancel or it is too late.
 */
import t, { type Test } from 'tap';
import { fold, initialState, type SessionState, type SessionStatus } from '../../projections/index.js';
import {
  DomainError,
  SessionAlreadyExistsError,
  SessionAlreadyTerminalError,
  SessionNotFoundError,
  decide,
  type RecordableFact,
  type SessionCommand,
  type StartSession,
} from '../../src/decide/index.js';
import { ledgerEventCodec, type LedgerEvent } from '../../src/events/index.js';
import { defaultData, fact, history, newEvent, recorded, timeOf } from '../support/events.js';

const SID = 'session-1';

const start: StartSession = { type: 'StartSession', sessionId: SID, ...defaultData.SessionStarted };
const cancel: SessionCommand = { type: 'CancelSession', sessionId: SID, cancelledBy: 'user-1' };

/** The state of a started session that reached `status`. */
const stateOf: Record<SessionStatus, SessionState> = {
  pending: fold(history(fact('SessionStarted', SID))),
  completed: fold(history(fact('SessionStarted', SID), fact('CredentialsStored', SID))),
  failed: fold(history(fact('SessionStarted', SID), fact('VmDestroyed', SID))),
  cancelled: fold(history(fact('SessionStarted', SID), fact('SessionCancelled', SID))),
};

const facts: RecordableFact[] = [
  fact('CredentialsStored', SID),
  fact('VmDestroyed', SID),
  fact('SessionFailed', SID),
  fact('SessionExpired', SID),
];

/** The events a store would accept: decide's output passes the codec. */
function assertValid(t: Test, events: readonly LedgerEvent[]): void {
  for (const event of events) t.doesNotThrow(() => ledgerEventCodec.prepare(newEvent(event)), `${event.type} is valid`);
}

t.test('StartSession on an empty stream → [SessionStarted]', async (t) => {
  const events = decide(start, initialState);
  t.strictSame(events, [{ type: 'SessionStarted', data: { sessionId: SID, ...defaultData.SessionStarted } }]);
  assertValid(t, events);
});

t.test('StartSession on a stream that exists → SessionAlreadyExistsError', async (t) => {
  for (const [status, state] of Object.entries(stateOf)) {
    t.throws(() => decide(start, state), SessionAlreadyExistsError, `a ${status} session`);
  }
  // Any event makes the stream exist, even a fact that arrived before the start.
  const early = fold(history(fact('CredentialsStored', SID)));
  const error = catchError(() => decide(start, early));
  t.ok(error instanceof SessionAlreadyExistsError);
  t.ok(error instanceof DomainError);
  t.match(error, { sessionId: SID, revision: 0n, code: 'session-already-exists', name: 'SessionAlreadyExistsError' });
});

t.test('RecordFact → [the fact], whatever the state', async (t) => {
  const all: [string, SessionState][] = [['empty', initialState], ...Object.entries(stateOf)];
  for (const [status, state] of all) {
    for (const f of facts) {
      t.strictSame(decide({ type: 'RecordFact', fact: f }, state), [f], `${f.type} on a ${status} session`);
    }
  }
  assertValid(t, facts);
});

t.test('a late CredentialsStored after VmDestroyed is decided as [CredentialsStored], and completes', async (t) => {
  const stream = history(fact('SessionStarted', SID), fact('VmDestroyed', SID));
  const state = fold(stream);
  t.equal(state.status, 'failed');

  const late = fact('CredentialsStored', SID);
  const events = decide({ type: 'RecordFact', fact: late }, state);
  t.strictSame(events, [late]);

  const appended = events.map((event, i) =>
    recorded(event.type, event.data, {
      revision: 2n + BigInt(i),
      position: 500n + BigInt(i),
      recordedAt: timeOf(2 + i),
    }),
  );
  const after = fold(appended, state);
  t.equal(after.status, 'completed', 'the credential wins');
  t.strictSame(
    after.anomalies.map((a) => a.kind),
    ['completedAfterFailure'],
  );
});

t.test('CancelSession on a pending session → [SessionCancelled]', async (t) => {
  const events = decide(cancel, stateOf.pending);
  t.strictSame(events, [{ type: 'SessionCancelled', data: { sessionId: SID, cancelledBy: 'user-1' } }]);
  assertValid(t, events);
});

t.test('CancelSession on a terminal session → SessionAlreadyTerminalError with its status', async (t) => {
  for (const status of ['completed', 'failed', 'cancelled'] as const) {
    const error = catchError(() => decide(cancel, stateOf[status]));
    t.ok(error instanceof SessionAlreadyTerminalError, status);
    t.ok(error instanceof DomainError);
    t.match(error, { sessionId: SID, status, code: 'session-already-terminal', name: 'SessionAlreadyTerminalError' });
  }
});

t.test('CancelSession on a stream with no events → SessionNotFoundError', async (t) => {
  const error = catchError(() => decide(cancel, initialState));
  t.ok(error instanceof SessionNotFoundError);
  t.ok(error instanceof DomainError);
  t.match(error, { sessionId: SID, code: 'session-not-found', name: 'SessionNotFoundError' });
});

t.test('decide leaves the state alone', async (t) => {
  const before = structuredClone(stateOf.pending);
  decide(cancel, stateOf.pending);
  decide({ type: 'RecordFact', fact: fact('CredentialsStored', SID) }, stateOf.pending);
  t.strictSame(stateOf.pending, before);
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
