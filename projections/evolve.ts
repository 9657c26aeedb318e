import type { EventOfType, RecordedEvent } from '../src/events/index.js';
import {
  EXPIRED_FAILURE,
  VM_DESTROYED_FAILURE,
  type Anomaly,
  type AnomalyKind,
  type SessionState,
} from './session-state.js';

/** What one event does to the state, and the anomaly it shows, if any. */
interface Step {
  readonly state: SessionState;
  readonly anomaly?: AnomalyKind;
}

type Event<T extends RecordedEvent['type']> = RecordedEvent<EventOfType<T>>;

/**
 * Applies one event. Pure and total: every event, in any state, in any order, gives a state;
 * odd ones are noted as anomalies, never thrown, so a replay never gets stuck on the log.
 *
 * Anomalies of one event are noted in this order: `sessionIdMismatch`, `eventBeforeStart`,
 * then the one its transition shows.
 */
export function evolve(state: SessionState, event: RecordedEvent): SessionState {
  const kinds: AnomalyKind[] = [];
  if (state.sessionId !== null && event.data.sessionId !== state.sessionId) kinds.push('sessionIdMismatch');
  // Noted, then applied as usual: the fact happened even if its start was never recorded.
  if (!state.started && event.type !== 'SessionStarted') kinds.push('eventBeforeStart');

  const step = transition(state, event);
  if (step.anomaly !== undefined) kinds.push(step.anomaly);

  const at = event.metadata.recordedAt;
  const noted: readonly Anomaly[] = kinds.map((kind) => ({ kind, position: event.position, at }));
  return {
    ...step.state,
    sessionId: state.sessionId ?? event.data.sessionId,
    updatedAt: at,
    revision: event.revision,
    position: event.position,
    // Stryker disable next-line ConditionalExpression: equivalent, always copying gives equal anomalies; sharing the list only saves a copy per event.
    anomalies: noted.length === 0 ? state.anomalies : [...state.anomalies, ...noted],
  };
}

/** DESIGN.md's truth table, one event type per branch. */
function transition(state: SessionState, event: RecordedEvent): Step {
  switch (event.type) {
    case 'SessionStarted':
      return started(state, event);
    case 'CredentialsStored':
      return credentialsStored(state, event);
    case 'VmDestroyed':
      return vmDestroyed(state, event);
    case 'SessionFailed':
      return sessionFailed(state, event);
    case 'SessionCancelled':
      return sessionCancelled(state, event);
    case 'SessionExpired':
      return sessionExpired(state, event);
    default:
      return unreachable(event);
  }
}

/** Describes the session; never changes its status, since facts may arrive before it. */
function started(state: SessionState, event: Event<'SessionStarted'>): Step {
  if (state.started) return { state, anomaly: 'duplicateStart' };
  const { userId, provider, browserVmId, expiresAt } = event.data;
  return {
    state: { ...state, started: true, userId, provider, browserVmId, expiresAt, createdAt: event.metadata.recordedAt },
  };
}

/** A stored credential outranks every other outcome, in either order: the credential exists. */
function credentialsStored(state: SessionState, event: Event<'CredentialsStored'>): Step {
  // `completed` is absorbing; the first credential's time and reference stay.
  if (state.status === 'completed') return { state, anomaly: 'duplicateCredentials' };
  const completed: SessionState = {
    ...state,
    status: 'completed',
    completedAt: event.metadata.recordedAt,
    credentialRef: event.data.credentialRef,
  };
  // An earlier failure or cancellation is kept in the state for auditors.
  if (state.status === 'failed') return { state: completed, anomaly: 'completedAfterFailure' };
  if (state.status === 'cancelled') return { state: completed, anomaly: 'completedAfterCancel' };
  return { state: completed };
}

/**
 * The VM's clean-up: fails a pending session only. After an outcome it is the ordinary end
 * of a VM's life (the very case that used to turn a success into "failed"), so only its time
 * is noted.
 */
function vmDestroyed(state: SessionState, event: Event<'VmDestroyed'>): Step {
  const noted = state.vmDestroyedAt === null ? { ...state, vmDestroyedAt: event.metadata.recordedAt } : state;
  return { state: state.status === 'pending' ? fail(noted, VM_DESTROYED_FAILURE, event) : noted };
}

/** Fails a pending session; once there is an outcome, the first one stands. */
function sessionFailed(state: SessionState, event: Event<'SessionFailed'>): Step {
  if (state.status === 'pending') return { state: fail(state, event.data, event) };
  // Only a failure reported after success is worth an auditor's look; after a failure or a
  // cancellation it is the expected echo of the same end.
  return state.status === 'completed' ? { state, anomaly: 'failureIgnored' } : { state };
}

function sessionCancelled(state: SessionState, event: Event<'SessionCancelled'>): Step {
  if (state.status !== 'pending') return { state };
  const { cancelledBy } = event.data;
  return { state: { ...state, status: 'cancelled', cancelledBy, cancelledAt: event.metadata.recordedAt } };
}

function sessionExpired(state: SessionState, event: Event<'SessionExpired'>): Step {
  return { state: state.status === 'pending' ? fail(state, EXPIRED_FAILURE, event) : state };
}

function fail(
  state: SessionState,
  { reason, errorMessage }: { reason: string; errorMessage: string },
  event: RecordedEvent,
): SessionState {
  return {
    ...state,
    status: 'failed',
    failure: { reason, errorMessage, at: event.metadata.recordedAt, position: event.position },
  };
}

/**
 * The codec refuses unknown event types before they reach the fold, so this is a type error
 * at compile time and a programming error at run time, not a fact in a stream.
 */
function unreachable(event: never): never {
  throw new TypeError(`evolve: unknown event type ${JSON.stringify((event as { type?: unknown }).type)}`);
}
