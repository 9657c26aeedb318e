import type { EventData, EventOfType } from '../events/index.js';

/** The controller opens a session; its fields are exactly those of `SessionStarted`. */
export type StartSession = { type: 'StartSession' } & EventData<'SessionStarted'>;

/** The facts a writer reports (the agent, the VM manager, the deadline sweeper). */
export type RecordableFact = EventOfType<'CredentialsStored' | 'VmDestroyed' | 'SessionFailed' | 'SessionExpired'>;

/** A writer reports a fact: it happened, so it is always recorded. */
export interface RecordFact {
  type: 'RecordFact';
  fact: RecordableFact;
}

/** The user gives up on a login; unlike a fact, this intent can be refused. */
export type CancelSession = { type: 'CancelSession' } & EventData<'SessionCancelled'>;

export type SessionCommand = StartSession | RecordFact | CancelSession;
