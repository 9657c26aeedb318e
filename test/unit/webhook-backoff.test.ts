import t from 'tap';
import { backoffDelayMs, DEFAULT_RETRY_SCHEDULE, nextDelayMs, retryAfterMs } from '../../src/reactions/backoff.js';

const schedule = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 1000 };

t.test('exponential backoff with full jitter: a uniform draw below a doubling ceiling, capped', async (t) => {
  const top = () => 0.999_999;
  t.same([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(schedule, attempt, top)), [99, 199, 399, 799, 999], 'just under each ceiling');
  t.same([1, 2, 3].map((attempt) => backoffDelayMs(schedule, attempt, () => 0)), [0, 0, 0], 'full jitter reaches 0');
  t.equal(backoffDelayMs(schedule, 3, () => 0.5), 200, 'half of 400');
  t.equal(backoffDelayMs(schedule, 60, top), 999, 'a late attempt stays under the cap');
});

t.test('the default: 8 attempts whose waits add up to about an hour at most', async (t) => {
  const { maxAttempts } = DEFAULT_RETRY_SCHEDULE;
  t.equal(maxAttempts, 8);
  let longest = 0;
  for (let attempt = 1; attempt < maxAttempts; attempt++) longest += backoffDelayMs(DEFAULT_RETRY_SCHEDULE, attempt, () => 0.999_999_9);
  t.ok(longest > 55 * 60_000 && longest < 70 * 60_000, `${longest} ms`);
});

t.test('Retry-After: delay-seconds or an HTTP date; unreadable or absent is null', async (t) => {
  const now = new Date('2026-01-01T00:00:00Z');
  t.equal(retryAfterMs('3', now), 3000);
  t.equal(retryAfterMs(' 0 ', now), 0);
  t.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  t.equal(retryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now), 0, 'a date past: no wait');
  t.equal(retryAfterMs('soon', now), null);
  t.equal(retryAfterMs('-1', now), null);
  t.equal(retryAfterMs('1.5', now), null, 'not delay-seconds, and no date');
  t.equal(retryAfterMs(null, now), null);
});

t.test("the next wait: the receiver's Retry-After over the backoff, never past the longest", async (t) => {
  t.equal(nextDelayMs(schedule, 1, 500, () => 0), 500, 'Retry-After honoured');
  t.equal(nextDelayMs(schedule, 1, 0, () => 0.9), 0, 'Retry-After: 0 is no wait');
  t.equal(nextDelayMs(schedule, 1, 3_600_000, () => 0), 1000, 'capped');
  t.equal(nextDelayMs(schedule, 2, null, () => 0.5), 100, 'else the backoff');
});
