/**
 * What the OpenAPI document at /docs/json says, against what the server does: error answers
 * as the problem+json they are sent as, the watches' event streams and bodyless 204, the body
 * statuses where a body is taken, the operator's routes, and what a reader needs to find each
 * operation (id, tag, summary, description), where to call (servers) and on what terms (license).
 * Which statuses each route answers is test/integration/openapi-statuses.test.ts's.
 */
import t from 'tap';
import type { OpenAPIV3_1 } from 'openapi-types';
import { startLedger } from '../support/ledger-server.js';
import { operationsOf, type OpenApiDocument } from '../support/openapi.js';

const ledger = await startLedger({ over: 'inject' });
t.teardown(() => ledger.close());
const served = await ledger.call('GET', '/docs/json');
t.equal(served.status, 200);
// The document is no answer of the contract: read as what it claims to be, and checked below.
const document = served.body as OpenApiDocument;
const operations = operationsOf(document);
const named = (method: string, path: string) => `${method} ${path}`;
/** The response objects of an operation; the generator writes them inline, never as references. */
const responsesOf = (operation: OpenAPIV3_1.OperationObject) => (operation.responses ?? {}) as Record<string, OpenAPIV3_1.ResponseObject>;

t.test('every error answer is declared as application/problem+json, the way the error handler sends it', async (t) => {
  for (const { method, path, operation } of operations) {
    for (const [status, response] of Object.entries(responsesOf(operation)).filter(([status]) => Number(status) >= 400)) {
      t.same(Object.keys(response.content ?? {}), ['application/problem+json'], `${named(method, path)} ${status}`);
      t.match(response.content?.['application/problem+json']?.schema, { required: ['type', 'title', 'status', 'detail'] }, `${named(method, path)} ${status}: RFC 9457's members`);
    }
  }
  const problem = await ledger.call('GET', '/v1/sessions/no-such-session', { token: ledger.controller });
  t.equal(problem.status, 404);
  t.match(problem.type, /^application\/problem\+json/, 'as sent');
});

t.test("a session's watch answers 200 as an event stream, or 204 with no body; the list's watch 200 as an event stream", async (t) => {
  const watch = responsesOf(document.paths?.['/v1/sessions/{id}/watch']?.get ?? {});
  t.same(Object.keys(watch['200']?.content ?? {}), ['text/event-stream']);
  t.ok(watch['204'], 'a 204 is declared');
  t.notOk(watch['204']?.content, 'without content');
  const listWatch = responsesOf(document.paths?.['/v1/sessions/watch']?.get ?? {});
  t.same(Object.keys(listWatch['200']?.content ?? {}), ['text/event-stream']);
});

t.test('a route that takes a body declares 413 and 415; no read declares 409, 413 or 415', async (t) => {
  for (const { method, path, operation } of operations) {
    const statuses = Object.keys(responsesOf(operation));
    // fastify reads a body on every method but GET and HEAD, whether the route wants one or not.
    if (method === 'GET') {
      for (const status of ['409', '413', '415']) t.notOk(statuses.includes(status), `${named(method, path)}: no ${status}`);
    } else {
      for (const status of ['400', '413', '415']) t.ok(statuses.includes(status), `${named(method, path)}: ${status}`);
    }
  }
});

t.test('every operation has an id, a tag the document defines, a summary and a description', async (t) => {
  const tags = new Set((document.tags ?? []).map((tag) => tag.name));
  const ids = new Set<string>();
  for (const { method, path, operation } of operations) {
    t.match(operation.operationId, /^[a-z][A-Za-z]+$/, `${named(method, path)}: operationId`);
    t.notOk(ids.has(operation.operationId ?? ''), `${named(method, path)}: its id is its own`);
    ids.add(operation.operationId ?? '');
    t.equal(operation.tags?.length, 1, `${named(method, path)}: one tag`);
    t.ok(tags.has(operation.tags?.[0] ?? ''), `${named(method, path)}: a tag the document defines`);
    t.ok(operation.summary, `${named(method, path)}: summary`);
    t.ok(operation.description, `${named(method, path)}: description`);
  }
});

t.test('where to call it, and on what terms', async (t) => {
  t.same(document.servers?.map((server) => server.url), ['http://127.0.0.1:3000'], 'the default address of `ledger serve`');
  t.match(document.info.license?.name, /UNLICENSED/, "package.json's license");
});

t.test("the operator's routes are described: liveness, readiness and metrics, without credentials", async (t) => {
  const get = (path: string) => document.paths?.[path]?.get;
  const healthz = get('/healthz');
  t.same(Object.keys(responsesOf(healthz ?? {})), ['200']);
  t.same(healthz?.security, [], 'no credentials');
  const readyz = get('/readyz');
  t.same(Object.keys(responsesOf(readyz ?? {})), ['200', '503']);
  t.same(readyz?.security, []);
  const metrics = get('/metrics');
  t.same(Object.keys(responsesOf(metrics ?? {})), ['200']);
  t.same(Object.keys(responsesOf(metrics ?? {})['200']?.content ?? {}), ['text/plain; version=0.0.4; charset=utf-8'], 'the Prometheus text format, as sent');
  t.same(metrics?.security, []);
  t.match((await ledger.call('GET', '/metrics')).type, 'text/plain; version=0.0.4; charset=utf-8');
});

t.test('the pages and the document itself stay out of it', async (t) => {
  const paths = Object.keys(document.paths ?? {});
  t.same(
    paths.filter((path) => /^\/(docs|console|example)(\/|$)/.test(path)),
    [],
  );
});
