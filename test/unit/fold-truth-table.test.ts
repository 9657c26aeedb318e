/**
 * DESIGN.md's "completed is terminal" truth table, one test per cell, and the rules around
 * it: SessionStarted, anomalies, completedAt, errorMessageOf.
 *
 * Each cell folds a stream that reaches the row's state, applies the column's event, and
 * compares the whole resulting state with the state before plus exactly the expected
 * changes, so a cell also fails when the event touches something it should not.
 */
import t, { type Test } from 'tap';
import {
  EXPIRED_FAILURE,
  VM_DESTROYED_FAILURE,
  errorMessageOf,
  evolve,
  fold,
  initialState,
  isTerminal,
  type AnomalyKind,
  type SessionState,
  type SessionStatus,
} from '../../projections/index.js';
import type { LedgerEvent, RecordedEvent } from '../../src/events/index.js';
import { defaultData, fact, history, timeOf } from '../support/events.js';

const SID = 'session-1';

const start = fact('SessionStarted', SID);
const credentials = fact('CredentialsStored', SID, { credentialRef: 'cred-first' });
const vmDestroyed = fact('VmDestroyed', SID);
const failed = fact('SessionFailed', SID, { reason: 'consentDenied', errorMessage: 'The user denied consent' });
const cancelled = fact('SessionCancelled', SID, { cancelledBy: 'user-1' });
const expired = fact('SessionExpired', SID);

/** A stream that brings a session to each row's state. */
const reach: Record<SessionStatus, readonly LedgerEvent[]> = {
  pending: [start],
  completed: [start, credentials],
  failed: [start, failed],
  cancelled: [start, cancelled],
};

/** Folds the row's stream, then applies `event`; returns the states before and after it. */
function cell(t: Test, from: SessionStatus, event: LedgerEvent) {
  const events = history(...reach[from], event);
  const last = events.at(-1) as RecordedEvent;
  const before = fold(events.slice(0, -1));
  t.equal(before.status, from, `the stream reaches ${from}`);
  return { before, after: fold(events), last, at: last.metadata.recordedAt };
}

/** `before` with what every event sets, the given changes, and the given new anomalies. */
function expected(
  before: SessionState,
  last: RecordedEvent,
  changes: Partial<SessionState>,
  anomalies: readonly AnomalyKind[] = [],
): SessionState {
  const at = last.metadata.recordedAt;
  return {
    ...before,
    ...changes,
    updatedAt: at,
    revision: last.revision,
    position: last.position,
    anomalies: [...before.anomalies, ...anomalies.map((kind) => ({ kind, position: last.position, at }))],
  };
}

// ---- pending ---------------------------------------------------------------------------------

t.test('pending + CredentialsStored → completed', async (t) => {
  const { before, after, last, at } = cell(t, 'pending', credentials);
  t.strictSame(after, expected(before, last, { status: 'completed', completedAt: at, credentialRef: 'cred-first' }));
});

t.test('pending + VmDestroyed → failed: "VM destroyed before OAuth completion"', async (t) => {
  const { before, after, last, at } = cell(t, 'pending', vmDestroyed);
  t.strictSame(
    after,
    expected(before, last, {
      status: 'failed',
      failure: {
        reason: 'vmDestroyed',
        errorMessage: 'VM destroyed before OAuth completion',
        at,
        position: last.position,
      },
      vmDestroyedAt: at,
    }),
  );
  t.equal(VM_DESTROYED_FAILURE.errorMessage, 'VM destroyed before OAuth completion');
});

t.test('pending + SessionFailed → failed: its reason', async (t) => {
  const { before, after, last, at } = cell(t, 'pending', failed);
  t.strictSame(
    after,
    expected(before, last, {
      status: 'failed',
      failure: { reason: 'consentDenied', errorMessage: 'The user denied consent', at, position: last.position },
    }),
  );
});

t.test('pending + SessionCancelled → cancelled', async (t) => {
  const { before, after, last, at } = cell(t, 'pending', cancelled);
  t.strictSame(after, expected(before, last, { status: 'cancelled', cancelledBy: 'user-1', cancelledAt: at }));
});

