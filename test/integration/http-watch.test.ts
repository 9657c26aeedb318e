import { randomUUID } from 'node:crypto';
import t from 'tap';
import { SessionJson, StartedJson } from '../../src/contract/index.js';
import { startLedger, type TestLedger } from '../support/ledger-server.js';
import { readSse, type SseEvent } from '../support/sse.js';

const ledger = await startLedger({ watchLimits: { perToken: 3, total: 1500 } });
t.teardown(() => ledger.close());
const { call, controller } = ledger;

async function start(l: TestLedger = ledger, vmId = `vm-${randomUUID()}`) {
  const started = await l.call('POST', '/v1/sessions', { token: l.controller, body: { userId: 'user-1', provider: 'gemini', browserVmId: vmId } });
  return { ...StartedJson.parse(started.body), vmId };
}

function watch(l: TestLedger, sessionId: string, token: string, { lastEventId, signal }: { lastEventId?: string; signal?: AbortSignal } = {}) {
  return fetch(`${l.url}/v1/sessions/${sessionId}/watch`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...(lastEventId && { 'last-event-id': lastEventId }) },
    signal,
  });
}

const credentials = () => ({ type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'gemini', credentialRef: 'cred-1' } });
const statusOf = (event: SseEvent) => (JSON.parse(event.data) as { status: string }).status;
/** The statuses a stream told, without its closing `end`. */
const statuses = (events: SseEvent[]) => events.filter((event) => event.event === 'status').map(statusOf);

/** Collects a stream's events; `onEvent` may act (append) as they arrive. Bounded by `timeoutMs`. */
async function collect(response: Response, onEvent?: (event: SseEvent, all: SseEvent[]) => unknown, timeoutMs = 10_000) {
  const events: SseEvent[] = [];
  const timer = setTimeout(() => void response.body?.cancel(), timeoutMs);
  try {
    for await (const event of readSse(response)) {
      events.push(event);
      await onEvent?.(event, events);
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

t.test('a watcher sees pending, then completed, and the stream ends by itself', async (t) => {
  const { sessionId, agentToken } = await start();
  const response = await watch(ledger, sessionId, ledger.frontend('user-1'));
  t.equal(response.status, 200);
  t.match(response.headers.get('content-type'), 'text/event-stream');
  const events = await collect(response, async (event) => {
    if (statusOf(event) === 'pending') await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: credentials() });
  });
  t.same(
    events.map((e) => [e.event, statusOf(e)]),
    [
      ['status', 'pending'],
      ['status', 'completed'],
      ['end', 'completed'],
    ],
    'the end is said, so a page closes its EventSource rather than reconnect',
  );
  const row = SessionJson.parse(JSON.parse(events[1]!.data));
  t.equal(events[1]!.id, row.position, 'the id is the position of the change');
  t.match(row, { sessionId, status: 'completed', revision: '1' });
});

t.test('a watcher that disconnects and resumes with Last-Event-ID misses nothing and repeats nothing', async (t) => {
  const { sessionId, agentToken, vmId } = await start();
  const first = new AbortController();
  const seen: SseEvent[] = [];
  const response = await watch(ledger, sessionId, controller, { signal: first.signal });
  for await (const event of readSse(response)) {
    seen.push(event);
    first.abort();
    break;
  }
  // While it is away: the VM is destroyed (failed), then late credentials (completed).
  await call('POST', `/v1/vms/${vmId}/destroyed`, { token: controller, body: { reason: 'crash' } });
  await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: credentials() });
  const resumed = await collect(await watch(ledger, sessionId, controller, { lastEventId: seen[0]!.id }));
  t.same(statuses(seen), ['pending']);
  t.same(statuses(resumed), ['failed', 'completed'], 'every change after the last seen, once, in order');
  t.ok(BigInt(resumed[0]!.id!) > BigInt(seen[0]!.id!) && BigInt(resumed[1]!.id!) > BigInt(resumed[0]!.id!));
  t.match(JSON.parse(resumed[1]!.data), { anomalies: [{ kind: 'completedAfterFailure' }] });
  const again = await collect(await watch(ledger, sessionId, controller, { lastEventId: resumed[0]!.id }));
  t.same(statuses(again), ['completed'], 'resuming after the failure shows only the completion');
  const done = await watch(ledger, sessionId, controller, { lastEventId: resumed[1]!.id });
  t.equal(done.status, 204, 'resuming an ended session with nothing new: 204, do not reconnect');
});

