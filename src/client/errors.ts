import { PROBLEM_TYPE_BASE, type ProblemDetails, type ProblemKind } from '../contract/index.js';

/** What every error of the client carries: which call failed. */
export interface CallSite {
  method: string;
  url: string;
  /**
   * The idempotency key the call sent (appends and session starts). When the outcome is
   * unknown (a network error after the last attempt), calling again with this `eventId`
   * can neither double the fact nor lose it.
   */
  eventId?: string | undefined;
}

/** The base of the client's errors, so a caller can tell them from its own with one `instanceof`. */
export abstract class LedgerClientError extends Error {
  readonly method: string;
  readonly url: string;
  readonly eventId: string | undefined;

  constructor(message: string, site: CallSite, options?: ErrorOptions) {
    super(message, options);
    this.method = site.method;
    this.url = site.url;
    this.eventId = site.eventId;
  }
}

/** The body members of RFC 9457 itself; everything else in a problem is an extension. */
const PROBLEM_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'instance']);

/**
 * The ledger answered with `application/problem+json`: it refused the call and, by contract,
 * changed nothing. `kind` is the stable suffix of `type` (`not-found`, `revision-mismatch`,
 * …) to switch on; `extensions` holds the problem's other members (`currentRevision`,
 * `issues`, `code`, …).
 */
export class LedgerProblemError extends LedgerClientError {
  override readonly name = 'LedgerProblemError';
  readonly status: number;
  readonly type: string;
  /** A known kind of this ledger, or the whole `type` when it is not one of the ledger's. */
  readonly kind: ProblemKind | (string & {});
  readonly title: string;
  readonly detail: string;
  readonly instance: string | undefined;
  readonly extensions: Readonly<Record<string, unknown>>;
  /** From `Retry-After`, when the answer had one. */
  readonly retryAfterMs: number | undefined;

  constructor(problem: ProblemDetails, site: CallSite, retryAfterMs?: number) {
    super(`${site.method} ${site.url}: ${problem.status} ${problem.title}: ${problem.detail}`, site);
    this.status = problem.status;
    this.type = problem.type;
    this.kind = problem.type.startsWith(PROBLEM_TYPE_BASE) ? problem.type.slice(PROBLEM_TYPE_BASE.length) : problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.instance = typeof problem.instance === 'string' ? problem.instance : undefined;
    this.extensions = Object.fromEntries(Object.entries(problem).filter(([key]) => !PROBLEM_MEMBERS.has(key)));
    this.retryAfterMs = retryAfterMs;
  }
}

/** True when `error` is the ledger's problem of that kind: `isLedgerProblem(error, 'not-found')`. */
export function isLedgerProblem(error: unknown, kind?: ProblemKind): error is LedgerProblemError {
  return error instanceof LedgerProblemError && (kind === undefined || error.kind === kind);
}

/**
 * No answer came back: the connection failed, was cut, or an attempt timed out, on every
 * attempt. Whether a write was recorded is unknown; `eventId` makes calling again safe.
 */
export class LedgerNetworkError extends LedgerClientError {
  override readonly name = 'LedgerNetworkError';

  constructor(
    site: CallSite,
    /** How many attempts were made. */
    readonly attempts: number,
    /** The last attempt ran out of time (rather than failing on the network). */
    readonly timedOut: boolean,
    cause: unknown,
  ) {
    const why = timedOut ? 'timed out' : `failed (${describe(cause)})`;
    super(`${site.method} ${site.url}: ${why} after ${attempts} attempt${attempts === 1 ? '' : 's'}`, site, { cause });
  }
}

/**
 * An answer that breaks the contract: a 2xx whose body does not match its schema, an error
 * that is not problem+json (say, a proxy's HTML page), or a watch that is not an event stream.
 */
export class LedgerResponseError extends LedgerClientError {
  override readonly name = 'LedgerResponseError';

  constructor(
    site: CallSite,
    readonly status: number,
    reason: string,
    /** The first bytes of the body, for the log. */
    readonly bodyStart: string,
  ) {
    super(`${site.method} ${site.url}: ${status}: ${reason}`, site);
  }
}

/** One line for a low-level failure: undici hides the useful part in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (!(error.cause instanceof Error)) return error.message;
  // Node's errno code (ECONNREFUSED, …) when there is one; typed by hand, as a browser has no NodeJS types.
  const { code } = error.cause as Error & { code?: unknown };
  return `${error.message}: ${typeof code === 'string' ? code : error.cause.message}`;
}
