/**
 * The state the fold computes for one session stream. Names are the contract with the read
 * model, which maps them onto the legacy `auth_sessions` columns.
 */

import type { AnomalyKind, SessionStatus } from '../src/contract/index.js';

// The status values and the anomaly kinds are the wire contract's: the fold produces them,
// the read model stores them, the API answers them.
export { ANOMALY_KINDS, isTerminal, type AnomalyKind, type SessionStatus, type TerminalStatus } from '../src/contract/index.js';

export interface Anomaly {
  readonly kind: AnomalyKind;
  /** Position of the event that showed it. */
  readonly position: bigint;
  /** `recordedAt` of that event. */
  readonly at: string;
}

/** The failure that ended a pending session. */
export interface Failure {
  readonly reason: string;
  readonly errorMessage: string;
  /** `recordedAt` of the event that failed the session. */
  readonly at: string;
  readonly position: bigint;
}

export interface SessionState {
  readonly status: SessionStatus;
  /** A `SessionStarted` has been applied. */
  readonly started: boolean;
  /** From the first event applied. */
  readonly sessionId: string | null;
  /** These four come from the first `SessionStarted`. */
  readonly userId: string | null;
  readonly provider: string | null;
  readonly browserVmId: string | null;
  readonly expiresAt: string | null;
  /** `recordedAt` of the first `SessionStarted`. */
  readonly createdAt: string | null;
  /** `recordedAt` of the last event applied. */
  readonly updatedAt: string | null;
  /** `recordedAt` of the first `CredentialsStored`. */
  readonly completedAt: string | null;
  /** `credentialRef` of the first `CredentialsStored`. */
  readonly credentialRef: string | null;
  /** The first failure that failed the session; kept even if the session later completes. */
  readonly failure: Failure | null;
  /** Set only by the cancellation that cancelled a pending session. */
  readonly cancelledBy: string | null;
  readonly cancelledAt: string | null;
  /** `recordedAt` of the first `VmDestroyed`, whatever the status was then. */
  readonly vmDestroyedAt: string | null;
  /** Revision of the last event applied; -1n before any, like an empty stream. */
  readonly revision: bigint;
  /** Position of the last event applied. */
  readonly position: bigint | null;
  /** In the order the events were applied. */
  readonly anomalies: readonly Anomaly[];
}

/** The state of a stream with no events. Frozen, because it is shared by every fold. */
export const initialState: SessionState = Object.freeze({
  status: 'pending',
  started: false,
  sessionId: null,
  userId: null,
  provider: null,
  browserVmId: null,
  expiresAt: null,
  createdAt: null,
  updatedAt: null,
  completedAt: null,
  credentialRef: null,
  failure: null,
  cancelledBy: null,
  cancelledAt: null,
  vmDestroyedAt: null,
  revision: -1n,
  position: null,
  anomalies: Object.freeze([]),
});

/** The failure recorded when the VM goes away while the session is still pending. */
export const VM_DESTROYED_FAILURE = Object.freeze({
  reason: 'vmDestroyed',
  errorMessage: 'VM destroyed before OAuth completion',
} as const);

/** The failure recorded when the deadline sweeper expires a pending session. */
export const EXPIRED_FAILURE = Object.freeze({
  reason: 'expired',
  errorMessage: 'Session expired before OAuth completion',
} as const);

/**
 * The legacy `error_message` column: the failure's message only while the session is failed.
 * A session that completed after a failure keeps the failure for auditors, but its legacy
 * row, like every completed row before the ledger, carries no error.
 */
export function errorMessageOf(state: SessionState): string | null {
  // Stryker disable next-line OptionalChaining: equivalent, a failed state always has its failure (fail() sets both); the chain is for the type.
  return state.status === 'failed' ? (state.failure?.errorMessage ?? null) : null;
}