t.test('pending + SessionExpired → failed: expired', async (t) => {
  const { before, after, last, at } = cell(t, 'pending', expired);
  t.strictSame(
    after,
    expected(before, last, {
      status: 'failed',
      failure: {
        reason: 'expired',
        errorMessage: 'Session expired before OAuth completion',
        at,
        position: last.position,
      },
    }),
  );
  t.equal(EXPIRED_FAILURE.reason, 'expired');
});

// ---- completed -------------------------------------------------------------------------------

t.test('completed + CredentialsStored → completed (duplicate noted)', async (t) => {
  const again = fact('CredentialsStored', SID, { credentialRef: 'cred-second' });
  const { before, after, last } = cell(t, 'completed', again);
  t.strictSame(after, expected(before, last, {}, ['duplicateCredentials']));
  t.equal(after.completedAt, before.completedAt, 'completedAt is the first credential’s');
  t.equal(after.credentialRef, 'cred-first');
});

t.test('completed + VmDestroyed → completed (VM time noted)', async (t) => {
  const { before, after, last, at } = cell(t, 'completed', vmDestroyed);
  t.strictSame(after, expected(before, last, { vmDestroyedAt: at }));
  t.equal(after.failure, null, 'the clean-up is no failure');
});

t.test('completed + SessionFailed → completed (ignored failure noted)', async (t) => {
  const { before, after, last } = cell(t, 'completed', failed);
  t.strictSame(after, expected(before, last, {}, ['failureIgnored']));
  t.equal(errorMessageOf(after), null);
});

t.test('completed + SessionCancelled → completed', async (t) => {
  const { before, after, last } = cell(t, 'completed', cancelled);
  t.strictSame(after, expected(before, last, {}));
});

t.test('completed + SessionExpired → completed', async (t) => {
  const { before, after, last } = cell(t, 'completed', expired);
  t.strictSame(after, expected(before, last, {}));
});

// ---- failed ----------------------------------------------------------------------------------

t.test('failed + CredentialsStored → completed, anomaly completedAfterFailure', async (t) => {
  const { before, after, last, at } = cell(t, 'failed', credentials);
  t.strictSame(
    after,
    expected(before, last, { status: 'completed', completedAt: at, credentialRef: 'cred-first' }, [
      'completedAfterFailure',
    ]),
  );
  t.strictSame(after.failure, before.failure, 'the failure is kept for auditors');
});

t.test('failed + VmDestroyed → failed (VM time noted)', async (t) => {
  const { before, after, last, at } = cell(t, 'failed', vmDestroyed);
  t.strictSame(after, expected(before, last, { vmDestroyedAt: at }));
  t.equal(after.failure?.reason, 'consentDenied', 'the first reason is kept');
});

t.test('failed + SessionFailed → failed (first reason kept)', async (t) => {
  const second = fact('SessionFailed', SID, { reason: 'timeout', errorMessage: 'Too slow' });
  const { before, after, last } = cell(t, 'failed', second);
  t.strictSame(after, expected(before, last, {}));
  t.equal(after.failure?.reason, 'consentDenied');
});

t.test('failed + SessionCancelled → failed', async (t) => {
  const { before, after, last } = cell(t, 'failed', cancelled);
  t.strictSame(after, expected(before, last, {}));
  t.equal(after.cancelledBy, null);
});

t.test('failed + SessionExpired → failed', async (t) => {
  const { before, after, last } = cell(t, 'failed', expired);
  t.strictSame(after, expected(before, last, {}));
});

// ---- cancelled -------------------------------------------------------------------------------

t.test('cancelled + CredentialsStored → completed, anomaly completedAfterCancel', async (t) => {
  const { before, after, last, at } = cell(t, 'cancelled', credentials);
  t.strictSame(
    after,
    expected(before, last, { status: 'completed', completedAt: at, credentialRef: 'cred-first' }, [
      'completedAfterCancel',
    ]),
  );
  t.equal(after.cancelledBy, 'user-1', 'the cancellation is kept for auditors');
});

