import t from 'tap';
import { backoffMs, isRetryableStatus, retryAfterMs } from '../../src/client/retry-policy.js';

t.test('only server-side failures are retried', async (t) => {
  for (const status of [500, 502, 503, 504]) t.ok(isRetryableStatus(status), String(status));
  for (const status of [400, 401, 403, 404, 409, 413, 415, 429]) t.notOk(isRetryableStatus(status), String(status));
});

t.test('backoff doubles per attempt, with jitter between half and all of it, up to its cap', async (t) => {
  const top = { initialMs: 200, maxMs: 30_000, random: () => 1 };
  t.same([1, 2, 3, 4].map((attempt) => backoffMs(top, attempt)), [200, 400, 800, 1600], 'the top of each range');
  t.same([1, 2, 3, 4].map((attempt) => backoffMs({ ...top, random: () => 0 }, attempt)), [100, 200, 400, 800], 'the bottom of each range');
  t.same([1, 2, 3, 4].map((attempt) => backoffMs({ ...top, random: () => 0.5 }, attempt)), [150, 300, 600, 1200], 'between them');
  t.equal(backoffMs(top, 40), 30_000, 'never past the cap');
  t.equal(backoffMs({ ...top, maxMs: 1000 }, 4), 1000, 'a cap of its own');
  t.equal(backoffMs({ ...top, initialMs: 5000, maxMs: 1000 }, 1), 1000, 'the cap holds from the first step');
  t.equal(backoffMs({ ...top, initialMs: 0 }, 3), 0, 'no delay when none is configured');
  t.equal(backoffMs({ ...top, initialMs: 0 }, 5000), 0, "still none at a long watch's 5000th attempt (no 0 × ∞)");
  t.equal(backoffMs(top, 5000), 30_000, 'and the cap then, not Infinity');
});

t.test('Retry-After: seconds or an HTTP date, bounded; unreadable or absent is undefined', async (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  t.equal(retryAfterMs('1', now), 1000);
  t.equal(retryAfterMs(' 0 ', now), 0);
  t.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  t.equal(retryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now), 0, 'a date in the past: no wait');
  t.equal(retryAfterMs('86400', now), 60_000, 'at most a minute');
  t.equal(retryAfterMs('soon', now), undefined);
  t.equal(retryAfterMs(null, now), undefined);
});
