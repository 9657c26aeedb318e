import { LedgerError } from '../ledger-error.js';
import type { ExpectedRevision } from './port.js';

/** The stream is not where the writer expected it; nothing was written. */
export class WrongExpectedRevisionError extends LedgerError {
  override readonly name = 'WrongExpectedRevisionError';
  readonly code = 'wrong-expected-revision';
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    /** Revision of the stream's last event; `null` when the stream has none. */
    readonly current: bigint | null,
  ) {
    super(`${streamName}: expected revision ${String(expected)}, current ${current === null ? 'no stream' : current}`);
  }
}

export type EventIdConflictReason = 'otherContent' | 'otherStream' | 'partialRetry';

/** An event id the store has already recorded for something else; nothing was written. */
export class EventIdConflictError extends LedgerError {
  override readonly name = 'EventIdConflictError';
  readonly code = 'event-id-conflict';
  constructor(
    readonly eventId: string,
    readonly streamName: string,
    readonly reason: EventIdConflictReason,
  ) {
    const why = {
      otherContent: 'was recorded with another type or data',
      otherStream: 'was recorded in another stream',
      partialRetry: 'was recorded, but other ids of this append were not',
    }[reason];
    super(`event id ${eventId} ${why}; appending to ${streamName} refused`);
  }
}

/** A call the port does not accept (an empty append, a bad stream name, a bad count). */
export class InvalidStoreRequestError extends LedgerError {
  override readonly name = 'InvalidStoreRequestError';
  readonly code = 'invalid-store-request';
}

export class StoreClosedError extends LedgerError {
  override readonly name = 'StoreClosedError';
  readonly code = 'store-closed';
  constructor() {
    super('the event store is closed');
  }
}

/**
 * The store could not be reached, even after trying again: a server down, a cluster without
 * a leader. An append that fails so may or may not have been recorded; retrying it with the
 * same event ids is safe, the port's idempotency finds it if it was.
 */
export class StoreUnavailableError extends LedgerError {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'store-unavailable';
  constructor(options?: { cause?: unknown }) {
    super('the event store is not reachable', options);
  }
}

/** A command that needs a ledger was pointed at a database that is not there; nothing was created. */
export class MissingDatabaseError extends LedgerError {
  override readonly name = 'MissingDatabaseError';
  readonly code = 'missing-database';
  constructor(readonly path: string) {
    super(`no ledger database at ${path} (LEDGER_DB), and this command creates none: check the path, or start a ledger there with \`ledger serve\``);
  }
}
