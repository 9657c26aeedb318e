import { isTerminal } from '../contract/index.js';
import type { LedgerEvent } from '../events/index.js';
import type { SessionState } from '../../projections/index.js';
import type { SessionCommand } from './commands.js';
import { SessionAlreadyExistsError, SessionAlreadyTerminalError, SessionNotFoundError } from './errors.js';

/**
 * What a command records: no fact, or one. One at most, because the store answers an
 * append's last position only, and that is all the command handler needs to evolve the
 * state it read into the state after the append.
 */
export type Decision = [] | [LedgerEvent];

/**
 * Decides which fact a command appends to a session's stream, given the stream's folded
 * state. Pure: the caller folds, appends at `state.revision`, and decides again on a
 * conflict. Data is validated by the event codec on append, not here.
 *
 * Every refusal of the domain is here, as a thrown DomainError; nothing is appended then.
 */
export function decide(command: SessionCommand, state: SessionState): Decision {
  // Any event means the stream exists, even one that arrived before its start.
  const exists = state.revision >= 0n;
  switch (command.type) {
    case 'StartSession': {
      if (exists) throw new SessionAlreadyExistsError(command.data.sessionId, state.revision);
      return [{ type: 'SessionStarted', data: command.data }];
    }
    case 'RecordFact': {
      const { fact } = command.data;
      // Otherwise the fact would open a stream of its own, for a session nobody started.
      if (!exists) throw new SessionNotFoundError(fact.data.sessionId);
      // A fact has already happened; refusing it would only hide it. Even a late
      // CredentialsStored after a failure must land: the fold lets it win.
      return [fact];
    }
    case 'CompleteLegacySession': {
      const { sessionId, credentialRef } = command.data;
      // The provider is the session's own, so there must be a start to take it from (only a
      // start sets it).
      if (state.provider === null) throw new SessionNotFoundError(sessionId);
      return [{ type: 'CredentialsStored', data: { sessionId, provider: state.provider, credentialRef } }];
    }
    case 'CancelSession': {
      const { sessionId } = command.data;
      if (!exists) throw new SessionNotFoundError(sessionId);
      if (isTerminal(state.status)) throw new SessionAlreadyTerminalError(sessionId, state.status);
      return [{ type: 'SessionCancelled', data: command.data }];
    }
    case 'ExpireSession': {
      if (!exists) throw new SessionNotFoundError(command.data.sessionId);
      // An ended session has nothing to expire; the fold would ignore the expiry anyway, but
      // the log stays free of a fact that did not happen.
      return state.status === 'pending' ? [{ type: 'SessionExpired', data: command.data }] : [];
    }
  }
}
