import { PROBLEM_TYPE_BASE, problemTypes, type ProblemDetails, type ProblemKind } from '../contract/index.js';

/** Thrown by the HTTP layer (authentication, authorization, parsing); the error handler answers it as `application/problem+json`. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly kind: ProblemKind,
    detail: string,
    /** Extension members, e.g. `currentRevision` or `issues`. */
    readonly extensions: Record<string, unknown> = {},
    /** Response headers, e.g. `Retry-After`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export function problemBody(kind: ProblemKind, detail: string, extensions: Record<string, unknown> = {}): ProblemDetails {
  const { status, title } = problemTypes[kind];
  return { type: `${PROBLEM_TYPE_BASE}${kind}`, title, status, detail, ...extensions };
}

/** The answer to anything unexpected: a 500 that says nothing of what went wrong (the log does). */
export const internalProblem = () => new ProblemError('internal', 'the ledger failed to handle this request');

/** A `validation` problem naming each issue, its detail the issues in one line. */
export function validationProblem(issues: readonly { path: string; message: string }[]): ProblemError {
  return new ProblemError('validation', issues.map((issue) => `${issue.path || '(request)'}: ${issue.message}`).join('; '), { issues });
}

/** A request that fails a rule no schema can state (one checked against configuration or the path). */
export function invalidField(path: string, message: string): ProblemError {
  return validationProblem([{ path, message }]);
}
