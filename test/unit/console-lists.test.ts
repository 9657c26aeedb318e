/**
 * The console's two pure pieces: the completion series its chart draws from the outcome
 * buckets, and how a live change lands in the sessions list.
 */
import t from 'tap';
import { DAY_MS, completionSeries } from '../../console/src/outcome-series.js';
import { withChange } from '../../console/src/live-list.js';
import type { OutcomesJson, SessionJson } from '../../src/contract/index.js';

type Bucket = OutcomesJson['buckets'][number];
const bucket = (hour: string, provider: string | null, status: Bucket['status'], sessions: number): Bucket => ({ hour, provider, status, failureReason: null, sessions });
const seconds = (iso: string) => Date.parse(iso) / 1000;

t.test('completion rate per provider per hour: completed over those with an outcome; pending has none yet', async (t) => {
  const series = completionSeries({
    from: '2026-12-01T10:30:00Z',
    to: '2026-12-01T13:00:00Z',
    buckets: [
      bucket('2026-12-01T10:00:00Z', 'gemini', 'completed', 3),
      bucket('2026-12-01T10:00:00Z', 'gemini', 'failed', 1),
      bucket('2026-12-01T10:00:00Z', 'gemini', 'pending', 5),
      bucket('2026-12-01T12:00:00Z', 'codex', 'cancelled', 2),
      bucket('2026-12-01T12:00:00Z', null, 'completed', 1),
      bucket('2026-12-01T18:00:00Z', 'codex', 'completed', 9),
    ],
  });
  t.same(series.starts, [seconds('2026-12-01T10:00:00Z'), seconds('2026-12-01T11:00:00Z'), seconds('2026-12-01T12:00:00Z')], 'every hour of the range, the first one whole');
  t.same(series.rates, [
    { provider: '(none)', values: [null, null, 1] },
    { provider: 'codex', values: [null, null, 0] },
    { provider: 'gemini', values: [0.75, null, null] },
  ], 'a quiet hour is a gap; a bucket outside the range is left out');
});

t.test('by day: the hours of a day add up', async (t) => {
  const series = completionSeries(
    {
      from: '2026-11-29T12:00:00Z',
      to: '2026-12-01T06:00:00Z',
      buckets: [
        bucket('2026-11-30T01:00:00Z', 'gemini', 'completed', 1),
        bucket('2026-11-30T23:00:00Z', 'gemini', 'failed', 1),
        bucket('2026-12-01T05:00:00Z', 'gemini', 'completed', 2),
      ],
    },
    DAY_MS,
  );
  t.same(series.starts, [seconds('2026-11-29T00:00:00Z'), seconds('2026-11-30T00:00:00Z'), seconds('2026-12-01T00:00:00Z')]);
  t.same(series.rates, [{ provider: 'gemini', values: [null, 0.5, 1] }]);
});

const session = (sessionId: string, createdAt: string, position: string, status: SessionJson['status'] = 'pending'): SessionJson => ({
  sessionId,
  userId: 'user-1',
  provider: 'gemini',
  browserVmId: 'vm-1',
  status,
  completedAt: null,
  errorMessage: null,
  createdAt,
  updatedAt: createdAt,
  revision: '0',
  position,
  anomalies: [],
});

t.test('a live change: in place for a shown row, in its place by creation time for a new one, never older over newer', async (t) => {
  const rows = [session('b', '2026-12-01T11:00:00Z', '5'), session('a', '2026-12-01T10:00:00Z', '3')];
  const always = () => true;
  const completed = session('a', '2026-12-01T10:00:00Z', '7', 'completed');
  t.same(withChange(rows, completed, always).map((row) => [row.sessionId, row.status]), [['b', 'pending'], ['a', 'completed']], 'replaced where it stands');
  t.equal(withChange(rows, session('a', '2026-12-01T10:00:00Z', '2', 'failed'), always), rows, 'an older change is ignored');
  t.same(withChange(rows, completed, () => false).map((row) => row.status), ['pending', 'completed'], 'a shown row stays, even if it no longer matches the filter');
  const fresh = session('c', '2026-12-01T12:00:00Z', '8');
  t.same(withChange(rows, fresh, always).map((row) => row.sessionId), ['c', 'b', 'a'], 'a new session goes first, newest first');
  t.equal(withChange(rows, fresh, () => false), rows, 'a new session the filters do not show is left out');
});
