import type { z } from 'zod';
import type { ValidationIssue } from '../contract/index.js';
import { LedgerError } from '../ledger-error.js';

export type { ValidationIssue };

export function issuesOf(error: z.ZodError, prefix = ''): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
  }));
}

/** An event that fails its schema. Nothing was written. */
export class InvalidEventError extends LedgerError {
  override readonly name: string = 'InvalidEventError';
  readonly code = 'invalid-event';
  constructor(
    readonly issues: readonly ValidationIssue[],
    message = `invalid event: ${issues.map((i) => `${i.path || '(event)'}: ${i.message}`).join('; ')}`,
  ) {
    super(message);
  }
}

/** An event whose type is not one of the ledger's. Nothing was written. */
export class UnknownEventTypeError extends InvalidEventError {
  override readonly name = 'UnknownEventTypeError';
  constructor(readonly type: unknown) {
    super([{ path: 'type', message: `unknown event type ${JSON.stringify(type)}` }]);
  }
}

/**
 * A stored event this code cannot read: written by a newer ledger, or not matching any
 * known schema even after upcasting. Reads stop rather than guess.
 */
export class UndecodableEventError extends LedgerError {
  override readonly name = 'UndecodableEventError';
  readonly code = 'undecodable-event';
  constructor(
    readonly streamName: string,
    readonly revision: bigint,
    reason: string,
  ) {
    super(`cannot decode event ${revision} of ${streamName}: ${reason}`);
  }
}
