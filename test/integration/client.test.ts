import { randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import t from 'tap';
import {
  createLedgerClient,
  isLedgerProblem,
  LedgerNetworkError,
  LedgerProblemError,
  LedgerResponseError,
  type LedgerClientOptions,
} from '../../src/client/index.js';
import { startLedger } from '../support/ledger-server.js';
import { requestUrl } from '../support/request-url.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const ledger = await startLedger();
t.teardown(() => ledger.close());

/** A client of the test ledger; short backoff so that retries do not slow the suite. */
const clientOf = (token: string, options: Partial<LedgerClientOptions> = {}) =>
  createLedgerClient({ baseUrl: ledger.url, token, retryDelayMs: 5, ...options });
const controller = clientOf(ledger.controller);

/** A fetch that records what each attempt sent and what it got, and can answer in the server's place. */
function recordingFetch(stand?: (call: number, url: string, init: RequestInit) => Response | undefined | Promise<Response | undefined>) {
  const calls: { url: string; body: unknown; status?: number }[] = [];
  const fetcher: typeof fetch = async (input, init = {}) => {
    const url = requestUrl(input);
    const call = { url, body: typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined, status: undefined as number | undefined };
    calls.push(call);
    const response = (await stand?.(calls.length, url, init)) ?? (await fetch(input, init));
    call.status = response.status;
    return response;
  };
  return { calls, fetch: fetcher };
}

const problemResponse = (status: number, kind: string) =>
  new Response(JSON.stringify({ type: `https://session-ledger.dev/problems/${kind}`, title: kind, status, detail: `a ${status} for the test` }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });

async function startSession(userId = `user-${randomUUID()}`, provider = 'gemini') {
  const browserVmId = `vm-${randomUUID()}`;
  const started = await controller.startSession({ userId, provider, browserVmId });
  return { ...started, userId, browserVmId, agent: controller.withToken(started.agentToken) };
}

const credentials = (provider = 'gemini') => ({ type: 'CredentialsStored' as const, data: { provider, credentialRef: `cred-${randomUUID()}` } });

t.test('every v1 route, typed and validated: start, facts, VM destroyed, reads, events, list', async (t) => {
  const session = await startSession();
  t.match(session, { status: 'pending', revision: '0', alreadyRecorded: false, eventId: /^[0-9a-f-]{36}$/ });
  t.type(session.agentToken, 'string');

  const stored = await session.agent.appendEvent(session.sessionId, credentials());
  t.match(stored, { status: 'completed', revision: '1', alreadyRecorded: false, eventId: /^[0-9a-f-]{36}$/ }, 'the client made the eventId');

  const destroyed = await controller.vmDestroyed(session.browserVmId, { reason: 'clean-up after OAuth' });
  t.match(destroyed, { alreadyRecorded: false, sessions: [{ sessionId: session.sessionId, status: 'completed', revision: '2' }] });
  const again = await controller.vmDestroyed(session.browserVmId, { reason: 'clean-up after OAuth' });
  t.equal(again.alreadyRecorded, true, 'a second report of the same VM is recognised, not recorded twice');

  const frontend = clientOf(ledger.frontend(session.userId));
  const read = await frontend.getSession(session.sessionId, { after: destroyed.position });
  t.match(read, { sessionId: session.sessionId, status: 'completed', revision: '2', position: destroyed.position, errorMessage: null, anomalies: [] });
  t.match(await frontend.getSession(session.sessionId, { asOf: session.position }), { status: 'pending', revision: '0' }, 'as of the start');

  const { events } = await frontend.sessionEvents(session.sessionId);
  t.same(
    events.map((event) => [event.type, event.eventId]),
    [
      ['SessionStarted', session.eventId],
      ['CredentialsStored', stored.eventId],
      ['VmDestroyed', events[2]?.eventId],
    ],
  );

  const second = await startSession(session.userId, 'codex');
  const first = await controller.listSessions({ userId: session.userId, limit: 1 });
  t.same(first.sessions.map((s) => s.sessionId), [second.sessionId], 'newest first');
  t.type(first.nextCursor, 'string');
  const next = await controller.listSessions({ userId: session.userId, limit: 1, cursor: first.nextCursor! });
  t.same(next.sessions.map((s) => s.sessionId), [session.sessionId]);
  t.match(await controller.listSessions({ userId: session.userId, provider: 'codex', status: 'pending' }), { sessions: [{ sessionId: second.sessionId }] });
});

t.test('the user cancels; a second cancel is a typed 409 conflict', async (t) => {
  const session = await startSession();
  const user = clientOf(ledger.frontend(session.userId));
  const cancel = { type: 'SessionCancelled' as const, data: { cancelledBy: session.userId } };
  t.match(await user.appendEvent(session.sessionId, cancel), { status: 'cancelled' });
  const refused = await user.appendEvent(session.sessionId, cancel).catch((error: unknown) => error);
  t.ok(isLedgerProblem(refused, 'conflict'));
  t.match(refused, { status: 409, extensions: { code: 'session-already-terminal' } });
});

t.test('problem answers become typed errors, and a 4xx is never retried', async (t) => {
  const session = await startSession();
  const recorded = recordingFetch();
  const counted = clientOf(ledger.controller, { fetch: recorded.fetch });

  const missing = await counted.getSession('no-such-session').catch((error: unknown) => error);
  t.type(missing, LedgerProblemError);
  t.match(missing, {
    name: 'LedgerProblemError',
    status: 404,
    type: 'https://session-ledger.dev/problems/not-found',
    kind: 'not-found',
    title: 'No such resource',
    detail: 'no session no-such-session',
    instance: '/v1/sessions/no-such-session',
    method: 'GET',
    url: `${ledger.url}/v1/sessions/no-such-session`,
  });
  t.equal(recorded.calls.length, 1, 'a 404 is answered once, not retried');

  const fact = { ...credentials(), eventId: randomUUID(), expectedRevision: '5' };
  const stale = await counted.appendEvent(session.sessionId, fact).catch((error: unknown) => error);
  t.ok(isLedgerProblem(stale, 'revision-mismatch'));
  t.match(stale, { status: 409, eventId: fact.eventId, extensions: { currentRevision: '0', expectedRevision: '5' } });
  t.equal(recorded.calls.length, 2, 'a 409 is not retried');

  await counted.appendEvent(session.sessionId, { ...fact, expectedRevision: '0' });
  const reused = await counted.appendEvent(session.sessionId, { ...fact, expectedRevision: undefined, data: { ...fact.data, credentialRef: 'another' } }).catch((error: unknown) => error);
  t.match(reused, { kind: 'conflict', extensions: { eventId: fact.eventId, reason: 'otherContent' } }, 'the same eventId for other content');

  const other = await startSession();
  const elsewhere = await other.agent.appendEvent(session.sessionId, credentials()).catch((error: unknown) => error);
  t.match(elsewhere, { status: 404, kind: 'not-found' }, 'an agent token cannot write to another session: to it, there is none');

  const unknownProvider = await controller.startSession({ userId: 'u', provider: 'netscape', browserVmId: 'vm' }).catch((error: unknown) => error);
  t.match(unknownProvider, { status: 400, kind: 'validation', extensions: { issues: [{ path: 'body.provider' }] } });

  const badToken = await clientOf('not-a-jwt').getSession(session.sessionId).catch((error: unknown) => error);
  t.match(badToken, { status: 401, kind: 'unauthenticated' });
  t.notOk(isLedgerProblem(new Error('plain')), 'only the client’s problems are problems');
});

t.test('the answer to an append is lost after the server recorded it: the retry carries the same eventId and the fact is recorded once', async (t) => {
  const session = await startSession();
  const proxy = await startTcpProxy(ledger.url);
  t.teardown(() => proxy.close());
  const recorded = recordingFetch();
  const agent = createLedgerClient({ baseUrl: proxy.url, token: session.agentToken, retryDelayMs: 5, fetch: recorded.fetch });

  const dropped = proxy.dropAnswerOnce(/^POST \/v1\/sessions\/[^/]+\/events$/);
  const stored = await agent.appendEvent(session.sessionId, credentials());
  await dropped;

  t.equal(recorded.calls.length, 2, 'two attempts');
  t.equal(recorded.calls[0]?.status, undefined, 'the first got no answer');
  t.equal(recorded.calls[1]?.status, 200, 'the second was answered 200: already recorded');
  const eventIds = recorded.calls.map((call) => (call.body as { eventId: string }).eventId);
  t.equal(eventIds[0], eventIds[1], 'the same eventId on both attempts');
  t.match(stored, { eventId: eventIds[0], alreadyRecorded: true, status: 'completed', revision: '1' });

  const { events } = await controller.sessionEvents(session.sessionId);
  const facts = events.filter((event) => event.type === 'CredentialsStored');
  t.equal(facts.length, 1, 'the stream holds the fact once');
  t.equal(facts[0]?.eventId, stored.eventId);
  t.equal(facts[0]?.position, stored.position, 'the answer names the original position');
  t.equal(proxy.connections.flatMap((c) => c.heads).filter((head) => head.startsWith('POST')).length, 2, 'the server saw both attempts');
});

t.test('the answer to a start is lost: the retry finds the session the first attempt created', async (t) => {
  const proxy = await startTcpProxy(ledger.url);
  t.teardown(() => proxy.close());
  const vmManager = createLedgerClient({ baseUrl: proxy.url, token: ledger.controller, retryDelayMs: 5 });
  const userId = `user-${randomUUID()}`;
  const dropped = proxy.dropAnswerOnce(/^POST \/v1\/sessions$/);
  const started = await vmManager.startSession({ userId, provider: 'claude-code', browserVmId: 'vm-lost-answer' });
  await dropped;
  t.match(started, { alreadyRecorded: true, status: 'pending', revision: '0' });
  const { sessions } = await controller.listSessions({ userId });
  t.same(sessions.map((session) => session.sessionId), [started.sessionId], 'exactly one session');
  const { events } = await controller.sessionEvents(started.sessionId);
  t.same(events.map((event) => [event.type, event.eventId, event.position]), [['SessionStarted', started.eventId, started.position]]);
});

t.test('a 5xx is retried with the same request; an error answer that is not a problem is a LedgerResponseError', async (t) => {
  const session = await startSession();
  const flaky = recordingFetch((call) => (call === 1 ? problemResponse(500, 'internal') : undefined));
  const agent = createLedgerClient({ baseUrl: ledger.url, token: session.agentToken, retryDelayMs: 5, fetch: flaky.fetch });
  const stored = await agent.appendEvent(session.sessionId, credentials());
  t.same(flaky.calls.map((call) => call.status), [500, 201], 'answered by the second attempt');
  t.same(flaky.calls[0]?.body, flaky.calls[1]?.body, 'the same body, eventId included');
  t.equal(stored.alreadyRecorded, false, 'the first attempt never reached the ledger: recorded now, not lost');

  const html = recordingFetch(() => new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }));
  const error = await clientOf(ledger.controller, { fetch: html.fetch, retries: 2 })
    .getSession(session.sessionId)
    .catch((error: unknown) => error);
  t.equal(html.calls.length, 3, 'retried twice');
  t.type(error, LedgerResponseError);
  t.match(error, { status: 502, bodyStart: '<html>bad gateway</html>', message: /not application\/problem\+json/ });

  const exhausted = recordingFetch(() => problemResponse(503, 'unavailable'));
  const unavailable = await clientOf(ledger.controller, { fetch: exhausted.fetch, retries: 1 })
    .getSession(session.sessionId)
    .catch((error: unknown) => error);
  t.equal(exhausted.calls.length, 2);
  t.match(unavailable, { status: 503, kind: 'unavailable' }, 'the last answer, as a typed problem');
});

