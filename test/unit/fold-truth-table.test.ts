/**
 * DESIGN.md's "completed is terminal" truth table, one table here too, and the rules around
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
import type { EventType, LedgerEvent, RecordedEvent } from '../../src/events/index.js';
import { given, type Applied } from '../support/decider-spec.js';
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

// ---- the truth table -------------------------------------------------------------------------

/** One cell: the row's state, the column's event, and what the event does there. */
interface Cell {
  /** The design's words for the cell. */
  readonly cell: string;
  readonly from: SessionStatus;
  readonly event: LedgerEvent;
  /** What changes besides updatedAt, revision and position; nothing if absent. */
  readonly changes?: (applied: Applied) => Partial<SessionState>;
  /** The anomalies the event notes. */
  readonly anomalies?: readonly AnomalyKind[];
  /** What the cell's words say besides the state, checked on its own. */
  readonly also?: (t: Test, cell: { before: SessionState; after: SessionState }) => void;
}

const completes = ({ at }: Applied): Partial<SessionState> => ({
  status: 'completed',
  completedAt: at,
  credentialRef: 'cred-first',
});
const vmTimeNoted = ({ at }: Applied): Partial<SessionState> => ({ vmDestroyedAt: at });

const table: Cell[] = [
  // pending
  { cell: 'pending + CredentialsStored → completed', from: 'pending', event: credentials, changes: completes },
  {
    cell: 'pending + VmDestroyed → failed: "VM destroyed before OAuth completion"',
    from: 'pending',
    event: vmDestroyed,
    changes: ({ at, position }) => ({
      status: 'failed',
      failure: { reason: 'vmDestroyed', errorMessage: 'VM destroyed before OAuth completion', at, position },
      vmDestroyedAt: at,
    }),
    also: (t) => t.equal(VM_DESTROYED_FAILURE.errorMessage, 'VM destroyed before OAuth completion'),
  },
  {
    cell: 'pending + SessionFailed → failed: its reason',
    from: 'pending',
    event: failed,
    changes: ({ at, position }) => ({
      status: 'failed',
      failure: { reason: 'consentDenied', errorMessage: 'The user denied consent', at, position },
    }),
  },
  {
    cell: 'pending + SessionCancelled → cancelled',
    from: 'pending',
    event: cancelled,
    changes: ({ at }) => ({ status: 'cancelled', cancelledBy: 'user-1', cancelledAt: at }),
  },
  {
    cell: 'pending + SessionExpired → failed: expired',
    from: 'pending',
    event: expired,
    changes: ({ at, position }) => ({
      status: 'failed',
      failure: { reason: 'expired', errorMessage: 'Session expired before OAuth completion', at, position },
    }),
    also: (t) => t.equal(EXPIRED_FAILURE.reason, 'expired'),
  },

  // completed
  {
    cell: 'completed + CredentialsStored → completed (duplicate noted)',
    from: 'completed',
    event: fact('CredentialsStored', SID, { credentialRef: 'cred-second' }),
    anomalies: ['duplicateCredentials'],
    also: (t, { before, after }) => {
      t.equal(after.completedAt, before.completedAt, 'completedAt is the first credential’s');
      t.equal(after.credentialRef, 'cred-first');
    },
  },
  {
    cell: 'completed + VmDestroyed → completed (VM time noted)',
    from: 'completed',
    event: vmDestroyed,
    changes: vmTimeNoted,
    also: (t, { after }) => t.equal(after.failure, null, 'the clean-up is no failure'),
  },
  {
    cell: 'completed + SessionFailed → completed (ignored failure noted)',
    from: 'completed',
    event: failed,
    anomalies: ['failureIgnored'],
    also: (t, { after }) => t.equal(errorMessageOf(after), null),
  },
  { cell: 'completed + SessionCancelled → completed', from: 'completed', event: cancelled },
  { cell: 'completed + SessionExpired → completed', from: 'completed', event: expired },

  // failed
  {
    cell: 'failed + CredentialsStored → completed, anomaly completedAfterFailure',
    from: 'failed',
    event: credentials,
    changes: completes,
    anomalies: ['completedAfterFailure'],
    also: (t, { before, after }) => t.strictSame(after.failure, before.failure, 'the failure is kept for auditors'),
  },
  {
    cell: 'failed + VmDestroyed → failed (VM time noted)',
    from: 'failed',
    event: vmDestroyed,
    changes: vmTimeNoted,
    also: (t, { after }) => t.equal(after.failure?.reason, 'consentDenied', 'the first reason is kept'),
  },
  {
    cell: 'failed + SessionFailed → failed (first reason kept)',
    from: 'failed',
    event: fact('SessionFailed', SID, { reason: 'timeout', errorMessage: 'Too slow' }),
    also: (t, { after }) => t.equal(after.failure?.reason, 'consentDenied'),
  },
  {
    cell: 'failed + SessionCancelled → failed',
    from: 'failed',
    event: cancelled,
    also: (t, { after }) => t.equal(after.cancelledBy, null),
  },
  { cell: 'failed + SessionExpired → failed', from: 'failed', event: expired },

  // cancelled
  {
    cell: 'cancelled + CredentialsStored → completed, anomaly completedAfterCancel',
    from: 'cancelled',
    event: credentials,
    changes: completes,
    anomalies: ['completedAfterCancel'],
    also: (t, { after }) => t.equal(after.cancelledBy, 'user-1', 'the cancellation is kept for auditors'),
  },
  {
    cell: 'cancelled + VmDestroyed → cancelled (VM time noted)',
    from: 'cancelled',
    event: vmDestroyed,
    changes: vmTimeNoted,
  },
  {
    cell: 'cancelled + SessionFailed → cancelled',
    from: 'cancelled',
    event: failed,
    also: (t, { after }) => t.equal(after.failure, null),
  },
  {
    cell: 'cancelled + SessionCancelled → cancelled',
    from: 'cancelled',
    event: fact('SessionCancelled', SID, { cancelledBy: 'someone-else' }),
    also: (t, { after }) => t.equal(after.cancelledBy, 'user-1', 'the first cancellation is kept'),
  },
  { cell: 'cancelled + SessionExpired → cancelled', from: 'cancelled', event: expired },
];

for (const { cell, from, event, changes, anomalies, also } of table) {
  t.test(cell, async (t) => {
    const applied = given(...reach[from]).whenApplied(event);
    t.equal(applied.before.status, from, `the stream reaches ${from}`);
    applied.thenChanges(t, changes?.(applied) ?? {}, anomalies);
    also?.(t, applied);
  });
}

t.test('the table has each of the design’s 20 cells once: every state × every event but the start', async (t) => {
  const columns: EventType[] = [
    'CredentialsStored',
    'VmDestroyed',
    'SessionFailed',
    'SessionCancelled',
    'SessionExpired',
  ];
  const rows = Object.keys(reach) as SessionStatus[];
  t.strictSame(
    table.map(({ from, event }) => `${from} + ${event.type}`),
    rows.flatMap((row) => columns.map((column) => `${row} + ${column}`)),
  );
  t.ok(
    table.every(({ cell, from, event }) => cell.startsWith(`${from} + ${event.type} → `)),
    'each cell is named for its row and column',
  );
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
  given(start).whenApplied(second).thenChanges(t, {}, ['duplicateStart']);
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
