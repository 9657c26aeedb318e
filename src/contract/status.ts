import { z } from 'zod';

/** The legacy status values; no others exist. */
export const SESSION_STATUSES = ['pending', 'completed', 'failed', 'cancelled'] as const;
export const SessionStatus = z.enum(SESSION_STATUSES);
export type SessionStatus = z.infer<typeof SessionStatus>;

/** Every status but `pending`: the session has an outcome and a user can no longer cancel it. */
export type TerminalStatus = Exclude<SessionStatus, 'pending'>;

export function isTerminal(status: SessionStatus): status is TerminalStatus {
  return status !== 'pending';
}

/**
 * Odd things a stream can contain. The fold records them for auditors instead of throwing,
 * so that it stays total: a log is forever, and a replay must never get stuck on it.
 */
export const ANOMALY_KINDS = [
  'completedAfterFailure',
  'completedAfterCancel',
  'duplicateCredentials',
  'failureIgnored',
  'eventBeforeStart',
  'duplicateStart',
  'sessionIdMismatch',
] as const;
export const AnomalyKind = z.enum(ANOMALY_KINDS);
export type AnomalyKind = z.infer<typeof AnomalyKind>;
