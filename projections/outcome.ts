import type { SessionState, SessionStatus } from './session-state.js';

/** An hour, as whole hours since the Unix epoch. */
export const HOUR_MS = 3_600_000;

/** Where a session is counted among outcomes: the hour it was created, its provider, its status, and why it failed. */
export interface OutcomeBucket {
  hour: number;
  provider: string | null;
  status: SessionStatus;
  /** The reason of the failure that failed it; null unless it is failed now. */
  failureReason: string | null;
}

/** The bucket of a folded session; null for a stream with no events. */
export function outcomeOf(state: SessionState): OutcomeBucket | null {
  const created = state.createdAt ?? state.updatedAt;
  if (created === null) return null;
  return {
    hour: Math.floor(Date.parse(created) / HOUR_MS),
    provider: state.provider,
    status: state.status,
    // Stryker disable next-line OptionalChaining: equivalent, a failed state always has its failure (fail() sets both); the chain is for the type.
    failureReason: state.status === 'failed' ? (state.failure?.reason ?? null) : null,
  };
}

/** The key of a bucket, for counting them. */
export const bucketKey = ({ hour, provider, status, failureReason }: OutcomeBucket) => JSON.stringify([hour, provider, status, failureReason]);
