/**
 * A ledger that shuts down tells each open watch when to come back before it closes the
 * stream: SSE's `retry:` field, which a browser's `EventSource` takes as its reconnection
 * time and the typed client as the start of its backoff. Both kinds of watch: a session's,
 * and the list feed the console follows. A request that comes during the shutdown is
 * answered 503, as a problem.
 */
import { setTimeout } from 'node:timers/promises';
import type { FastifyReply } from 'fastify';
import t from 'tap';
import { StartedJson } from '../../src/contract/index.js';
import { openLiveStream, RESTART_RETRY_MS } from '../../src/http/live-stream.js';
import { createShutdownNotice } from '../../src/http/shutdown-notice.js';
import { startLedger } from '../support/ledger-server.js';
import { openSocket, parseAnswers, readUntilClosed } from '../support/raw-exchange.js';

/** The raw blocks of an SSE stream (the text between blank lines), heartbeats left out. */
const blocksOf = (text: string) =>
  text
    .split('\n\n')
    .filter((block) => block !== '' && !block.startsWith(':'))
    .map((block) => block.split('\n'));

t.test('on shutdown, every open watch gets a retry: hint as its last block, then the stream ends', async (t) => {
  const ledger = await startLedger();
  let closed = false;
  t.teardown(() => (closed ? undefined : ledger.close()));
  const started = StartedJson.parse(
    (await ledger.call('POST', '/v1/sessions', { token: ledger.controller, body: { userId: 'user-1', provider: 'gemini', browserVmId: 'vm-shutdown' } })).body,
  );
  const open = (path: string, token: string) =>
    fetch(`${ledger.url}${path}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: AbortSignal.timeout(20_000) });
  // fetch resolves at the headers, which the ledger writes with a stream's first event: both are open.
  const sessionWatch = await open(`/v1/sessions/${started.sessionId}/watch`, ledger.controller);
  const listWatch = await open('/v1/sessions/watch', ledger.auditor);
  const texts = Promise.all([sessionWatch.text(), listWatch.text()]);

  await ledger.close();
  closed = true;
  const [sessionText, listText] = await texts;
  const session = blocksOf(sessionText);
  const list = blocksOf(listText);

  const withoutData = (blocks: string[][]) => blocks.map((block) => block.filter((line) => !line.startsWith('data:')));
  t.same(
    withoutData(session),
    [[`id: ${started.position}`, 'event: status'], [`retry: ${RESTART_RETRY_MS}`]],
    "the session's status, then the hint; no `end`: the watch is not over, the server is going away",
  );
  t.match(session[0], [/^id/, /^event/, /^data: \{.*"status":"pending"/]);
  t.same(list.at(-1), [`retry: ${RESTART_RETRY_MS}`], "the list feed's last block too");
  t.match(list[0], ['event: live', /^data: /]);
  t.ok(RESTART_RETRY_MS >= 1000, 'a restart takes seconds: the hint does not ask for an immediate reconnection');
});

t.test('a live stream opened as the server shuts down (its shutdown notice given already) ends at once', async (t) => {
  const shutdown = createShutdownNotice();
  shutdown.give();
  const sent: unknown[] = [];
  // The few members of a reply a live stream uses: an SSE stream still connected, its headers not yet written.
  const reply = { raw: { headersSent: false }, sse: { isConnected: true, onClose: () => undefined, send: async (message: unknown) => void sent.push(message) } };
  const stream = openLiveStream(reply as unknown as FastifyReply, shutdown);
  t.ok(stream.ended, 'ended');
  // Bounded: a stream that never ends would hold the test until tap's timeout; this says so sooner.
  const taken = await Promise.race([stream.take(), setTimeout(5000, 'still waiting')]);
  t.same(taken, [], 'a take returns at once, with nothing');
  t.same(sent, [], 'nothing sent on a stream whose headers are not out: its route answers as it decides');
});

t.test('a request that arrives while the ledger shuts down is answered 503, as a problem with Retry-After', async (t) => {
  const ledger = await startLedger();
  let closed = false;
  t.teardown(() => (closed ? undefined : ledger.close()));
  const { sessionId } = StartedJson.parse(
    (await ledger.call('POST', '/v1/sessions', { token: ledger.controller, body: { userId: 'user-1', provider: 'gemini', browserVmId: 'vm-closing' } })).body,
  );
  const host = `Host: ${new URL(ledger.url).host}`;
  // A watch, to see the shutdown begin: its retry: hint comes once requests are refused.
  const watch = await fetch(`${ledger.url}/v1/sessions/${sessionId}/watch`, {
    headers: { authorization: `Bearer ${ledger.controller}`, accept: 'text/event-stream' },
    signal: AbortSignal.timeout(20_000),
  });
  const reader = (watch.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  // A request in flight on a kept-alive connection (its body not all sent), which holds the connection open through the shutdown.
  const body = JSON.stringify({ userId: 'user-1', provider: 'gemini', browserVmId: 'vm-in-flight' });
  const socket = await openSocket(ledger.url);
  const answers = readUntilClosed(socket);
  // Node answers `100 Continue` as it hands the request to fastify: from then on it is in flight.
  const continued = new Promise((resolve) => socket.on('data', (chunk: string) => chunk.startsWith('HTTP/1.1 100') && resolve(chunk)));
  socket.write(`POST /v1/sessions HTTP/1.1\r\n${host}\r\nAuthorization: Bearer ${ledger.controller}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n${body.slice(0, 10)}`);
  await continued;

  const closing = ledger.close();
  closed = true;
  let told = '';
  while (!told.includes('retry:')) {
    const { done, value } = await reader.read();
    if (done) break;
    told += decoder.decode(value, { stream: true });
  }
  t.match(told, `retry: ${RESTART_RETRY_MS}`, 'the shutdown has begun');
  // The rest of the first request, and a second one behind it on the same connection.
  socket.write(`${body.slice(10)}GET /v1/sessions/${sessionId} HTTP/1.1\r\n${host}\r\nAuthorization: Bearer ${ledger.controller}\r\n\r\n`);
  const [first, second] = parseAnswers(await answers).filter(({ status }) => status !== 100);
  await closing;
  t.equal(first?.status, 201, 'the request in flight is answered as it would have been');
  t.equal(second?.status, 503, 'the one that came during the shutdown: 503');
  t.match(second?.headers['content-type'], /^application\/problem\+json/, 'as a problem');
  t.match(JSON.parse(second?.body ?? '{}'), { type: /\/unavailable$/, status: 503, detail: /shutting down/ });
  t.equal(second?.headers['retry-after'], String(RESTART_RETRY_MS / 1000), 'come back when a restart is done');
});