t.test("a read after a position the projector has not passed: the 503's Retry-After is honoured, then the answer", async (t) => {
  const lagging = await startLedger({ readWaitMs: 50 });
  t.teardown(() => lagging.close());
  const vmManager = createLedgerClient({ baseUrl: lagging.url, token: lagging.controller, retryDelayMs: 5 });
  const started = await vmManager.startSession({ userId: 'user-lag', provider: 'gemini', browserVmId: 'vm-lag' });
  const next = String(BigInt(started.position) + 1n);

  const once = await createLedgerClient({ baseUrl: lagging.url, token: lagging.controller, retries: 0 })
    .getSession(started.sessionId, { after: next })
    .catch((error: unknown) => error);
  t.match(once, { status: 503, kind: 'projection-lagging', retryAfterMs: 1000, extensions: { after: next } });

  // The position is reached between the first answer (503) and the retry.
  const reads = recordingFetch(async (call, url, init) => {
    if (call !== 1) return undefined;
    const response = await fetch(url, init);
    await vmManager.appendEvent(started.sessionId, credentials());
    return response;
  });
  const read = await createLedgerClient({ baseUrl: lagging.url, token: lagging.controller, fetch: reads.fetch }).getSession(started.sessionId, { after: next });
  t.same(reads.calls.map((call) => call.status), [503, 200]);
  t.match(read, { status: 'completed', position: next });
});