t.test('1,000 concurrent watchers on one session all receive the change', async (t) => {
  const { sessionId, agentToken } = await start();
  const WATCHERS = 1000;
  let pendingSeen = 0;
  let allSawPending!: () => void;
  const allPending = new Promise<void>((resolve) => (allSawPending = resolve));
  const watchers = Array.from({ length: WATCHERS }, async (_, i) => {
    // Tokens of many subjects: one token may hold only a few watches.
    const response = await watch(ledger, sessionId, ledger.token({ role: 'controller', sub: `dashboard-${i}` }));
    return collect(
      response,
      (event) => {
        if (statusOf(event) === 'pending' && ++pendingSeen === WATCHERS) allSawPending();
      },
      60_000,
    );
  });
  await allPending;
  const metrics = await call('GET', '/metrics');
  t.match((metrics.body as string).match(/ledger_watches_open \d+/)?.[0], `ledger_watches_open ${WATCHERS}`, 'all are open at once');
  await call('POST', `/v1/sessions/${sessionId}/events`, { token: agentToken, body: credentials() });
  const results = await Promise.all(watchers);
  t.equal(results.filter((events) => statuses(events).join() === 'pending,completed').length, WATCHERS, 'every watcher saw pending then completed, and ended');
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.match((await call('GET', '/metrics')).body, /ledger_watches_open 0/, 'every watch was cleaned up');
});

t.test('watches are bounded per token and in total, and cleaned up on disconnect', async (t) => {
  const { sessionId } = await start();
  const token = ledger.token({ role: 'auditor', sub: 'greedy' });
  const aborts = Array.from({ length: 3 }, () => new AbortController());
  const open = await Promise.all(aborts.map((abort) => watch(ledger, sessionId, token, { signal: abort.signal })));
  t.same(open.map((r) => r.status), [200, 200, 200]);
  const fourth = await watch(ledger, sessionId, token);
  t.equal(fourth.status, 429);
  t.match(await fourth.json(), { type: /\/too-many-watches$/, status: 429 });
  aborts[0]!.abort();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const again = new AbortController();
  const fifth = await watch(ledger, sessionId, token, { signal: again.signal });
  t.equal(fifth.status, 200, 'a disconnected watch gave its place back');
  for (const abort of [...aborts, again]) abort.abort();

  const small = await startLedger({ watchLimits: { perToken: 5, total: 1 } });
  t.teardown(() => small.close());
  const session = await start(small);
  const only = new AbortController();
  t.equal((await watch(small, session.sessionId, small.controller, { signal: only.signal })).status, 200);
  const refused = await watch(small, session.sessionId, small.auditor);
  t.equal(refused.status, 503);
  t.equal(refused.headers.get('retry-after'), '5');
  only.abort();
});

t.test('the same rules as reading a session', async (t) => {
  const { sessionId } = await start();
  const problem = async (response: Response, status: number, kind: string) => {
    t.equal(response.status, status, kind);
    t.match(response.headers.get('content-type'), 'application/problem+json');
    t.match(await response.json(), { type: new RegExp(`/${kind}$`) });
  };
  await problem(await watch(ledger, sessionId, ledger.frontend('user-2')), 404, 'not-found');
  await problem(await watch(ledger, sessionId, ledger.agent('another-session')), 404, 'not-found');
  await problem(await watch(ledger, 'no-such-session', controller), 404, 'not-found');
  await problem(await fetch(`${ledger.url}/v1/sessions/${sessionId}/watch`, { headers: { accept: 'text/event-stream' } }), 401, 'unauthenticated');
  await problem(await watch(ledger, sessionId, controller, { lastEventId: 'yesterday' }), 400, 'validation');
});

t.test('a HEAD of a watch, with a good token, is answered at once: 404, as any method no route takes', async (t) => {
  const { sessionId } = await start();
  for (const path of [`/v1/sessions/${sessionId}/watch`, '/v1/sessions/watch']) {
    // A watch route's HEAD used to hold its connection open and answer nothing.
    const response = await fetch(`${ledger.url}${path}`, { method: 'HEAD', headers: { authorization: `Bearer ${controller}`, accept: 'text/event-stream' }, signal: AbortSignal.timeout(5000) });
    t.equal(response.status, 404, path);
    t.match(response.headers.get('content-type'), 'application/problem+json');
  }
});

t.test('closing the server ends open watches', async (t) => {
  const other = await startLedger();
  const { sessionId } = await start(other);
  const response = await watch(other, sessionId, other.controller);
  const events = collect(response);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await other.close();
  t.same(statuses(await events), ['pending'], 'the stream ended when the server closed');
});
