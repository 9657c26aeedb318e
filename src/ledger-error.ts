/**
 * Every failure the ledger names itself, by a stable code. The HTTP layer maps each code to
 * its problem type in one table (`src/http/problem-of-error.ts`); the CLI prints the message.
 * The list is here, in one place, so that table is checked complete by the compiler.
 */
export type LedgerErrorCode =
  // A writer's input, refused before anything is written.
  | 'invalid-event'
  | 'invalid-input'
  | 'invalid-store-request'
  | 'invalid-cursor'
  // The rules of a session (the decider's refusals).
  | 'session-not-found'
  | 'session-already-exists'
  | 'session-already-terminal'
  | 'vm-not-found'
  // The store's answers.
  | 'wrong-expected-revision'
  | 'event-id-conflict'
  | 'store-unavailable'
  | 'store-closed'
  | 'storage-fault'
  | 'undecodable-event'
  | 'schema-too-new'
  | 'schema-behind'
  | 'missing-database'
  // The read model, and the ledger's own set-up.
  | 'read-model-lagging'
  | 'invalid-config';

export abstract class LedgerError extends Error {
  abstract readonly code: LedgerErrorCode;
}