t.test('no connection: retried with backoff, then a LedgerNetworkError that names the eventId to retry with', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as { port: number };
  await new Promise((resolve) => closed.close(resolve));

  const refused = recordingFetch();
  const client = createLedgerClient({ baseUrl: `http://127.0.0.1:${port}`, token: 'any', retries: 2, retryDelayMs: 5, fetch: refused.fetch });
  const error = await client.appendEvent('s-1', credentials()).catch((error: unknown) => error);
  t.type(error, LedgerNetworkError);
  t.match(error, { attempts: 3, timedOut: false, message: /failed \(fetch failed: ECONNREFUSED\) after 3 attempts/ });
  t.equal(refused.calls.length, 3);
  const eventIds = new Set(refused.calls.map((call) => (call.body as { eventId: string }).eventId));
  t.same([...eventIds], [(error as LedgerNetworkError).eventId], 'one eventId, on every attempt and in the error');

  const start = await client.startSession({ userId: 'u', provider: 'gemini', browserVmId: 'vm' }).catch((error: unknown) => error);
  t.match(start, { eventId: /^[0-9a-f-]{36}$/ }, 'a start names its eventId too: calling again with it finds the session');
});

t.test('each attempt has its own timeout; the caller’s signal stops the call, attempts and waits alike', async (t) => {
  // A server that accepts connections and never answers.
  const held = new Set<Socket>();
  const silent = createServer((socket) => void held.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of held) socket.destroy();
    silent.close();
  });
  const baseUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;

  const timing = recordingFetch();
  const timedOut = await createLedgerClient({ baseUrl, token: 'any', timeoutMs: 50, retries: 1, retryDelayMs: 5, fetch: timing.fetch })
    .listSessions()
    .catch((error: unknown) => error);
  t.match(timedOut, { name: 'LedgerNetworkError', attempts: 2, timedOut: true, message: /timed out after 2 attempts/ });
  t.equal(timing.calls.length, 2);

  const stop = new AbortController();
  const reason = new Error('the user went away');
  const pending = createLedgerClient({ baseUrl, token: 'any' }).listSessions({}, { signal: stop.signal });
  stop.abort(reason);
  t.equal(await pending.catch((error: unknown) => error), reason, 'rejects with the reason given');

  // Aborted during the backoff between attempts: the wait ends at once.
  const waiting = new AbortController();
  const failing = recordingFetch(() => {
    setImmediate(() => waiting.abort(reason));
    return problemResponse(503, 'unavailable');
  });
  const backingOff = createLedgerClient({ baseUrl, token: 'any', retryDelayMs: 600_000, fetch: failing.fetch });
  t.equal(await backingOff.listSessions({}, { signal: waiting.signal }).catch((error: unknown) => error), reason);
  t.equal(failing.calls.length, 1, 'no attempt after the abort');
  t.equal(await backingOff.listSessions({}, { signal: waiting.signal }).catch((error: unknown) => error), reason, 'an aborted signal stops a call before its first attempt');
});

