/**
 * When the client tries again, and how long it waits first. Every call of the client is
 * safe to repeat (reads by nature, writes by their `eventId`), so the only question is
 * whether another attempt can help.
 */

/** A server-side failure may pass; a 4xx is the caller's mistake, and repeating it changes nothing. */
export const isRetryableStatus = (status: number): boolean => status >= 500 && status <= 599;

/** The longest `Retry-After` honoured: a larger one is a misconfiguration, not a plan. */
const MAX_RETRY_AFTER_MS = 60_000;
/** Backoff never grows past this, however many retries are configured. */
const MAX_BACKOFF_MS = 30_000;

/**
 * Exponential backoff with jitter: `base`, `2·base`, `4·base`, … each scaled by a random
 * factor in [0.5, 1], so that clients cut off together do not come back together.
 */
export function backoffMs(base: number, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(base * 2 ** Math.max(0, attempt - 1), MAX_BACKOFF_MS);
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isNaN(ms) ? undefined : Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}
