/**
 * Every documented operation, driven through each status its OpenAPI document declares, by
 * a real request to a real server: for every operation, the statuses it is seen to answer
 * are the statuses it declares, no more (an answer the document does not tell of) and no
 * fewer (a status it could never answer). Each request says why it gets its status.
 *
 * Two ledgers: one on SQLite, with small watch limits so the limits can be reached; one on
 * an EventStoreDB emulator that is stopped, for the answers of an event store out of reach.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { StartedJson } from '../../src/contract/index.js';
import { startEsdbEmulator } from '../emulator/esdb-emulator.js';
import { compareStatuses, unanswered, undeclared } from '../support/answered-statuses.js';
import { startLedger, type CallOptions, type TestLedger } from '../support/ledger-server.js';
import { operationsOf, type OpenApiDocument } from '../support/openapi.js';

const BODY_LIMIT = 4096;
// One watch per token and two in all, so that both limits are reached with three tokens.
const ledger = await startLedger({ bodyLimit: BODY_LIMIT, watchLimits: { perToken: 1, total: 2 } });
let closed = false;
const closeLedger = async () => {
  if (closed) return;
  closed = true;
  await ledger.close();
};
t.teardown(closeLedger);
const { controller, auditor } = ledger;
const emulator = await startEsdbEmulator();
const unreachable = await startLedger({ over: 'inject', eventStoreDb: { connectionString: emulator.connectionString, reconnect: { attempts: 2, delayMs: 10 } } });
t.teardown(async () => {
  await unreachable.close();
  // Stopped below already, unless the test failed before; stopping again does nothing.
  await emulator.stop();
});

const user = `user-${randomUUID()}`;
const frontend = ledger.frontend(user);
const stranger = ledger.frontend(`user-${randomUUID()}`);

async function startSession(on: TestLedger = ledger, vmId = `vm-${randomUUID()}`) {
  const started = await on.call('POST', '/v1/sessions', { token: on.controller, body: { userId: user, provider: 'gemini', browserVmId: vmId } });
  return { ...StartedJson.parse(started.body), vmId };
}
const credentials = () => ({ type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'gemini', credentialRef: 'cred-1' } });

// The sessions the requests below are about.
const pending = await startSession();
const completed = await startSession();
const completion = await ledger.call('POST', `/v1/sessions/${completed.sessionId}/events`, { token: controller, body: credentials() });
const afterCompletion = (completion.body as { position: string }).position;
/** A position no projector here reaches. */
const farAhead = '999999999';
// The one the event store holds when it goes away.
const stranded = await startSession(unreachable);
await emulator.stop();

/** A request, as `call` takes it. */
type Request = [method: string, path: string, options?: CallOptions];

/** Asks, and checks the status, saying why that status; an error is sent as a problem, as the document declares. */
async function expect(t: Test, status: number, why: string, [method, path, options]: Request, on: TestLedger = ledger) {
  const answer = await on.call(method, path, options);
  t.equal(answer.status, status, `${status}: ${why}`, { body: answer.body });
  if (status >= 400) t.match(answer.type, /^application\/problem\+json/, `${status}: as a problem`);
}

/** The body faults fastify answers on any route that reads a body, once the caller is let in. */
async function bodyFaults(t: Test, method: string, path: string, token: string | undefined) {
  await expect(t, 400, 'JSON that does not parse', [method, path, { token, body: '{"', headers: { 'content-type': 'application/json' } }]);
  await expect(t, 413, `a body over ${BODY_LIMIT} bytes`, [method, path, { token, body: { padding: 'x'.repeat(BODY_LIMIT) } }]);
  await expect(t, 415, 'a body that is not JSON', [method, path, { token, body: 'reason=gone', headers: { 'content-type': 'text/plain' } }]);
}

