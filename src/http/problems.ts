/**
 * RFC 9457 problem details. Each kind of failure has a stable `type` that clients can
 * switch on; `title` is fixed per type, `detail` says what happened this time.
 */
export const problemTypes = {
  validation: { status: 400, title: 'The request is not valid' },
  unauthenticated: { status: 401, title: 'A valid bearer token is required' },
  forbidden: { status: 403, title: 'The token does not allow this' },
  'not-found': { status: 404, title: 'No such resource' },
  conflict: { status: 409, title: 'The request conflicts with what is recorded' },
  'revision-mismatch': { status: 409, title: 'The stream is not at the expected revision' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Send application/json' },
  'too-many-watches': { status: 429, title: 'Too many open watches for this token' },
  'projection-lagging': { status: 503, title: 'The read model has not caught up yet' },
  unavailable: { status: 503, title: 'The ledger is not ready' },
  internal: { status: 500, title: 'Internal error' },
} as const;

export type ProblemKind = keyof typeof problemTypes;

export const PROBLEM_TYPE_BASE = 'https://session-ledger.dev/problems/';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

/** Thrown by routes; the error handler turns it into `application/problem+json`. */
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

export function problemBody(kind: ProblemKind, detail: string, extensions: Record<string, unknown> = {}): ProblemBody {
  const { status, title } = problemTypes[kind];
  return { type: `${PROBLEM_TYPE_BASE}${kind}`, title, status, detail, ...extensions };
}

/** A request that fails a rule no schema can state (one checked against configuration or the path). */
export function invalidField(path: string, message: string): ProblemError {
  return new ProblemError('validation', `${path}: ${message}`, { issues: [{ path, message }] });
}
