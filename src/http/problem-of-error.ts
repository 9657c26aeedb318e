import type { FastifyBaseLogger } from 'fastify';
import type { ProblemKind } from '../contract/index.js';
import type { InvalidInputError, ReadModelLaggingError } from '../application/errors.js';
import type { DomainError } from '../decide/index.js';
import type { InvalidEventError } from '../events/index.js';
import type { LedgerError, LedgerErrorCode } from '../ledger-error.js';
import { StorageFaultError, StoreUnavailableError, type EventIdConflictError, type WrongExpectedRevisionError } from '../store/errors.js';
import { internalProblem, ProblemError, validationProblem } from './problem-error.js';

/** How one code of the ledger's errors answers on the wire. */
type Answer = (error: never) => ProblemError;

const plainly =
  (kind: ProblemKind): Answer =>
  (error: LedgerError) =>
    new ProblemError(kind, error.message);

/** The ledger's errors that are none of the caller's doing: a 500, logged, with nothing of the error in the answer. */
const internal: Answer = internalProblem;

/**
 * Every code of the ledger's errors, and the problem it answers. The compiler holds this
 * table to `LedgerErrorCode`: a new code does not build until it is given an answer here.
 */
const answers: { [Code in LedgerErrorCode]: Answer } = {
  'invalid-event': (error: InvalidEventError) => new ProblemError('validation', error.message, { issues: error.issues }),
  // A use case's input is its request's body.
  'invalid-input': (error: InvalidInputError) => validationProblem(error.issues.map((issue) => ({ ...issue, path: `body.${issue.path}` }))),
  'invalid-store-request': plainly('validation'),
  'invalid-cursor': plainly('validation'),
  'session-not-found': plainly('not-found'),
  'vm-not-found': plainly('not-found'),
  'session-already-exists': (error: DomainError) => new ProblemError('conflict', error.message, { code: error.code }),
  'session-already-terminal': (error: DomainError) => new ProblemError('conflict', error.message, { code: error.code }),
  'wrong-expected-revision': (error: WrongExpectedRevisionError) =>
    new ProblemError('revision-mismatch', error.message, {
      expectedRevision: String(error.expected),
      currentRevision: error.current === null ? null : String(error.current),
    }),
  'event-id-conflict': (error: EventIdConflictError) => new ProblemError('conflict', error.message, { eventId: error.eventId, reason: error.reason }),
  // Retrying is safe: an append that did reach the store is found by its event ids.
  'store-unavailable': (error: LedgerError) =>
    new ProblemError('unavailable', `${error.message}; retry with the same eventId`, {}, { 'retry-after': '1' }),
  // Nothing of the write was stored: a retry with the same event ids, once the fault is gone,
  // records it once. A lock held by another process passes soon; a full disk needs an operator.
  'storage-fault': (error: StorageFaultError) =>
    new ProblemError(
      'unavailable',
      `${error.message}; ${error.operation === 'write' ? 'nothing was recorded: retry with the same eventId' : 'retry later'}`,
      { fault: error.kind },
      { 'retry-after': error.kind === 'busy' ? '1' : '5' },
    ),
  'read-model-lagging': (error: ReadModelLaggingError) =>
    new ProblemError(
      'projection-lagging',
      error.message,
      { position: String(error.position), after: String(error.after) },
      { 'retry-after': String(Math.max(1, Math.ceil(error.waitedMs / 1000))) },
    ),
  'store-closed': internal,
  'undecodable-event': internal,
  'schema-too-new': internal,
  'schema-behind': internal,
  'missing-database': internal,
  'invalid-config': internal,
};

/** The answer to one of the ledger's own errors, by its code. */
export function problemOfLedgerError(error: LedgerError): ProblemError {
  return (answers[error.code] as (error: LedgerError) => ProblemError)(error);
}

/**
 * What the operator needs to see of a store that failed a request, in one warning (the answer
 * says less): why it could not be reached, or what the storage did. Never the request's body.
 */
export function logStoreTrouble(error: unknown, log: FastifyBaseLogger): void {
  if (error instanceof StoreUnavailableError) log.warn({ err: error.cause }, 'the event store is not reachable');
  if (error instanceof StorageFaultError) {
    const { kind, operation, path, reason } = error;
    log.warn({ err: error.cause, fault: kind, operation, path, reason }, `the event store cannot ${operation}: ${kind}`);
  }
}
