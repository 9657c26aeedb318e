/** How a message is retried: at most `maxAttempts` POSTs, waiting between them per the schedule. */
export interface RetrySchedule {
  maxAttempts: number;
  /** The first wait's ceiling; each next one doubles it. */
  baseDelayMs: number;
  /** No wait is longer, a `Retry-After` included. */
  maxDelayMs: number;
}

/**
 * 8 attempts over about an hour: ceilings of 30 s, 1, 2, 4, 8, 16 and 32 min (capped at
 * 32 min), each wait a random fraction of its ceiling, so at most about 63 min in all.
 */
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = { maxAttempts: 8, baseDelayMs: 30_000, maxDelayMs: 1_920_000 };

/**
 * The wait after failed attempt `attempt` (1-based): exponential backoff with full jitter
 * (a uniform draw below the ceiling), so receivers coming back are not met by every
 * sender at once. `random` gives [0, 1).
 */
export function backoffDelayMs(schedule: RetrySchedule, attempt: number, random: () => number): number {
  const ceiling = Math.min(schedule.maxDelayMs, schedule.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * A `Retry-After` header's wait in ms: delay-seconds, or an HTTP date (less `now`); null
 * when absent or unreadable. A date in the past is no wait.
 */
export function retryAfterMs(header: string | null, now: Date): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its day of the week; a bare number of another form is not one.
  if (!/[A-Za-z]/.test(value)) return null;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now.getTime());
}

/** The wait before the next attempt: the receiver's `Retry-After` if it gave one, else the backoff; never past the schedule's longest. */
export function nextDelayMs(schedule: RetrySchedule, attempt: number, retryAfter: number | null, random: () => number): number {
  return Math.min(schedule.maxDelayMs, retryAfter ?? backoffDelayMs(schedule, attempt, random));
}
