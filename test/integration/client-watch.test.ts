import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import t from 'tap';
import { createLedgerClient, type LedgerClient, type LedgerClientOptions, type WatchOptions, type WatchReconnect, type WatchUpdate } from '../../src/client/index.js';
import { startLedger } from '../support/ledger-server.js';
import { requestUrl } from '../support/request-url.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const ledger = await startLedger({ watchLimits: { perToken: 2, total: 100 } });
t.teardown(() => ledger.close());

const clientOf = (token: string, options: Partial<LedgerClientOptions> = {}) =>
  createLedgerClient({ baseUrl: ledger.url, token, retryDelayMs: 5, ...options });
const controller = clientOf(ledger.controller);

async function startSession() {
  const userId = `user-${randomUUID()}`;
  const browserVmId = `vm-${randomUUID()}`;
  const started = await controller.startSession({ userId, provider: 'codex', browserVmId });
  return { ...started, userId, browserVmId, agent: controller.withToken(started.agentToken) };
}

const credentials = { type: 'CredentialsStored' as const, data: { provider: 'codex', credentialRef: 'cred-watch' } };

/**
 * Collects a watch's updates; `onUpdate` may act as they arrive. Bounded: a watch still open
 * after `timeoutMs` is stopped through its signal, and the test fails on the rejection.
 */
async function collect(client: LedgerClient, sessionId: string, onUpdate?: (update: WatchUpdate) => unknown, options: Omit<WatchOptions, 'signal'> = {}) {
  const updates: WatchUpdate[] = [];
  for await (const update of client.watch(sessionId, { ...options, signal: AbortSignal.timeout(20_000) })) {
    updates.push(update);
    await onUpdate?.(update);
  }
  return updates;
}

const statuses = (updates: WatchUpdate[]) => updates.map((update) => [update.session.status, update.position]);

/** Waits (bounded) until `condition` holds: for effects the test cannot await directly. */
async function until(condition: () => boolean, what: string) {
  for (let i = 0; i < 1000 && !condition(); i++) await delay(10);
  if (!condition()) throw new Error(`timed out waiting until ${what}`);
}

/** The `id:` lines of the raw SSE bytes a connection received. */
const idsIn = (raw: string) => [...raw.matchAll(/^id: ?(\d+)$/gm)].map((match) => match[1]);

t.test('a watcher sees pending, then completed, and the iterator ends when the server ends the stream', async (t) => {
  const session = await startSession();
  let stored = '';
  const updates = await collect(clientOf(ledger.frontend(session.userId)), session.sessionId, async (update) => {
    if (update.session.status === 'pending') stored = (await session.agent.appendEvent(session.sessionId, credentials)).position;
  });
  t.same(statuses(updates), [
    ['pending', session.position],
    ['completed', stored],
  ]);
  t.match(updates[1]?.session, { sessionId: session.sessionId, status: 'completed', revision: '1', completedAt: String });
});

t.test('a connection cut mid-stream is resumed with Last-Event-ID: the changes made meanwhile arrive, none missed, none repeated', async (t) => {
  const session = await startSession();
  const proxy = await startTcpProxy(ledger.url);
  t.teardown(() => proxy.close());
  const watcher = createLedgerClient({ baseUrl: proxy.url, token: ledger.controller, retryDelayMs: 5 });
  const positions: string[] = [];
  const updates = await collect(watcher, session.sessionId, async (update) => {
    if (update.session.status !== 'pending') return;
    // Cut the watch, and keep it from reconnecting until two changes have been recorded.
    proxy.hold();
    proxy.cutAll();
    const destroyed = await controller.vmDestroyed(session.browserVmId, { reason: 'VM crashed' });
    const late = await session.agent.appendEvent(session.sessionId, credentials);
    positions.push(destroyed.position, late.position);
    proxy.release();
  });
  t.same(statuses(updates), [
    ['pending', session.position],
    ['failed', positions[0]],
    ['completed', positions[1]],
  ]);
  t.match(updates[1]?.session, { errorMessage: 'VM destroyed before OAuth completion' });
  t.match(updates[2]?.session.anomalies, [{ kind: 'completedAfterFailure', position: positions[1] }]);

  const [first, second] = proxy.connections;
  t.notMatch(first?.heads[0], /last-event-id/i, 'the first connection is a fresh watch');
  t.match(second?.heads[0], new RegExp(`^GET /v1/sessions/${session.sessionId}/watch HTTP/1.1\\r\\n[\\s\\S]*last-event-id: ${session.position}\\r\\n`, 'i'));
  t.same(idsIn(second?.received ?? ''), positions, 'on the wire too, the resumed stream holds exactly the two changes');
  t.equal(proxy.connections.length, 2);
});