t.test('an answer that does not match its schema is a LedgerResponseError, not data', async (t) => {
  const wrong = recordingFetch((call) =>
    call === 1
      ? new Response(JSON.stringify({ sessionId: 's', status: 'unknown' }), { status: 200, headers: { 'content-type': 'application/json' } })
      : new Response('not json', { status: 200, headers: { 'content-type': 'application/json' } }),
  );
  const client = clientOf(ledger.controller, { fetch: wrong.fetch });
  t.match(await client.getSession('s').catch((error: unknown) => error), { name: 'LedgerResponseError', status: 200, message: /does not match its schema: .*status/ });
  t.match(await client.getSession('s').catch((error: unknown) => error), { name: 'LedgerResponseError', message: /not JSON/, bodyStart: 'not json' });
  t.equal(wrong.calls.length, 2, 'neither is retried');
});

t.test('options are checked at creation; a base URL keeps its path prefix and loses its trailing slash', async (t) => {
  t.throws(() => createLedgerClient({ baseUrl: 'localhost:3000', token: 'x' }), TypeError);
  t.throws(() => createLedgerClient({ baseUrl: 'ftp://example.test', token: 'x' }), { message: /baseUrl/ });
  t.throws(() => createLedgerClient({ baseUrl: new URL('file:///tmp/ledger'), token: 'x' }), { message: /an http\(s\) URL/ });
  t.throws(() => createLedgerClient({ baseUrl: ledger.url, token: '' }), { message: /a bearer token is required/ });
  t.throws(() => createLedgerClient({ baseUrl: ledger.url, token: 'x', retries: -1 }), { message: /retries/ });
  t.throws(() => createLedgerClient({ baseUrl: ledger.url, token: 'x', timeoutMs: 0 }), { message: /timeoutMs/ });
  t.throws(() => createLedgerClient({ baseUrl: ledger.url, token: 'x', maxRetryDelayMs: -1 }), { message: /maxRetryDelayMs/ });
  t.throws(() => createLedgerClient({ baseUrl: ledger.url, token: 'x', random: 0.5 as unknown as () => number }), { message: /a function like Math.random\n +→ at random/ });

  const seen = recordingFetch(() => new Response('{"sessions":[],"nextCursor":null}', { status: 200, headers: { 'content-type': 'application/json' } }));
  await createLedgerClient({ baseUrl: new URL('http://ledger.test/prefix/'), token: 'x', fetch: seen.fetch }).listSessions({ status: 'failed', limit: 5 });
  t.equal(seen.calls[0]?.url, 'http://ledger.test/prefix/v1/sessions?status=failed&limit=5');
  const segment = recordingFetch(() => problemResponse(404, 'not-found'));
  await clientOf('x', { fetch: segment.fetch }).getSession('a/b?c').catch(() => {});
  t.equal(segment.calls[0]?.url, `${ledger.url}/v1/sessions/a%2Fb%3Fc`, 'ids are encoded as one path segment');
});