t.test('cancelled + VmDestroyed → cancelled (VM time noted)', async (t) => {
  const { before, after, last, at } = cell(t, 'cancelled', vmDestroyed);
  t.strictSame(after, expected(before, last, { vmDestroyedAt: at }));
});

t.test('cancelled + SessionFailed → cancelled', async (t) => {
  const { before, after, last } = cell(t, 'cancelled', failed);
  t.strictSame(after, expected(before, last, {}));
  t.equal(after.failure, null);
});

t.test('cancelled + SessionCancelled → cancelled', async (t) => {
  const again = fact('SessionCancelled', SID, { cancelledBy: 'someone-else' });
  const { before, after, last } = cell(t, 'cancelled', again);
  t.strictSame(after, expected(before, last, {}));
  t.equal(after.cancelledBy, 'user-1', 'the first cancellation is kept');
});

t.test('cancelled + SessionExpired → cancelled', async (t) => {
  const { before, after, last } = cell(t, 'cancelled', expired);
  t.strictSame(after, expected(before, last, {}));
});

// ---- around the table ------------------------------------------------------------------------

t.test('the bug the ledger ends: a clean-up after stored credentials does not fail the session', async (t) => {
  const state = fold(history(start, credentials, vmDestroyed, fact('SessionFailed', SID)));
  t.equal(state.status, 'completed');
  t.equal(state.completedAt, timeOf(1));
  t.equal(errorMessageOf(state), null);

  const late = fold(history(start, vmDestroyed, credentials));
  t.equal(late.status, 'completed', 'a credential stored after the VM was destroyed still wins');
  t.strictSame(
    late.anomalies.map((a) => a.kind),
    ['completedAfterFailure'],
  );
});

t.test('initialState: an empty stream is pending, at revision -1', async (t) => {
  t.equal(initialState.status, 'pending');
  t.equal(initialState.started, false);
  t.equal(initialState.revision, -1n);
  t.equal(initialState.position, null);
  t.strictSame(initialState.anomalies, []);
  t.ok(Object.isFrozen(initialState) && Object.isFrozen(initialState.anomalies), 'shared, so frozen');
  t.equal(fold([]), initialState, 'folding nothing gives the initial state itself');
});

t.test('SessionStarted describes the session and leaves it pending', async (t) => {
  const [event] = history(start) as [RecordedEvent];
  const state = evolve(initialState, event);
  t.strictSame(state, {
    ...initialState,
    started: true,
    sessionId: SID,
    userId: defaultData.SessionStarted.userId,
    provider: defaultData.SessionStarted.provider,
    browserVmId: defaultData.SessionStarted.browserVmId,
    expiresAt: defaultData.SessionStarted.expiresAt,
    createdAt: timeOf(0),
    updatedAt: timeOf(0),
    revision: 0n,
    position: event.position,
    anomalies: [],
  });
});

t.test('SessionStarted never changes the status, even when it comes after an outcome', async (t) => {
  for (const outcome of [credentials, vmDestroyed, failed, cancelled, expired]) {
    const before = fold(history(outcome));
    const after = fold(history(outcome, start));
    t.equal(after.status, before.status, `after ${outcome.type}`);
    t.equal(after.started, true);
    t.equal(after.createdAt, timeOf(1), 'createdAt is the start’s recordedAt');
    t.equal(after.userId, defaultData.SessionStarted.userId);
    t.strictSame(
      after.anomalies.map((a) => a.kind),
      ['eventBeforeStart'],
      'the start itself is no anomaly',
    );
  }
});

t.test('eventBeforeStart: noted, then the event is applied as usual', async (t) => {
  const cases: [LedgerEvent, SessionStatus][] = [
    [credentials, 'completed'],
    [vmDestroyed, 'failed'],
    [failed, 'failed'],
    [cancelled, 'cancelled'],
    [expired, 'failed'],
  ];
  for (const [event, status] of cases) {
    const [recorded] = history(event) as [RecordedEvent];
    const state = evolve(initialState, recorded);
    t.equal(state.status, status, `${event.type} first → ${status}`);
    t.equal(state.started, false);
    t.equal(state.sessionId, SID, 'the session id comes from the first event, whatever it is');
    t.strictSame(state.anomalies, [{ kind: 'eventBeforeStart', position: recorded.position, at: timeOf(0) }]);
  }
  const two = fold(history(vmDestroyed, failed, start, expired));
  t.strictSame(
    two.anomalies.map((a) => [a.kind, a.position]),
    [
      ['eventBeforeStart', 100n],
      ['eventBeforeStart', 110n],
    ],
    'every event before the start is noted, none after it',
  );
});

