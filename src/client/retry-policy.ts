/**
 * When the client tries again, and how long it waits first. Every call of the client is
 * safe to repeat (reads by nature, writes by their `eventId`), so the only question is
 * whether another attempt can help.
 */
import type { ResolvedOptions } from './options.js';

/** A server-side failure may pass; a 4xx is the caller's mistake, and repeating it changes nothing. */
export const isRetryableStatus = (status: number): boolean => status >= 500 && status <= 599;

/** The longest `Retry-After` honoured: a larger one is a misconfiguration, not a plan. */
const MAX_RETRY_AFTER_MS = 60_000;

export interface Backoff {
  /** The first step. */
  initialMs: number;
  /** The cap: no step is longer. */
  maxMs: number;
  /** A number in [0, 1), as `Math.random` gives. */
  random: () => number;
}

/**
 * Capped exponential backoff with jitter: `initial`, `2·initial`, `4·initial`, … up to `max`,
 * each scaled by a random factor in [0.5, 1], so that clients cut off together do not come
 * back together, yet none comes back sooner than half its step.
 */
export function backoffMs({ initialMs, maxMs, random }: Backoff, attempt: number): number {
  // A bounded exponent: however many attempts a watch has made, 2^n stays finite (0 × ∞ is NaN).
  const ceiling = Math.min(initialMs * 2 ** Math.min(Math.max(0, attempt - 1), 32), maxMs);
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** The client's backoff, as its options set it. */
export const backoffOf = ({ retryDelayMs, maxRetryDelayMs, random }: ResolvedOptions): Backoff => ({ initialMs: retryDelayMs, maxMs: maxRetryDelayMs, random });

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isNaN(ms) ? undefined : Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}
