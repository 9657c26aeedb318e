/**
 * The bounds that keep one client, or a flood of them, from taking what the others need, each
 * answered as a problem: the rate limit (per credential, before the token is verified), load
 * shedding under event-loop pressure, the request timeout (a body trickled a byte at a time),
 * idle connections, and the body limit; and a watch, which no request timeout cuts.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { setTimeout } from 'node:timers/promises';
import t from 'tap';
import { StartedJson } from '../../src/contract/index.js';
import { startLedger } from '../support/ledger-server.js';
import { exchange, openSocket, parseAnswers, readUntilClosed } from '../support/raw-exchange.js';
import { readSse } from '../support/sse.js';
import { within } from '../support/waits.js';

t.test('the rate limit: per credential, before it is verified; past it 429 with Retry-After; the probes never', async (t) => {
  const ledger = await startLedger({ over: 'inject', limits: { rateLimit: { max: 3, windowMs: 600_000 } } });
  t.teardown(() => ledger.close());
  const statuses = async (count: number, token?: string, path = '/v1/sessions', headers?: Record<string, string>) => {
    const answers = [];
    for (let i = 0; i < count; i++) answers.push(await ledger.call('GET', path, { token, headers }));
    return answers;
  };
  const controller = await statuses(4, ledger.controller);
  t.same(controller.map(({ status }) => status), [200, 200, 200, 429], 'three requests in the window, then 429');
  const limited = controller[3]!;
  t.match(limited.type, /^application\/problem\+json/);
  t.match(limited.body, { type: /\/rate-limited$/, status: 429, detail: /more than 3 requests/ });
  t.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After: the seconds left in the window');

  t.same((await statuses(1, ledger.auditor)).map(({ status }) => status), [200], "another token has an allowance of its own: nobody spends another's");
  const forged = `${ledger.controller.slice(0, -4)}AAAA`;
  t.same((await statuses(4, forged)).map(({ status }) => status), [401, 401, 401, 429], 'a bad token is limited too: counted before it is verified');
  t.same((await statuses(4)).map(({ status }) => status), [401, 401, 401, 429], 'no credential: limited by address');
  const cookie = { cookie: 'theme=dark; ledger_console=not-a-token' };
  t.same((await statuses(4, undefined, '/v1/sessions', cookie)).map(({ status }) => status), [401, 401, 401, 429], "the console's cookie: an allowance of its own, not the address's");
  t.same((await statuses(3, undefined, '/healthz')).map(({ status }) => status), [200, 200, 200], 'the liveness probe is never limited');
});

t.test('under event-loop pressure requests are shed with 503 and Retry-After; /healthz answers regardless; it passes', async (t) => {
  const ledger = await startLedger({ over: 'inject', limits: { pressure: { maxEventLoopDelayMs: 100, maxHeapUsedBytes: 0, sampleIntervalMs: 20 } } });
  t.teardown(() => ledger.close());
  const read = () => ledger.call('GET', '/v1/sessions', { token: ledger.controller });
  /** The answer once the samples show a free loop (starting the ledger held it too); bounded. */
  const calm = async () => {
    let answer = await read();
    for (let tries = 0; tries < 500 && answer.status === 503; tries++) {
      await setTimeout(20);
      answer = await read();
    }
    return answer;
  };
  t.equal((await calm()).status, 200, 'no pressure: answered');
  // Block the loop, let the next sample see it, ask: a few tries, since a sample covers 20 ms.
  let shed;
  for (let tries = 0; tries < 10 && shed === undefined; tries++) {
    const until = performance.now() + 500;
    while (performance.now() < until);
    await setTimeout(0);
    const [answer, health] = await Promise.all([read(), ledger.call('GET', '/healthz')]);
    if (answer.status === 503) shed = { answer, health };
  }
  t.ok(shed, 'shed after the loop was held');
  t.match(shed?.answer.type, /^application\/problem\+json/);
  t.match(shed?.answer.body, { type: /\/unavailable$/, status: 503, detail: /overloaded \(eventLoopDelay\)/ });
  t.ok(Number(shed?.answer.headers.get('retry-after')) > 0, 'with Retry-After');
  t.equal(shed?.health.status, 200, '/healthz answered under the same pressure');
  t.equal((await calm()).status, 200, 'answered again once the loop is free');
});

