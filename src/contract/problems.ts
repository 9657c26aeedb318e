import { z } from 'zod';

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
  'not-acceptable': { status: 406, title: 'The request accepts no type this route answers' },
  'request-timeout': { status: 408, title: 'The request did not arrive in time' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Send application/json' },
  'too-many-watches': { status: 429, title: 'Too many open watches for this token' },
  'rate-limited': { status: 429, title: 'Too many requests; retry after Retry-After' },
  'headers-too-large': { status: 431, title: 'The request headers are too large' },
  'projection-lagging': { status: 503, title: 'The read model has not caught up yet' },
  unavailable: { status: 503, title: 'The ledger is not ready' },
  internal: { status: 500, title: 'Internal error' },
} as const;

export type ProblemKind = keyof typeof problemTypes;

/** Every problem's `type` is this, followed by its kind. */
export const PROBLEM_TYPE_BASE = 'https://session-ledger.dev/problems/';

/** A problem as it travels: RFC 9457's members, and the kind's extension members beside them. */
export const ProblemJson = z
  .object({ type: z.string(), title: z.string(), status: z.number(), detail: z.string(), instance: z.string().optional() })
  .catchall(z.unknown());
export type ProblemDetails = z.infer<typeof ProblemJson>;

/** One issue of a `validation` problem: where in the request, and what is wrong there. */
export interface ValidationIssue {
  path: string;
  message: string;
}
