/**
 * DESIGN.md's "completed is terminal" table, reduced to the status, written out again here
 * on purpose: the crash test checks the ledger's fold against it, so it must not be the fold.
 * A stored credential wins in any order; otherwise the first outcome wins; SessionStarted
 * changes nothing.
 */
export type Status = 'pending' | 'completed' | 'failed' | 'cancelled';

/** The status after `type`, from `status`. */
export function statusAfter(status: Status, type: string): Status {
  if (type === 'CredentialsStored') return 'completed';
  if (status !== 'pending') return status;
  if (type === 'SessionCancelled') return 'cancelled';
  if (type === 'VmDestroyed' || type === 'SessionFailed' || type === 'SessionExpired') return 'failed';
  return status;
}

/** The status of a stream holding these events, in this order. */
export const expectedStatus = (types: readonly string[]): Status => types.reduce(statusAfter, 'pending');