t.test('resuming a finished watch: from failed it sees the late completion; from a terminal status with nothing after it ends', async (t) => {
  const session = await startSession();
  const destroyed = await controller.vmDestroyed(session.browserVmId, { reason: 'VM crashed' });
  const firstWatch = await collect(controller, session.sessionId);
  t.same(statuses(firstWatch), [['failed', destroyed.position]], 'a fresh watch of a failed session tells failed and ends');

  const late = await session.agent.appendEvent(session.sessionId, credentials);
  const resumed = await collect(controller, session.sessionId, undefined, { lastEventId: firstWatch[0]!.position });
  t.same(statuses(resumed), [['completed', late.position]]);
  t.match(resumed[0]?.session.anomalies, [{ kind: 'completedAfterFailure' }]);

  const recorded: string[] = [];
  const counting = clientOf(ledger.controller, {
    fetch: (input, init) => {
      recorded.push(requestUrl(input));
      return fetch(input, init);
    },
  });
  t.same(await collect(counting, session.sessionId, undefined, { lastEventId: late.position }), [], 'nothing after the completion: no update, and the iterator ends');
  t.match(recorded, [/\/watch$/], 'the server answers 204: one request, no look at the status, no reconnection');
  t.equal(recorded.length, 1);
});

t.test('break ends the watch and closes its connection; an abort rejects with its reason', async (t) => {
  const session = await startSession();
  const proxy = await startTcpProxy(ledger.url);
  t.teardown(() => proxy.close());
  const watcher = createLedgerClient({ baseUrl: proxy.url, token: ledger.controller });

  /** The connections the watches ran on (the HTTP client may open spare ones). */
  const watchesClosed = () => proxy.connections.filter((c) => c.heads.some((head) => head.startsWith('GET'))).every((c) => c.closed);
  for await (const update of watcher.watch(session.sessionId)) {
    t.equal(update.session.status, 'pending');
    break;
  }
  await until(watchesClosed, 'the connection is closed');
  t.pass('the connection closed after break');

  const stop = new AbortController();
  const reason = new Error('the page was closed');
  const seen: string[] = [];
  const stopped = (async () => {
    for await (const update of watcher.watch(session.sessionId, { signal: stop.signal })) {
      seen.push(update.session.status);
      stop.abort(reason);
    }
  })();
  t.equal(await stopped.catch((error: unknown) => error), reason);
  t.same(seen, ['pending']);
  await until(watchesClosed, 'the connection is closed');
  t.equal(proxy.connections.filter((c) => c.heads.length > 0).length, 2, 'two watches, no reconnection');
});

t.test('problems before the stream opens are typed errors, never retried', async (t) => {
  const session = await startSession();
  const calls: string[] = [];
  const counted = (token: string) =>
    clientOf(token, {
      fetch: (input, init) => {
        calls.push(requestUrl(input));
        return fetch(input, init);
      },
    });
  const first = async (client: LedgerClient, id = session.sessionId) => {
    for await (const update of client.watch(id)) return update;
  };
  await t.rejects(first(counted(ledger.controller), 'no-such-session'), { name: 'LedgerProblemError', status: 404, kind: 'not-found' });
  await t.rejects(first(counted(ledger.frontend('someone-else'))), { name: 'LedgerProblemError', status: 404, kind: 'not-found' });
  await t.rejects(first(counted('not-a-jwt')), { name: 'LedgerProblemError', status: 401, kind: 'unauthenticated' });
  t.equal(calls.length, 3, 'one attempt each');

  // The ledger under test lets one token hold two watches.
  const auditor = clientOf(ledger.auditor);
  const holding = [auditor.watch(session.sessionId), auditor.watch(session.sessionId)];
  for (const watch of holding) t.match((await watch.next()).value, { session: { status: 'pending' } });
  await t.rejects(first(auditor), { name: 'LedgerProblemError', status: 429, kind: 'too-many-watches' });
  for (const watch of holding) await watch.return();
});