t.test('duplicateStart: noted and ignored', async (t) => {
  const second = fact('SessionStarted', SID, { userId: 'user-2', provider: 'codex', browserVmId: 'vm-2' });
  const events = history(start, second);
  const first = fold(events.slice(0, 1));
  const last = events[1] as RecordedEvent;
  t.strictSame(fold(events), expected(first, last, {}, ['duplicateStart']));
});

t.test('sessionIdMismatch: noted, the event still applied, the session id kept', async (t) => {
  const foreign = fact('CredentialsStored', 'session-2');
  const state = fold(history(start, foreign));
  t.equal(state.sessionId, SID);
  t.equal(state.status, 'completed');
  t.strictSame(
    state.anomalies.map((a) => a.kind),
    ['sessionIdMismatch'],
  );
});

t.test('several anomalies of one event: sessionIdMismatch, eventBeforeStart, then the transition’s', async (t) => {
  const state = fold(history(vmDestroyed, fact('CredentialsStored', 'session-2')));
  t.strictSame(state.anomalies, [
    { kind: 'eventBeforeStart', position: 100n, at: timeOf(0) },
    { kind: 'sessionIdMismatch', position: 110n, at: timeOf(1) },
    { kind: 'eventBeforeStart', position: 110n, at: timeOf(1) },
    { kind: 'completedAfterFailure', position: 110n, at: timeOf(1) },
  ]);
});

t.test('completedAt is the recordedAt of the first CredentialsStored', async (t) => {
  const second = fact('CredentialsStored', SID, { credentialRef: 'cred-second' });
  const state = fold(history(start, vmDestroyed, credentials, failed, second, expired));
  t.equal(state.status, 'completed');
  t.equal(state.completedAt, timeOf(2));
  t.equal(state.credentialRef, 'cred-first');
  t.equal(state.updatedAt, timeOf(5), 'while updatedAt follows the last event');
  t.equal(state.revision, 5n);
  t.equal(state.position, 150n);
});

t.test('VM time is the first VmDestroyed’s, in any state', async (t) => {
  t.equal(fold(history(start, vmDestroyed, vmDestroyed)).vmDestroyedAt, timeOf(1));
  t.equal(fold(history(start, credentials, vmDestroyed, vmDestroyed)).vmDestroyedAt, timeOf(2));
  t.equal(fold(history(start)).vmDestroyedAt, null);
});

t.test('errorMessageOf: the failure’s message only while failed', async (t) => {
  t.equal(errorMessageOf(initialState), null, 'pending');
  t.equal(errorMessageOf(fold(history(start, failed))), 'The user denied consent', 'failed by the agent');
  t.equal(errorMessageOf(fold(history(start, vmDestroyed))), VM_DESTROYED_FAILURE.errorMessage, 'failed by the VM');
  t.equal(errorMessageOf(fold(history(start, expired))), EXPIRED_FAILURE.errorMessage, 'expired');
  t.equal(errorMessageOf(fold(history(start, cancelled))), null, 'cancelled');
  t.equal(errorMessageOf(fold(history(start, credentials))), null, 'completed');
  const late = fold(history(start, failed, credentials));
  t.equal(errorMessageOf(late), null, 'completed after a failure: a legacy completed row has no error');
  t.not(late.failure, null, 'though the failure is kept');
});

t.test('isTerminal: every status but pending', async (t) => {
  t.equal(isTerminal('pending'), false);
  t.equal(isTerminal('completed'), true);
  t.equal(isTerminal('failed'), true);
  t.equal(isTerminal('cancelled'), true);
});