t.test('slow clients do not hold up others: idle connections and trickled bodies end in 408, a watch outlives the timeout', async (t) => {
  const requestTimeoutMs = 1500;
  const ledger = await startLedger({ bodyLimit: 4096, limits: { requestTimeoutMs, headersTimeoutMs: 1000 } });
  t.teardown(() => ledger.close());
  const host = `Host: ${new URL(ledger.url).host}`;
  const { sessionId, agentToken } = StartedJson.parse(
    (await ledger.call('POST', '/v1/sessions', { token: ledger.controller, body: { userId: 'user-1', provider: 'gemini', browserVmId: `vm-${randomUUID()}` } })).body,
  );

  // A watch, opened before the slow clients: it is still open, and still told, after they have all timed out.
  const watch = readSse(
    await fetch(`${ledger.url}/v1/sessions/${sessionId}/watch`, { headers: { authorization: `Bearer ${ledger.controller}`, accept: 'text/event-stream' }, signal: AbortSignal.timeout(30_000) }),
  );
  t.match((await within(watch.next(), 'the first status')).value, { event: 'status', data: /"status":"pending"/ });

  // 50 connections that never send a byte, and 10 requests whose bodies come a byte at a time.
  const idle = await Promise.all(Array.from({ length: 50 }, () => openSocket(ledger.url)));
  const idleClosed = idle.map((socket) => readUntilClosed(socket));
  const body = JSON.stringify({ userId: 'user-1', provider: 'gemini', browserVmId: 'vm-trickled' });
  const trickling: Socket[] = await Promise.all(Array.from({ length: 10 }, () => openSocket(ledger.url)));
  const trickled = trickling.map((socket) => readUntilClosed(socket));
  for (const socket of trickling) {
    socket.write(`POST /v1/sessions HTTP/1.1\r\n${host}\r\nAuthorization: Bearer ${ledger.controller}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
  }
  const stopTrickling = new AbortController();
  const trickle = (async () => {
    for (let sent = 0; sent < body.length && !stopTrickling.signal.aborted; sent++) {
      for (const socket of trickling) if (!socket.destroyed) socket.write(body[sent]!);
      await setTimeout(100, undefined, { signal: stopTrickling.signal }).catch(() => undefined);
    }
  })();

  const normal = await within(ledger.call('GET', `/v1/sessions/${sessionId}`, { token: ledger.controller }), 'a normal request is answered', 10_000);
  t.equal(normal.status, 200, 'a normal request is answered meanwhile');

  const answers = await within(Promise.all(trickled), 'every trickled request ends', 20_000);
  stopTrickling.abort();
  await trickle;
  for (const [index, text] of answers.entries()) {
    const [answer, ...more] = parseAnswers(text);
    t.equal(answer?.status, 408, `trickled body ${index}: 408`);
    t.match(answer?.headers['content-type'], /^application\/problem\+json/, `trickled body ${index}: a problem`);
    t.match(JSON.parse(answer?.body ?? '{}'), { type: /\/request-timeout$/, status: 408 }, `trickled body ${index}: request-timeout`);
    t.same(more, [], `trickled body ${index}: nothing else, the connection closed`);
  }
  for (const text of await within(Promise.all(idleClosed), 'every idle connection is closed', 20_000)) {
    t.match(parseAnswers(text).map(({ status }) => status), [408], 'an idle connection: 408, closed');
  }

  // Longer than the request timeout has passed since the watch was asked for: it is still there.
  const stored = await ledger.call('POST', `/v1/sessions/${sessionId}/events`, {
    token: agentToken,
    body: { type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'gemini', credentialRef: 'cred-1' } },
  });
  t.equal(stored.status, 201);
  t.match((await within(watch.next(), 'the watch tells completed')).value, { event: 'status', data: /"status":"completed"/ }, 'the watch, open past the request timeout, is told');
  await watch.return(undefined);
});

t.test("a chunked body past the body limit is a 413 problem; timeouts past Node's defaults are taken", async (t) => {
  // A header timeout past Node's default request timeout (300 s): Node refuses to make such a server unless told both.
  const ledger = await startLedger({ bodyLimit: 4096, limits: { requestTimeoutMs: 500_000, headersTimeoutMs: 400_000 } });
  t.teardown(() => ledger.close());
  const chunk = `{"padding":"${'x'.repeat(8000)}"}`;
  const [answer] = parseAnswers(
    await exchange(
      ledger.url,
      `POST /v1/sessions HTTP/1.1\r\nHost: ${new URL(ledger.url).host}\r\nAuthorization: Bearer ${ledger.controller}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
    ),
  );
  t.equal(answer?.status, 413);
  t.match(answer?.headers['content-type'], /^application\/problem\+json/);
  t.match(JSON.parse(answer?.body ?? '{}'), { type: /\/payload-too-large$/, status: 413 });
});