t.test('a watch is not bound by `retries`: it reconnects to a ledger that stays away until its signal aborts', async (t) => {
  const session = await startSession();
  const proxy: TcpProxy = await startTcpProxy(ledger.url);
  // `retries` bounds the calls; the watch outlives it, with a backoff that grows to its cap.
  const watcher = createLedgerClient({ baseUrl: proxy.url, token: ledger.controller, retries: 2, retryDelayMs: 5, maxRetryDelayMs: 20 });
  const stop = new AbortController();
  const reason = new Error('the page was closed');
  const reconnects: WatchReconnect[] = [];
  const seen: string[] = [];
  const watching = (async () => {
    const onReconnect = (reconnect: WatchReconnect) => {
      reconnects.push(reconnect);
      if (reconnects.length === 10) stop.abort(reason);
    };
    for await (const update of watcher.watch(session.sessionId, { signal: stop.signal, onReconnect })) {
      seen.push(update.session.status);
      // Nobody listens at the proxy's port from now on: every connection is refused.
      await proxy.close();
    }
  })();
  t.equal(await watching.catch((error: unknown) => error), reason, 'the abort ends it, with its reason');
  t.same(seen, ['pending']);
  t.same(
    reconnects.map(({ attempt }) => attempt),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    'ten reconnections in a row that brought nothing, far past retries: 2',
  );
  t.ok(
    reconnects.every(({ delayMs }) => delayMs <= 20),
    'no wait past maxRetryDelayMs',
  );
  t.match(reconnects.at(-1)?.error, { name: 'LedgerNetworkError', attempts: 10, message: /failed \(.*ECONNREFUSED\) after 10 attempts/ }, 'each told why');
});

t.test('an idle connection (not even a heartbeat) is replaced, and the resumed watch goes on', async (t) => {
  const session = await startSession();
  const proxy = await startTcpProxy(ledger.url);
  t.teardown(() => proxy.close());
  const watcher = createLedgerClient({ baseUrl: proxy.url, token: ledger.controller, retryDelayMs: 5 });
  let stored = '';
  const updates = await collect(
    watcher,
    session.sessionId,
    async (update) => {
      if (update.session.status !== 'pending') return;
      await until(() => proxy.connections.length >= 2, 'the watch has reconnected');
      stored = (await session.agent.appendEvent(session.sessionId, credentials)).position;
    },
    { idleTimeoutMs: 100 },
  );
  t.same(statuses(updates), [
    ['pending', session.position],
    ['completed', stored],
  ]);
  t.match(proxy.connections[1]?.heads[0], new RegExp(`last-event-id: ${session.position}`, 'i'));
});

t.test('a stream the server ends before a terminal status (a restart) is reopened with Last-Event-ID', async (t) => {
  const session = await startSession();
  const pending = await controller.getSession(session.sessionId);
  const lastEventIds: (string | undefined)[] = [];
  const restarting = clientOf(ledger.controller, {
    fetch: async (input, init) => {
      lastEventIds.push((init?.headers as Record<string, string>)['last-event-id']);
      if (lastEventIds.length > 1) return fetch(input, init);
      // The first stream tells the current status, then ends cleanly, as a server going away does.
      const body = `id: ${pending.position}\nevent: status\ndata: ${JSON.stringify(pending)}\n\n`;
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    },
  });
  let stored = '';
  const updates = await collect(restarting, session.sessionId, async (update) => {
    if (update.session.status === 'pending') stored = (await session.agent.appendEvent(session.sessionId, credentials)).position;
  });
  t.same(statuses(updates), [
    ['pending', pending.position],
    ['completed', stored],
  ]);
  t.same(lastEventIds, [undefined, pending.position]);
});

