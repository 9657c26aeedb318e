import type { EventData, EventOfType } from '../events/index.js';

// What a caller asks of a session, each as `{ type, data }`. `decide` answers with the facts
// to record, or refuses.

/** The controller opens a session; its data is exactly that of `SessionStarted`. */
export interface StartSession {
  type: 'StartSession';
  data: EventData<'SessionStarted'>;
}

/** The facts a writer reports (the agent, the VM manager). */
export type RecordableFact = EventOfType<'CredentialsStored' | 'VmDestroyed' | 'SessionFailed'>;

/** A writer reports a fact: it happened, so it is recorded whatever the status. */
export interface RecordFact {
  type: 'RecordFact';
  data: { fact: RecordableFact };
}

/**
 * The legacy `complete` call: credentials were stored for the session. The legacy caller
 * does not name the provider; the session's own is recorded.
 */
export interface CompleteLegacySession {
  type: 'CompleteLegacySession';
  data: { sessionId: string; credentialRef: string };
}

/** The user gives up on a login; unlike a fact, this intent can be refused. */
export interface CancelSession {
  type: 'CancelSession';
  data: EventData<'SessionCancelled'>;
}

/** The deadline sweeper found the session past its deadline: it expires only if still pending. */
export interface ExpireSession {
  type: 'ExpireSession';
  data: EventData<'SessionExpired'>;
}

export type SessionCommand = StartSession | RecordFact | CompleteLegacySession | CancelSession | ExpireSession;

/** The session a command is about. */
export function sessionOfCommand(command: SessionCommand): string {
  return command.type === 'RecordFact' ? command.data.fact.data.sessionId : command.data.sessionId;
}
