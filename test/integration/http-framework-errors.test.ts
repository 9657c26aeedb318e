/**
 * Every error answer the ledger sends is `application/problem+json` with the right status,
 * routed or not: paths the router cannot decode, path segments past its bound, requests Node's
 * parser refuses, a traversal under the static files. Sent as raw bytes on a socket, since no
 * HTTP client sends such requests, and read as the server wrote them.
 */
import t, { type Test } from 'tap';
import { PROBLEM_TYPE_BASE } from '../../src/contract/index.js';
import { startLedger } from '../support/ledger-server.js';
import { exchange, openSocket, parseAnswers, readUntilClosed } from '../support/raw-exchange.js';

const ledger = await startLedger();
t.teardown(() => ledger.close());
const host = `Host: ${new URL(ledger.url).host}`;
const bearer = `Authorization: Bearer ${ledger.controller}`;

/** Sends one request as bytes, and checks its one answer is the problem of `kind` with `status`. */
async function expectProblem(t: Test, request: string, status: number, kind: string, why: string) {
  const answers = parseAnswers(await exchange(ledger.url, request));
  t.equal(answers.length, 1, `${why}: one answer`);
  const [answer] = answers;
  t.equal(answer?.status, status, `${why}: ${status}`);
  t.match(answer?.headers['content-type'], /^application\/problem\+json/, `${why}: a problem`);
  t.match(JSON.parse(answer?.body ?? '{}'), { type: `${PROBLEM_TYPE_BASE}${kind}`, status, title: String, detail: String }, `${why}: ${kind}`);
}

const get = (path: string, headers: string[] = [bearer]) => `GET ${path} HTTP/1.1\r\n${[host, ...headers, 'Connection: close'].join('\r\n')}\r\n\r\n`;

t.test('a path whose percent-encoding does not decode is a 400 validation problem', async (t) => {
  for (const path of ['/v1/sessions/%C0%AF', '/v1/sessions/%zz', '/v1/sessions/%ff%fe', '/v1/sessions/%C0%AF/events', '/api/auth/session/%zz']) {
    await expectProblem(t, get(path), 400, 'validation', path);
  }
});

t.test('a path segment longer than any id answers as an invalid id does, and every valid id length reaches its route', async (t) => {
  await expectProblem(t, get(`/v1/sessions/${'a'.repeat(129)}`), 400, 'validation', 'one character past the longest session id');
  await expectProblem(t, get(`/v1/sessions/${'a'.repeat(300)}`), 400, 'validation', 'past the longest segment the router takes');
  await expectProblem(t, get(`/v1/vms/${'v'.repeat(300)}/destroyed`).replace(/^GET/, 'POST'), 400, 'validation', 'a VM id past the longest');
  // The longest valid session id (128 characters) is a session id the route looks up: not found, not refused.
  await expectProblem(t, get(`/v1/sessions/${'a'.repeat(128)}`), 404, 'not-found', 'the longest valid session id');
});

t.test("requests Node's HTTP parser refuses are 400 validation problems, and the connection is closed", async (t) => {
  const body = '{"userId":"u","provider":"gemini","browserVmId":"vm"}';
  const post = (headers: string[], payload: string) => `POST /v1/sessions HTTP/1.1\r\n${[host, bearer, 'Content-Type: application/json', ...headers].join('\r\n')}\r\n\r\n${payload}`;
  await expectProblem(t, post([`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`], body), 400, 'validation', 'two Content-Length headers');
  await expectProblem(t, post(['Transfer-Encoding: chunked'], `zz\r\n${body}\r\n0\r\n\r\n`), 400, 'validation', 'a chunk size that is no number');
  await expectProblem(t, get('/healthz', ['X-Broken header without a colon']), 400, 'validation', 'a header line without a colon');
  await expectProblem(t, 'NOT AN HTTP REQUEST\r\n\r\n', 400, 'validation', 'no HTTP at all');
});

t.test('headers, or chunk extensions, larger than the server takes are a 431 or 413 problem', async (t) => {
  await expectProblem(t, get('/healthz', [`X-Padding: ${'p'.repeat(20_000)}`]), 431, 'headers-too-large', 'a 20 kB header');
  const extended = `POST /v1/sessions HTTP/1.1\r\n${host}\r\n${bearer}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;${'e'.repeat(20_000)}\r\n{}\r\n0\r\n\r\n`;
  await expectProblem(t, extended, 413, 'payload-too-large', '20 kB of chunk extensions');
});

t.test('a malformed request behind an answer already under way closes the connection without writing into that answer', async (t) => {
  const { sessionId } = (await ledger.call('POST', '/v1/sessions', { token: ledger.controller, body: { userId: 'u', provider: 'gemini', browserVmId: 'vm-garbage' } })).body as { sessionId: string };
  const socket = await openSocket(ledger.url);
  const received = readUntilClosed(socket);
  const streaming = new Promise((resolve) => socket.on('data', (chunk: string) => chunk.includes('event: status') && resolve(chunk)));
  socket.write(get(`/v1/sessions/${sessionId}/watch`, [bearer, 'Accept: text/event-stream']).replace('Connection: close', 'Connection: keep-alive'));
  await streaming;
  socket.write('NOT HTTP AT ALL\r\n\r\n');
  const text = await received;
  t.match(text, /^HTTP\/1\.1 200 /, 'the watch was answered');
  t.notMatch(text, /HTTP\/1\.1 400/, 'no second status line written into its stream');
});

t.test("a path that climbs out of the docs' static files is refused as a problem, not a 500", async (t) => {
  for (const path of ['/docs/static/../../package.json', '/docs/static/%2e%2e/%2e%2e/package.json', '/docs/static/..%2f..%2fpackage.json']) {
    const [answer] = parseAnswers(await exchange(ledger.url, get(path, [])));
    t.ok(answer && answer.status >= 400 && answer.status < 500, `${path}: a refusal (${answer?.status})`);
    t.match(answer?.headers['content-type'], /^application\/problem\+json/, `${path}: a problem`);
    t.notMatch(answer?.body, '"name": "session-ledger"', `${path}: not the file`);
  }
});
