import type { TerminalStatus } from '../contract/index.js';
import { LedgerError, type LedgerErrorCode } from '../ledger-error.js';

/** A command refused by the rules of a session. Nothing was appended. */
export abstract class DomainError extends LedgerError {
  abstract override readonly code: Extract<LedgerErrorCode, `session-${string}`>;
  constructor(
    readonly sessionId: string,
    message: string,
  ) {
    super(message);
  }
}

/** Starting a session whose stream already has events (409). */
export class SessionAlreadyExistsError extends DomainError {
  override readonly name = 'SessionAlreadyExistsError';
  readonly code = 'session-already-exists';
  constructor(
    sessionId: string,
    /** The stream's current revision. */
    readonly revision: bigint,
  ) {
    super(sessionId, `session ${sessionId} already exists (revision ${revision})`);
  }
}

/** Cancelling a session that already has an outcome (409). */
export class SessionAlreadyTerminalError extends DomainError {
  override readonly name = 'SessionAlreadyTerminalError';
  readonly code = 'session-already-terminal';
  constructor(
    sessionId: string,
    readonly status: TerminalStatus,
  ) {
    super(sessionId, `session ${sessionId} is already ${status}`);
  }
}

/** Anything but a start, for a session whose stream has no events (404); a read of one, too. */
export class SessionNotFoundError extends DomainError {
  override readonly name = 'SessionNotFoundError';
  readonly code = 'session-not-found';
  constructor(sessionId: string, message = `session ${sessionId} does not exist`) {
    super(sessionId, message);
  }
}