t.test("the server's retry: moves where the backoff starts: up, never below the client's own start, never past the cap", async (t) => {
  const session = await startSession();
  const pending = await controller.getSession(session.sessionId);
  // Three streams that tell pending, each with a hint, and end as a server going away does;
  // then the ledger, after the session completed.
  const hints = [30, 0, 1000];
  let connections = 0;
  let stored = '';
  const hinting = clientOf(ledger.controller, {
    retryDelayMs: 10,
    maxRetryDelayMs: 40,
    random: () => 1,
    fetch: async (input, init) => {
      const hint = hints[connections++];
      if (hint === undefined) {
        stored ||= (await session.agent.appendEvent(session.sessionId, credentials)).position;
        return fetch(input, init);
      }
      const body = `id: ${pending.position}\nevent: status\ndata: ${JSON.stringify(pending)}\n\nretry: ${hint}\n\n`;
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    },
  });
  const reconnects: WatchReconnect[] = [];
  const updates = await collect(hinting, session.sessionId, undefined, { onReconnect: (reconnect) => void reconnects.push(reconnect) });
  t.same(
    reconnects.map(({ attempt, delayMs }) => [attempt, delayMs]),
    [
      [1, 30],
      [1, 10],
      [1, 40],
    ],
    'retry: 30 raises 10 to 30; retry: 0 leaves it at 10; retry: 1000 meets the cap of 40',
  );
  t.same(
    statuses(updates),
    [
      ['pending', pending.position],
      ['completed', stored],
    ],
    'pending once, however many streams told it',
  );
});

t.test('an answer that is not an event stream, or a status event that is not a session, is a LedgerResponseError', async (t) => {
  const session = await startSession();
  const json = clientOf(ledger.controller, {
    fetch: async () => new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } }),
  });
  await t.rejects(json.watch(session.sessionId).next(), { name: 'LedgerResponseError', message: /not text\/event-stream/ });
  const garbled = clientOf(ledger.controller, {
    fetch: async () =>
      new Response(': hello\n\nevent: other\ndata: ignored\n\nid: 7\nevent: status\ndata: {"status":"pending"}\n\n', {
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
      }),
  });
  await t.rejects(garbled.watch(session.sessionId).next(), { name: 'LedgerResponseError', message: /without a decimal id or a session/ });
});

t.test('a 503 before the stream (the ledger at its bound of watchers) is retried after its Retry-After', async (t) => {
  const session = await startSession();
  let calls = 0;
  const busyOnce = clientOf(ledger.controller, {
    fetch: async (input, init) => {
      calls++;
      if (calls > 1) return fetch(input, init);
      return new Response(JSON.stringify({ type: 'https://session-ledger.dev/problems/unavailable', title: 'busy', status: 503, detail: 'full' }), {
        status: 503,
        headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
      });
    },
  });
  const waits: number[] = [];
  for await (const update of busyOnce.watch(session.sessionId, { onReconnect: ({ delayMs }) => void waits.push(delayMs) })) {
    t.equal(update.session.status, 'pending');
    break;
  }
  t.equal(calls, 2);
  t.same(waits, [1000], 'a Retry-After longer than the backoff is the wait');

  // A ledger that stays at its bound is asked again, after each Retry-After, until the watch is stopped.
  const reconnects: WatchReconnect[] = [];
  const stop = new AbortController();
  const alwaysBusy = clientOf(ledger.controller, {
    retryDelayMs: 10,
    maxRetryDelayMs: 40,
    random: () => 1,
    fetch: async () =>
      new Response(JSON.stringify({ type: 'https://session-ledger.dev/problems/unavailable', title: 'busy', status: 503, detail: 'full' }), {
        status: 503,
        headers: { 'content-type': 'application/problem+json', 'retry-after': '0' },
      }),
  });
  const onReconnect = (reconnect: WatchReconnect) => {
    reconnects.push(reconnect);
    if (reconnects.length === 5) stop.abort(new Error('enough'));
  };
  await t.rejects(alwaysBusy.watch(session.sessionId, { signal: stop.signal, onReconnect }).next(), { message: 'enough' });
  t.same(reconnects.map(({ delayMs }) => delayMs), [10, 20, 40, 40, 40], 'a Retry-After of 0 does not shorten the backoff: it still doubles, up to its cap');
  t.match(reconnects.at(-1)?.error, { name: 'LedgerProblemError', status: 503, kind: 'unavailable', retryAfterMs: 0 }, 'each told the answer');
  const giveUp = () => {
    throw new Error('given up');
  };
  await t.rejects(alwaysBusy.watch(session.sessionId, { onReconnect: giveUp }).next(), { message: 'given up' }, 'an onReconnect that throws ends the watch');
});
