import type { ValidationIssue } from '../contract/index.js';
import { LedgerError } from '../ledger-error.js';

/**
 * A use case's input that no schema can refuse by itself (it takes the store or the clock to
 * tell). The issue paths are the input's fields; the HTTP layer names them in its request.
 */
export class InvalidInputError extends LedgerError {
  override readonly name = 'InvalidInputError';
  readonly code = 'invalid-input';
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '));
  }
}

/** The VM manager reported a VM that no session ran in (404). */
export class VmNotFoundError extends LedgerError {
  override readonly name = 'VmNotFoundError';
  readonly code = 'vm-not-found';
  constructor(readonly vmId: string) {
    super(`no session ran in VM ${vmId}`);
  }
}

/** A read named a position the read model has not reached within the wait (503, retry). */
export class ReadModelLaggingError extends LedgerError {
  override readonly name = 'ReadModelLaggingError';
  readonly code = 'read-model-lagging';
  constructor(
    /** Where the read model is. */
    readonly position: bigint,
    /** Where the read asked it to be. */
    readonly after: bigint,
    /** How long the read waited. */
    readonly waitedMs: number,
  ) {
    super(`the read model is at position ${position}, not yet ${after}; retry shortly`);
  }
}
