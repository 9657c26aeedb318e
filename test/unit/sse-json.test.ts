/**
 * A watch's event data: a row is serialised once, however many watches it goes to, and what
 * is written is exactly the session's JSON as every other route answers it.
 */
import t from 'tap';
import type { SessionRow } from '../../src/projector/session-row.js';
import { toSessionJson } from '../../src/http/session-json.js';
import { sessionEventData, sseSerializer } from '../../src/http/sse-json.js';

const row = (status: SessionRow['status']): SessionRow => ({
  sessionId: 'session-1',
  userId: 'user-1',
  provider: 'gemini',
  browserVmId: 'vm-1',
  status,
  completedAt: status === 'completed' ? '2026-12-05T15:00:00.000Z' : null,
  errorMessage: null,
  createdAt: '2026-12-05T14:59:00.000Z',
  updatedAt: '2026-12-05T15:00:00.000Z',
  revision: 1n,
  position: 9_007_199_254_740_993n,
  anomalies: [{ kind: 'completedAfterFailure', position: 12n, at: '2026-12-05T15:00:00.000Z' }],
});

t.test("a row's data is the session's JSON, bigints as decimal strings", async (t) => {
  const completed = row('completed');
  const written = sseSerializer(sessionEventData(completed));
  t.equal(written, JSON.stringify(toSessionJson(completed)));
  t.match(JSON.parse(written), { position: '9007199254740993', anomalies: [{ position: '12' }] });
});

t.test('the same row object is serialised once; another row object on its own', async (t) => {
  const completed = row('completed');
  t.equal(sessionEventData(completed), sessionEventData(completed), 'the same data for every watch of one change');
  const failed = row('failed');
  t.not(sessionEventData(failed), sessionEventData(completed));
  t.match(sseSerializer(sessionEventData(failed)), /"status":"failed"/);
});

t.test('any other data is JSON as it is', async (t) => {
  t.equal(sseSerializer({ status: 'completed' }), '{"status":"completed"}');
  t.equal(sseSerializer('a string'), '"a string"');
});
