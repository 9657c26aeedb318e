import { loadConfig, type LedgerConfig } from '../config.js';

/** The bounds the HTTP server holds its clients to, so that none of them can take what the others need. */
export interface HttpLimits {
  /** Requests one credential (or, without one, one address) may make per window; `max` 0: no limit. */
  rateLimit: { max: number; windowMs: number };
  /** The whole request, headers and body, must have arrived within this; else 408. */
  requestTimeoutMs: number;
  /** Its headers (and the first request of a new connection) within this; at most `requestTimeoutMs`. */
  headersTimeoutMs: number;
  /** How long an idle kept-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** Load shedding: past either bound (0: not checked), requests answer 503; sampled every `sampleIntervalMs` (1 s). */
  pressure: { maxEventLoopDelayMs: number; maxHeapUsedBytes: number; sampleIntervalMs?: number | undefined };
}

/** The limits the configuration sets. */
export function httpLimitsOf(config: LedgerConfig): HttpLimits {
  return {
    rateLimit: { max: config.LEDGER_RATE_LIMIT_MAX, windowMs: config.LEDGER_RATE_LIMIT_WINDOW_MS },
    requestTimeoutMs: config.LEDGER_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: config.LEDGER_HEADERS_TIMEOUT_MS,
    keepAliveTimeoutMs: config.LEDGER_KEEP_ALIVE_TIMEOUT_MS,
    pressure: { maxEventLoopDelayMs: config.LEDGER_MAX_EVENT_LOOP_DELAY_MS, maxHeapUsedBytes: config.LEDGER_MAX_HEAP_USED_MB * 2 ** 20 },
  };
}

/** What `serve` applies when no variable says otherwise: the configuration's defaults, stated once. */
export const defaultHttpLimits = (): HttpLimits => httpLimitsOf(loadConfig({}));

/**
 * How often Node looks for requests past their timeouts (its `connectionsCheckingInterval`,
 * 30 s by default, which would let a 10 s bound run to 40 s): a quarter of the shorter bound,
 * between 100 ms and 5 s.
 */
export const timeoutCheckIntervalMs = ({ headersTimeoutMs, requestTimeoutMs }: HttpLimits) =>
  Math.min(5000, Math.max(100, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 4)));
