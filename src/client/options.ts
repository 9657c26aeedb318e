import { z } from 'zod';

/** How to reach the ledger, and how hard to try. */
export interface LedgerClientOptions {
  /** The ledger's base URL, e.g. `http://127.0.0.1:3000`; a path prefix is kept. */
  baseUrl: string | URL;
  /** The bearer token (a JWT minted with the ledger's secret, or an `agentToken`). */
  token: string;
  /** Time allowed to one attempt, answer body included; for a watch, until the stream opens. Default 10 s. */
  timeoutMs?: number;
  /**
   * Attempts after the first, on network errors and 5xx, for a call. A watch is not bound by
   * it: it reconnects until its signal aborts. Default 3.
   */
  retries?: number;
  /** First backoff delay, of a call's retries and a watch's reconnections; it doubles at each. Default 200 ms. */
  retryDelayMs?: number;
  /** The backoff's cap: no wait is longer, whatever the attempt or the server's `retry:`. Default 30 s. */
  maxRetryDelayMs?: number;
  /** The backoff's jitter: a number in [0, 1), as `Math.random` (the default) gives; a test may fix it. */
  random?: () => number;
  /** A `fetch` of your own (a proxy agent, instrumentation, a test); default the global one. */
  fetch?: typeof globalThis.fetch;
}

const Options = z.object({
  baseUrl: z
    .union([z.string(), z.instanceof(URL)])
    .transform(String)
    .pipe(z.url({ protocol: /^https?$/, error: 'an http(s) URL' }))
    .transform((url) => url.replace(/\/+$/, '')),
  token: z.string().min(1, 'a bearer token is required'),
  timeoutMs: z.number().int().positive().default(10_000),
  retries: z.number().int().min(0).default(3),
  retryDelayMs: z.number().int().min(0).default(200),
  maxRetryDelayMs: z.number().int().min(0).default(30_000),
  random: z.custom<() => number>((value) => typeof value === 'function', 'a function like Math.random').default(() => Math.random),
  fetch: z.custom<typeof globalThis.fetch>((value) => typeof value === 'function', 'a fetch function').optional(),
});

/** The options with their defaults applied; `baseUrl` without a trailing slash. */
export interface ResolvedOptions {
  baseUrl: string;
  token: string;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  random: () => number;
  fetch: typeof globalThis.fetch;
}

/** Checks the options once, at creation, so a typo fails there and not at the first call. */
export function resolveOptions(options: LedgerClientOptions): ResolvedOptions {
  const parsed = Options.safeParse(options);
  if (!parsed.success) throw new TypeError(`createLedgerClient: ${z.prettifyError(parsed.error)}`);
  // The global is read per client, not at import, so a test or polyfill installed later counts.
  return { ...parsed.data, fetch: parsed.data.fetch ?? globalThis.fetch };
}