/** Opens a watch and keeps it open until `close`; its status as answered. */
async function openWatch(path: string, token: string) {
  const abort = new AbortController();
  const response = await fetch(`${ledger.url}${path}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort.signal });
  return { status: response.status, close: () => abort.abort() };
}

t.test('POST /v1/sessions', async (t) => {
  const eventId = randomUUID();
  const body = { userId: user, provider: 'gemini', browserVmId: `vm-${randomUUID()}`, eventId };
  await expect(t, 201, 'a start', ['POST', '/v1/sessions', { token: controller, body }]);
  await expect(t, 200, 'the same start again', ['POST', '/v1/sessions', { token: controller, body }]);
  await expect(t, 400, 'a provider that is not configured', ['POST', '/v1/sessions', { token: controller, body: { ...body, eventId: randomUUID(), provider: 'bard' } }]);
  await expect(t, 401, 'no token', ['POST', '/v1/sessions', { body }]);
  await expect(t, 403, 'a frontend starting', ['POST', '/v1/sessions', { token: frontend, body }]);
  await expect(t, 409, 'the id of a session that exists', ['POST', '/v1/sessions', { token: controller, body: { ...body, eventId: undefined, sessionId: pending.sessionId } }]);
  await bodyFaults(t, 'POST', '/v1/sessions', controller);
  await expect(t, 503, 'the event store out of reach', ['POST', '/v1/sessions', { token: unreachable.controller, body }], unreachable);
});

t.test('POST /v1/sessions/{id}/events', async (t) => {
  const { sessionId } = await startSession();
  const path = `/v1/sessions/${sessionId}/events`;
  const fact = credentials();
  await expect(t, 201, 'a fact', ['POST', path, { token: controller, body: fact }]);
  await expect(t, 200, 'the same fact again', ['POST', path, { token: controller, body: fact }]);
  await expect(t, 400, 'an event id that is no UUID', ['POST', path, { token: controller, body: { ...credentials(), eventId: '12345' } }]);
  await expect(t, 401, 'no token', ['POST', path, { body: credentials() }]);
  await expect(t, 403, 'an auditor writing', ['POST', path, { token: auditor, body: credentials() }]);
  await expect(t, 404, 'a session never started', ['POST', `/v1/sessions/${randomUUID()}/events`, { token: controller, body: credentials() }]);
  await expect(t, 409, 'an expected revision the stream has passed', ['POST', path, { token: controller, body: { ...credentials(), expectedRevision: '0' } }]);
  await bodyFaults(t, 'POST', path, controller);
  await expect(t, 503, 'the event store out of reach', ['POST', `/v1/sessions/${stranded.sessionId}/events`, { token: unreachable.controller, body: credentials() }], unreachable);
});

t.test('GET /v1/sessions/{id}', async (t) => {
  const path = `/v1/sessions/${pending.sessionId}`;
  await expect(t, 200, 'its owner reading', ['GET', path, { token: frontend }]);
  await expect(t, 400, 'a query key it does not take', ['GET', `${path}?debug=1`, { token: controller }]);
  await expect(t, 401, 'no token', ['GET', path]);
  await expect(t, 404, "another user's frontend: not found, as an unknown one", ['GET', path, { token: stranger }]);
  await expect(t, 404, 'a session never started', ['GET', `/v1/sessions/${randomUUID()}`, { token: controller }]);
  await expect(t, 503, 'a position the projector will not reach in time', ['GET', `${path}?after=${farAhead}`, { token: controller }]);
});

for (const view of ['events', 'timeline']) {
  t.test(`GET /v1/sessions/{id}/${view}`, async (t) => {
    const path = `/v1/sessions/${pending.sessionId}/${view}`;
    await expect(t, 200, 'the controller reading', ['GET', path, { token: controller }]);
    await expect(t, 400, 'a session id with a space', ['GET', `/v1/sessions/bad%20id/${view}`, { token: controller }]);
    await expect(t, 401, 'no token', ['GET', path]);
    await expect(t, 404, "another user's frontend: not found, as an unknown one", ['GET', path, { token: stranger }]);
    await expect(t, 404, 'a session never started', ['GET', `/v1/sessions/${randomUUID()}/${view}`, { token: controller }]);
    await expect(t, 503, 'the event store out of reach', ['GET', `/v1/sessions/${stranded.sessionId}/${view}`, { token: unreachable.controller }], unreachable);
  });
}

t.test('GET /v1/sessions', async (t) => {
  await expect(t, 200, "a frontend listing its user's", ['GET', '/v1/sessions', { token: frontend }]);
  await expect(t, 400, 'a cursor this ledger did not give', ['GET', '/v1/sessions?cursor=not-a-cursor', { token: controller }]);
  await expect(t, 401, 'no token', ['GET', '/v1/sessions']);
  await expect(t, 403, 'an agent listing', ['GET', '/v1/sessions', { token: pending.agentToken }]);
});

t.test('POST /v1/vms/{vmId}/destroyed', async (t) => {
  const { vmId } = await startSession();
  const path = `/v1/vms/${vmId}/destroyed`;
  await expect(t, 201, 'a VM a session ran in', ['POST', path, { token: controller, body: { reason: 'cleaned up' } }]);
  await expect(t, 200, 'the same report again', ['POST', path, { token: controller, body: { reason: 'cleaned up' } }]);
  await expect(t, 400, 'no reason', ['POST', path, { token: controller, body: {} }]);
  await expect(t, 401, 'no token', ['POST', path, { body: { reason: 'cleaned up' } }]);
  await expect(t, 403, 'an agent reporting', ['POST', path, { token: pending.agentToken, body: { reason: 'cleaned up' } }]);
  await expect(t, 404, 'a VM no session ran in', ['POST', `/v1/vms/vm-${randomUUID()}/destroyed`, { token: controller, body: { reason: 'cleaned up' } }]);
  await expect(t, 409, 'the same report with another reason', ['POST', path, { token: controller, body: { reason: 'crashed' } }]);
  await bodyFaults(t, 'POST', path, controller);
  await expect(t, 503, 'the event store out of reach', ['POST', `/v1/vms/${stranded.vmId}/destroyed`, { token: unreachable.controller, body: { reason: 'cleaned up' } }], unreachable);
});

t.test('POST /v1/watch-tickets', async (t) => {
  const body = { sessionId: pending.sessionId };
  await expect(t, 201, 'its owner asking', ['POST', '/v1/watch-tickets', { token: frontend, body }]);
  await expect(t, 400, 'no session named', ['POST', '/v1/watch-tickets', { token: frontend, body: {} }]);
  await expect(t, 401, 'no token', ['POST', '/v1/watch-tickets', { body }]);
  await expect(t, 404, "another user's frontend: not found, as an unknown one", ['POST', '/v1/watch-tickets', { token: stranger, body }]);
  await expect(t, 404, 'a session never started', ['POST', '/v1/watch-tickets', { token: controller, body: { sessionId: randomUUID() } }]);
  await bodyFaults(t, 'POST', '/v1/watch-tickets', frontend);
});

t.test('GET /v1/sessions/{id}/watch and GET /v1/sessions/watch', async (t) => {
  const watchOf = (sessionId: string) => `/v1/sessions/${sessionId}/watch`;
  await expect(t, 200, 'a completed session: its status, then the end', ['GET', watchOf(completed.sessionId), { token: controller }]);
  await expect(t, 204, 'a resume of that watch with nothing new', ['GET', watchOf(completed.sessionId), { token: controller, headers: { 'last-event-id': afterCompletion } }]);
  await expect(t, 400, 'a Last-Event-ID that is no position', ['GET', watchOf(pending.sessionId), { token: controller, headers: { 'last-event-id': 'soon' } }]);
  await expect(t, 401, 'no token and no ticket', ['GET', watchOf(pending.sessionId)]);
  await expect(t, 404, "another user's frontend: not found, as an unknown one", ['GET', watchOf(pending.sessionId), { token: stranger }]);
  const ticket = (await ledger.call('POST', '/v1/watch-tickets', { token: frontend, body: { sessionId: completed.sessionId } })).body as { ticket: string };
  await expect(t, 403, 'a ticket for another session', ['GET', `${watchOf(pending.sessionId)}?ticket=${encodeURIComponent(ticket.ticket)}`]);
  await expect(t, 404, 'a session never started', ['GET', watchOf(randomUUID()), { token: controller }]);
  await expect(t, 400, 'a status that is none', ['GET', '/v1/sessions/watch?status=lost', { token: controller }]);
  await expect(t, 401, 'no token', ['GET', '/v1/sessions/watch']);
  await expect(t, 403, 'a frontend', ['GET', '/v1/sessions/watch', { token: frontend }]);
  const json = { accept: 'application/json' };
  await expect(t, 406, 'a client that takes JSON only', ['GET', watchOf(pending.sessionId), { token: controller, headers: json }]);
  await expect(t, 406, 'a client that takes JSON only', ['GET', '/v1/sessions/watch', { token: controller, headers: json }]);

  // The limits: one watch per token, two in all.
  const first = await openWatch(watchOf(pending.sessionId), controller);
  t.equal(first.status, 200, 'a watch held open');
  await expect(t, 429, "a second watch of the controller's", ['GET', watchOf(pending.sessionId), { token: controller }]);
  await expect(t, 429, "the list's watch, for the same controller", ['GET', '/v1/sessions/watch', { token: controller }]);
  const second = await openWatch('/v1/sessions/watch', auditor);
  t.equal(second.status, 200, "the list's watch, held open");
  await expect(t, 503, 'a third watch in all', ['GET', watchOf(pending.sessionId), { token: frontend }]);
  await expect(t, 503, 'a third watch in all', ['GET', '/v1/sessions/watch', { token: ledger.token({ role: 'controller', sub: 'another' }) }]);
  first.close();
  second.close();
});

t.test('POST /api/auth/session/{sessionId}/complete', async (t) => {
  const { sessionId, agentToken } = await startSession();
  const path = `/api/auth/session/${sessionId}/complete`;
  await expect(t, 201, 'its agent completing', ['POST', path, { token: agentToken, body: { credentialRef: 'cred-1' } }]);
  await expect(t, 200, 'the same completion again', ['POST', path, { token: agentToken, body: { credentialRef: 'cred-1' } }]);
  await expect(t, 400, 'a key the body does not take', ['POST', path, { token: agentToken, body: { accessToken: 'ya29.secret' } }]);
  await expect(t, 401, 'no token', ['POST', path]);
  await expect(t, 403, 'a frontend completing', ['POST', path, { token: frontend }]);
  await expect(t, 404, 'a session never started', ['POST', `/api/auth/session/${randomUUID()}/complete`, { token: controller }]);
  await expect(t, 409, 'a second completion, with another credential', ['POST', path, { token: agentToken, body: { credentialRef: 'cred-2' } }]);
  await bodyFaults(t, 'POST', path, agentToken);
  await expect(t, 503, 'the event store out of reach', ['POST', `/api/auth/session/${stranded.sessionId}/complete`, { token: unreachable.controller }], unreachable);
});

t.test('GET /api/auth/session/{sessionId}', async (t) => {
  const path = `/api/auth/session/${pending.sessionId}`;
  await expect(t, 200, 'its owner reading', ['GET', path, { token: frontend }]);
  await expect(t, 400, 'a query key it does not take', ['GET', `${path}?debug=1`, { token: controller }]);
  await expect(t, 401, 'no token', ['GET', path]);
  await expect(t, 404, "another user's frontend: not found, as an unknown one", ['GET', path, { token: stranger }]);
  await expect(t, 404, 'a session never started', ['GET', `/api/auth/session/${randomUUID()}`, { token: controller }]);
  await expect(t, 503, 'a position the projector will not reach in time', ['GET', `${path}?after=${farAhead}`, { token: controller }]);
});

t.test('the audit routes', async (t) => {
  for (const route of ['export', 'verify', 'seals']) {
    const path = `/v1/audit/${route}`;
    await expect(t, 200, `${route}: an auditor`, ['GET', path, { token: auditor }]);
    await expect(t, 401, `${route}: no token`, ['GET', path]);
    await expect(t, 403, `${route}: the controller`, ['GET', path, { token: controller }]);
  }
  await expect(t, 400, 'export: a position that is no number', ['GET', '/v1/audit/export?after=first', { token: auditor }]);
  for (const route of ['export', 'verify']) {
    await expect(t, 503, `${route}: the event store out of reach`, ['GET', `/v1/audit/${route}`, { token: unreachable.auditor }], unreachable);
  }
});

t.test('GET /v1/stats/outcomes', async (t) => {
  await expect(t, 200, 'the controller', ['GET', '/v1/stats/outcomes', { token: controller }]);
  await expect(t, 400, 'a time that is none', ['GET', '/v1/stats/outcomes?from=yesterday', { token: controller }]);
  await expect(t, 401, 'no token', ['GET', '/v1/stats/outcomes']);
  await expect(t, 403, 'an agent', ['GET', '/v1/stats/outcomes', { token: pending.agentToken }]);
});

t.test('GET /v1/webhooks', async (t) => {
  await expect(t, 200, 'the auditor', ['GET', '/v1/webhooks', { token: auditor }]);
  await expect(t, 401, 'no token', ['GET', '/v1/webhooks']);
  await expect(t, 403, 'a frontend', ['GET', '/v1/webhooks', { token: frontend }]);
});

t.test('/v1/console/login', async (t) => {
  await expect(t, 201, 'an auditor logging in', ['POST', '/v1/console/login', { token: auditor }]);
  await expect(t, 401, 'no token', ['POST', '/v1/console/login']);
  await expect(t, 403, 'a frontend logging in', ['POST', '/v1/console/login', { token: frontend }]);
  await bodyFaults(t, 'POST', '/v1/console/login', auditor);
  await expect(t, 200, 'who the token speaks for', ['GET', '/v1/console/login', { token: auditor }]);
  await expect(t, 401, 'no token, no cookie', ['GET', '/v1/console/login']);
  await expect(t, 403, 'a frontend', ['GET', '/v1/console/login', { token: frontend }]);
  await expect(t, 204, 'a logout', ['DELETE', '/v1/console/login']);
  await bodyFaults(t, 'DELETE', '/v1/console/login', undefined);
});

t.test("the operator's routes", async (t) => {
  await expect(t, 200, 'alive', ['GET', '/healthz']);
  await expect(t, 200, 'ready', ['GET', '/readyz']);
  await expect(t, 503, 'the event store out of reach', ['GET', '/readyz'], unreachable);
  await expect(t, 200, 'the metrics', ['GET', '/metrics']);
});

// What every route can answer besides its own, each on a ledger of its own: one whose rate
// limit is one request per credential, and one under pressure (any heap at all is too much).
const limited = await startLedger({ over: 'inject', limits: { rateLimit: { max: 1, windowMs: 600_000 } } });
t.teardown(() => limited.close());
const pressed = await startLedger({ over: 'inject', limits: { pressure: { maxEventLoopDelayMs: 0, maxHeapUsedBytes: 1, sampleIntervalMs: 10 } } });
t.teardown(() => pressed.close());

/** Each operation of the document, as a request with a made-up value for each path parameter. */
async function everyOperation() {
  // From a ledger that answers it: the two above limit and shed the document too.
  const document = (await unreachable.call('GET', '/docs/json')).body as OpenApiDocument;
  return operationsOf(document).map(({ method, path, operation }) => ({
    method,
    path: path.replace(/\{[^}]+\}/g, 'some-id'),
    declared: Object.keys(operation.responses ?? {}).map(Number),
  }));
}

t.test('429 on every route but the probes: past the rate limit, with Retry-After', async (t) => {
  // The controller's one request; every other with its token is one too many.
  await expect(t, 200, "the controller's one request", ['GET', '/v1/sessions', { token: limited.controller }], limited);
  for (const { method, path, declared } of await everyOperation()) {
    const answer = await limited.call(method, path, { token: limited.controller });
    if (!declared.includes(429)) {
      t.not(answer.status, 429, `${method} ${path}: not limited`);
      continue;
    }
    t.equal(answer.status, 429, `${method} ${path}: rate-limited`, { body: answer.body });
    t.match(answer.body, { type: /\/rate-limited$/ }, `${method} ${path}: as a problem`);
    t.match(answer.headers.get('retry-after'), /^[1-9]\d*$/, `${method} ${path}: Retry-After`);
  }
});

t.test('503 on every route but liveness and metrics: under pressure, with Retry-After', async (t) => {
  // The first sample of the heap is taken 10 ms after the start: until then nothing is shed.
  for (let tries = 0; (await pressed.call('GET', '/v1/sessions', { token: pressed.controller })).status !== 503; tries++) {
    if (tries === 200) throw new Error('never under pressure');
    await setTimeout(10);
  }
  for (const { method, path, declared } of await everyOperation()) {
    const answer = await pressed.call(method, path, { token: pressed.controller });
    if (!declared.includes(503)) {
      t.not(answer.status, 503, `${method} ${path}: answers under pressure`);
      continue;
    }
    t.equal(answer.status, 503, `${method} ${path}: shed`, { body: answer.body });
    t.match(answer.body, { type: /\/unavailable$/, detail: /overloaded/ }, `${method} ${path}: as a problem`);
    t.match(answer.headers.get('retry-after'), /^[1-9]\d*$/, `${method} ${path}: Retry-After`);
  }
});

t.test('every operation answered each status it declares, and no other', async (t) => {
  // Every answer is over once the server is: a watch left open above is counted by then.
  await closeLedger();
  // The document is no answer of the contract: read as what it claims to be.
  const document = (await unreachable.call('GET', '/docs/json')).body as OpenApiDocument;
  const answered = new Map([...ledger.answeredStatuses()]);
  for (const other of [unreachable, limited, pressed]) {
    for (const [operation, statuses] of other.answeredStatuses()) answered.set(operation, [...new Set([...(answered.get(operation) ?? []), ...statuses])].sort((a, b) => a - b));
  }
  const comparisons = compareStatuses(answered, document);
  t.same(undeclared(comparisons), [], 'answered, but not declared');
  t.same(unanswered(comparisons), [], 'declared, but never answered');
});
