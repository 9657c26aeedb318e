/**
 * `/metrics` as an operator's Prometheus scrapes it: the process and Node.js metrics, request
 * durations by route and status, the ledger's own, and an exposition `promtool` accepts.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startLedger } from '../support/ledger-server.js';

const ledger = await startLedger();
t.teardown(() => ledger.close());
const { call, controller } = ledger;

const started = await call('POST', '/v1/sessions', { token: controller, body: { userId: 'metrics-user', provider: 'gemini', browserVmId: 'vm-metrics' } });
const { sessionId, agentToken } = started.body as { sessionId: string; agentToken: string };
const fact = { type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'gemini', credentialRef: 'cred-metrics' } };
await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: fact });
await call('GET', `/v1/sessions/${sessionId}`, { token: controller });
await call('GET', `/v1/sessions/${sessionId}`);
await call('GET', `/no/such/route/${randomUUID()}`);
const scraped = await call('GET', '/metrics');
const text = scraped.body as string;

t.test('the standard process and Node.js metrics', async (t) => {
  t.match(scraped.type, 'text/plain; version=0.0.4');
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_active_handles', 'nodejs_version_info']) {
    t.match(text, new RegExp(`^${name}(\\{[^}]*\\})? \\S+$`, 'm'), name);
  }
});

t.test('request durations by method, route pattern and status; unknown paths do not grow the labels', async (t) => {
  const count = (route: string, method: string, status: number) =>
    Number(new RegExp(`^http_request_duration_seconds_count\\{method="${method}",route="${route.replace(/[/:]/g, '\\$&')}",status_code="${status}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
  t.equal(count('/v1/sessions', 'POST', 201), 1);
  t.equal(count('/v1/sessions/:id/events', 'POST', 201), 1);
  t.equal(count('/v1/sessions/:id', 'GET', 200), 1);
  t.equal(count('/v1/sessions/:id', 'GET', 401), 1, 'a refusal is counted under its status');
  t.equal(count('unmatched', 'GET', 404), 1);
  t.notMatch(text, sessionId, 'no session id in any label');
  t.match(text, /^http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/v1\/sessions",status_code="201"\} \d+$/m);
});

t.test("the ledger's own metrics beside them", async (t) => {
  t.match(text, /^ledger_appends_total\{type="CredentialsStored",outcome="recorded"\} 1$/m);
  t.match(text, /^ledger_projector_lag_positions \d+$/m);
  t.match(text, /^ledger_watches_open\b/m);
});

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
t.test('promtool check metrics accepts the exposition', { skip: promtool.error ? `promtool is not installed (${promtool.error.message}); .ci/run installs it with apt` : false }, async (t) => {
  const checked = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  t.equal(checked.status, 0, checked.stderr);
  t.equal(`${checked.stdout}${checked.stderr}`.trim(), '', 'no lint findings');
});
