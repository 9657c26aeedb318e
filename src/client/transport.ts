import type { z } from 'zod';
import { ProblemJson } from '../contract/index.js';
import { LedgerClientError, LedgerNetworkError, LedgerProblemError, LedgerResponseError, type CallSite } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { backoffMs, backoffOf, isRetryableStatus, retryAfterMs } from './retry-policy.js';
import { sleep } from './sleep.js';
import { traceHeaders } from './trace-headers.js';

export interface CallOptions {
  /** Cancels the call, its attempts and the waits between them; the call rejects with its reason. */
  signal?: AbortSignal | undefined;
}

export interface RequestSpec<Schema extends z.ZodType> extends CallOptions {
  method: 'GET' | 'POST';
  /** Path below the base URL, its segments already encoded. */
  path: string;
  query?: Record<string, string | number | undefined> | undefined;
  /** Sent as JSON; the same bytes on every attempt. */
  body?: unknown;
  /** The schema of a 2xx answer's body. */
  answer: Schema;
  /** The write's idempotency key, named in errors so the caller can repeat the call safely. */
  eventId?: string | undefined;
}

export interface Answer<T> {
  status: number;
  body: T;
}

/** How one attempt ended, when it did not end the call. */
interface Retry {
  error: LedgerClientError | { network: unknown; timedOut: boolean };
  /** The server's own wait (`Retry-After`), which replaces the backoff. */
  waitMs?: number | undefined;
}

export type Transport = ReturnType<typeof createTransport>;

/** Absolute URL of a path and its query, below the (prefix-preserving) base URL. */
export function urlOf(baseUrl: string, path: string, query: Record<string, string | number | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return `${baseUrl}${path}${text ? `?${text}` : ''}`;
}

/** A problem+json answer as a typed error; any other error answer as a contract breach. */
export function errorOfAnswer(response: Response, text: string, site: CallSite): LedgerClientError {
  const wait = retryAfterMs(response.headers.get('retry-after'));
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // Falls through to the contract breach below.
    }
    const problem = ProblemJson.safeParse(json);
    if (problem.success) return new LedgerProblemError(problem.data, site, wait);
  }
  return new LedgerResponseError(site, response.status, 'an error answer that is not application/problem+json', text.slice(0, 200));
}

/**
 * Sends requests with a timeout per attempt and retries with backoff on network errors and
 * 5xx. A request is built once: the body (and so its `eventId`) is the same on every attempt,
 * which is what makes a retried write recognised by the ledger instead of doubled.
 */
export function createTransport(options: ResolvedOptions) {
  const { baseUrl, token, timeoutMs, retries, fetch } = options;
  const backoff = backoffOf(options);

  async function attempt<T>(spec: RequestSpec<z.ZodType<T>>, url: string, init: RequestInit, site: CallSite): Promise<Answer<T> | Retry> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { ...init, signal });
      // The body is read under the same signal: a connection cut after the headers is a
      // network error of this attempt, not an answer.
      text = await response.text();
    } catch (error) {
      if (spec.signal?.aborted) throw spec.signal.reason;
      return { error: { network: error, timedOut: timeout.aborted } };
    }
    if (!response.ok) {
      const error = errorOfAnswer(response, text, site);
      if (!isRetryableStatus(response.status)) throw error;
      return { error, waitMs: retryAfterMs(response.headers.get('retry-after')) };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new LedgerResponseError(site, response.status, 'the answer is not JSON', text.slice(0, 200));
    }
    const parsed = spec.answer.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
      throw new LedgerResponseError(site, response.status, `the answer does not match its schema: ${issues}`, text.slice(0, 200));
    }
    return { status: response.status, body: parsed.data };
  }

  /** One call: up to `1 + retries` attempts; the answer validated with `spec.answer`. */
  async function request<T>(spec: RequestSpec<z.ZodType<T>>): Promise<Answer<T>> {
    const url = urlOf(baseUrl, spec.path, spec.query);
    const site: CallSite = { method: spec.method, url, eventId: spec.eventId };
    const headers: Record<string, string> = { ...traceHeaders(), authorization: `Bearer ${token}`, accept: 'application/json' };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    const init: RequestInit = { method: spec.method, headers, body: spec.body === undefined ? undefined : JSON.stringify(spec.body) };
    for (let attempts = 1; ; attempts++) {
      spec.signal?.throwIfAborted();
      const outcome = await attempt(spec, url, init, site);
      if (!('error' in outcome)) return outcome;
      if (attempts > retries) {
        const { error } = outcome;
        throw error instanceof LedgerClientError ? error : new LedgerNetworkError(site, attempts, error.timedOut, error.network);
      }
      await sleep(outcome.waitMs ?? backoffMs(backoff, attempts), spec.signal);
    }
  }

  return { options, request };
}
