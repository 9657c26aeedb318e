import { isTerminal, type SessionState } from '../../projections/index.js';
import type { LedgerEvent } from '../events/index.js';
import type { SessionCommand } from './commands.js';
import { SessionAlreadyExistsError, SessionAlreadyTerminalError, SessionNotFoundError } from './errors.js';

/**
 * Decides which events a command appends to a session's stream, given the stream's folded
 * state. Pure: the caller folds, appends with `state.revision` as the expected revision, and
 * retries on a conflict. Data is validated by the event codec on append, not here.
 *
 * Throws a DomainError when the command is refused; nothing is appended then.
 */
export function decide(command: SessionCommand, state: SessionState): LedgerEvent[] {
  switch (command.type) {
    case 'StartSession': {
      // Any event means the stream exists, even one that arrived before its start.
      if (state.revision >= 0n) throw new SessionAlreadyExistsError(command.sessionId, state.revision);
      const { sessionId, userId, provider, browserVmId, expiresAt } = command;
      return [{ type: 'SessionStarted', data: { sessionId, userId, provider, browserVmId, expiresAt } }];
    }
    case 'RecordFact':
      // A fact has already happened; refusing it would only hide it. Even a late
      // CredentialsStored after a failure must land: the fold lets it win.
      return [command.fact];
    case 'CancelSession': {
      const { sessionId, cancelledBy } = command;
      // A user can only cancel a login that exists; otherwise the cancellation would open a
      // stream of its own.
      if (state.revision < 0n) throw new SessionNotFoundError(sessionId);
      if (isTerminal(state.status)) throw new SessionAlreadyTerminalError(sessionId, state.status);
      return [{ type: 'SessionCancelled', data: { sessionId, cancelledBy } }];
    }
  }
}
