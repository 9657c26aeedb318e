/**
 * Secrets go nowhere. A canary (a unique string) rides in every field a client can send: the
 * bearer token and its claims, every header (the cookie too), the body's fields and the query,
 * on every route, in successful writes as in refused requests. Afterwards, every place the
 * ledger keeps or says anything is searched: the log lines, the events (through the store),
 * every table of its SQLite file (the read model, checkpoints, seals; and the events on the
 * embedded store), and every answer (status line aside: headers and body).
 *
 * A canary may be found only where its field is meant to be stored: the data a fact carries
 * and the metadata of an event (README, "What the ledger stores"), which the event, the read
 * model and the answers that show them hold; and, for the identifiers a path names (a session,
 * a VM), the request log. Every other canary must be found nowhere.
 */
import { createHmac, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import t from 'tap';
import { CONSOLE_COOKIE, StartedJson, WatchTicketJson } from '../../src/contract/index.js';
import { JWT_SECRET, startLedger } from '../support/ledger-server.js';

const ledger = await startLedger({ synchronous: 'NORMAL' });
t.teardown(() => ledger.close());

/** Where a canary may turn up. */
type Place = 'logs' | 'events' | 'database' | 'answers';
const STORED: Place[] = ['events', 'database', 'answers'];

/** Every canary sent, by the field it was sent in, with where it may be found. */
const canaries = new Map<string, { field: string; mayBeIn: Place[] }>();
/** A unique value for `field`, shaped to pass its field's rules (letters, digits, dashes). */
function canary(field: string, mayBeIn: Place[] = []) {
  const value = `canary-${field.replace(/[^A-Za-z0-9]/g, '')}-${randomUUID().slice(0, 8)}`;
  canaries.set(value, { field, mayBeIn });
  return value;
}

// ---- Tokens whose every part is a canary ----------------------------------------------

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const seconds = () => Math.floor(Date.now() / 1000);
function jwt(payload: object, key = JWT_SECRET) {
  const signed = `${base64url({ alg: 'HS256', typ: 'JWT', kid: canary('token header kid') })}.${base64url(payload)}`;
  return `${signed}.${createHmac('sha256', key).update(signed).digest('base64url')}`;
}
/** A token's claims, the ledger's and some of the caller's own; `sub` is recorded as the actor of its facts. */
const claims = (role: object) => ({ ...role, iat: seconds(), exp: seconds() + 600, note: canary('token claim'), jti: canary('token jti') });
/** The token itself, whole, is a canary: it must never be stored, logged or echoed. */
function tokenCanary(payload: object, key?: string) {
  const token = jwt(payload, key);
  canaries.set(token, { field: 'the bearer token', mayBeIn: [] });
  return token;
}
const controller = tokenCanary(claims({ role: 'controller', sub: canary('controller sub', STORED) }));
const auditor = tokenCanary(claims({ role: 'auditor', sub: canary('auditor sub', STORED) }));
const owner = canary('userId', STORED);
const frontend = tokenCanary(claims({ role: 'frontend', sub: canary('frontend sub', STORED), userId: owner }));
const forged = tokenCanary(claims({ role: 'controller', sub: canary('forged sub') }), 'another-secret-of-at-least-thirty-two-chars');
const unsignedToken = `${base64url({ alg: 'none' })}.${base64url(claims({ role: 'controller', sub: canary('unsigned sub') }))}.`;
canaries.set(unsignedToken, { field: 'an unsigned token', mayBeIn: [] });

/** The headers a client may send besides the token: none is meant to be kept. */
const headers = () => ({
  'user-agent': canary('user-agent'),
  'x-api-key': canary('x-api-key'),
  referer: `https://app.example.com/${canary('referer')}`,
  'x-forwarded-for': canary('x-forwarded-for'),
  'x-request-id': canary('x-request-id'),
  traceparent: canary('traceparent'),
  cookie: `session=${canary('cookie')}; theme=${canary('another cookie')}`,
});

// ---- Every route, with canaries everywhere ---------------------------------------------

/** Every answer, headers and body, as text. */
const answers: string[] = [];
async function send(method: string, path: string, { token, body, extra = {} }: { token?: string; body?: unknown; extra?: Record<string, string> } = {}) {
  const abort = new AbortController();
  const response = await fetch(`${ledger.url}${path}`, {
    method,
    headers: { ...headers(), ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }), ...extra },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: abort.signal,
  });
  // The list's watch never ends by itself: what it says first is enough.
  let text: string;
  if (path.startsWith('/v1/sessions/watch')) {
    const reader = response.body!.getReader();
    const first = await reader.read();
    text = new TextDecoder().decode(first.value);
    abort.abort();
  } else text = await response.text();
  const answerHeaders: string[] = [];
  response.headers.forEach((value, name) => answerHeaders.push(`${name}: ${value}`));
  answers.push(`${answerHeaders.join('\n')}\n\n${text}`);
  return { status: response.status, text };
}

const trace = () => ({ correlationId: canary('correlationId', STORED), causationId: canary('causationId', STORED) });
const fact = (type: string, data: object, extra: object = {}) => ({ type, eventId: randomUUID(), data, ...trace(), ...extra });

/** A session started with canaries in every field the start takes. */
async function start() {
  const vmId = canary('browserVmId', [...STORED, 'logs']);
  const sessionId = canary('sessionId', [...STORED, 'logs']);
  const started = await send('POST', '/v1/sessions', {
    token: controller,
    body: { sessionId, userId: owner, provider: 'gemini', browserVmId: vmId, correlationId: canary('start correlationId', STORED) },
  });
  t.equal(started.status, 201, 'a start with canaries in every field');
  return { ...StartedJson.parse(JSON.parse(started.text)), vmId };
}

t.test('every route, with canaries in every field a client can send', async (t) => {
  const completed = await start();
  const events = `/v1/sessions/${completed.sessionId}/events`;
  const credentials = () => fact('CredentialsStored', { provider: 'gemini', credentialRef: canary('credentialRef', STORED) });
  const writes: [string, string, { token: string; body?: unknown }][] = [
    ['POST', events, { token: completed.agentToken, body: credentials() }],
    ['POST', events, { token: controller, body: fact('SessionFailed', { reason: canary('failure reason', STORED), errorMessage: canary('errorMessage', STORED) }) }],
    ['POST', `/v1/vms/${completed.vmId}/destroyed`, { token: controller, body: { reason: canary('VmDestroyed reason', STORED) } }],
  ];
  for (const [method, path, options] of writes) t.equal((await send(method, path, options)).status, 201, `${method} ${path}`);
  const cancelled = await start();
  const cancel = await send('POST', `/v1/sessions/${cancelled.sessionId}/events`, { token: frontend, body: fact('SessionCancelled', { cancelledBy: canary('cancelledBy', STORED) }) });
  t.equal(cancel.status, 201, 'a cancel');
  const legacy = await start();
  const complete = await send('POST', `/api/auth/session/${legacy.sessionId}/complete`, { token: legacy.agentToken, body: { credentialRef: canary('legacy credentialRef', STORED) } });
  t.equal(complete.status, 201, 'a legacy completion');

  // Reads: every one that answers what was stored, and the rest.
  const id = completed.sessionId;
  const ticket = WatchTicketJson.parse(JSON.parse((await send('POST', '/v1/watch-tickets', { token: frontend, body: { sessionId: id } })).text));
  const login = await send('POST', '/v1/console/login', { token: auditor });
  t.equal(login.status, 201, 'a console login');
  const reads: [string, string | undefined, number][] = [
    [`/v1/sessions/${id}`, frontend, 200],
    [`/v1/sessions/${id}?asOf=${new Date(Date.now() + 1000).toISOString()}`, auditor, 200],
    [`/v1/sessions/${id}/events`, auditor, 200],
    [`/v1/sessions/${id}/timeline`, controller, 200],
    [`/v1/sessions/${id}/watch`, controller, 200],
    [ticket.watch, undefined, 200],
    [`/v1/sessions?userId=${owner}`, frontend, 200],
    ['/v1/sessions/watch', auditor, 200],
    [`/api/auth/session/${legacy.sessionId}`, controller, 200],
    ['/v1/audit/export', auditor, 200],
    ['/v1/audit/verify', auditor, 200],
    ['/v1/audit/seals', auditor, 200],
    ['/v1/stats/outcomes', controller, 200],
    ['/v1/console/login', auditor, 200],
    ['/healthz', undefined, 200],
    ['/readyz', undefined, 200],
    ['/metrics', undefined, 200],
  ];
  for (const [path, token, status] of reads) t.equal((await send('GET', path, { token })).status, status, `GET ${path}`);
  t.equal((await send('DELETE', '/v1/console/login')).status, 204, 'a logout');

  // Refused: canaries in what is refused, too.
  const refused: [string, string, { token?: string; body?: unknown; extra?: Record<string, string> }, number][] = [
    ['POST', '/v1/sessions', { token: forged, body: { userId: owner, provider: 'gemini', browserVmId: canary('refused VM', STORED) } }, 401],
    ['POST', '/v1/sessions', { token: unsignedToken, body: { userId: owner, provider: 'gemini', browserVmId: canary('refused VM', STORED) } }, 401],
    ['POST', '/v1/sessions', { extra: { authorization: `Basic ${canary('basic credentials')}` } }, 401],
    ['GET', `/v1/sessions/${id}`, { extra: { cookie: `${CONSOLE_COOKIE}=${canary('console cookie')}` } }, 401],
    ['POST', '/v1/sessions', { token: controller, body: { userId: owner, provider: 'gemini', browserVmId: 'vm-x', accessToken: canary('unknown body field') } }, 400],
    ['POST', '/v1/sessions', { token: controller, body: { userId: owner, provider: 'gemini', browserVmId: 'vm-x', expiresAt: canary('expiresAt') } }, 400],
    // A provider is stored data: the 400 for one outside the configured list quotes it, and that is all.
    ['POST', '/v1/sessions', { token: controller, body: { userId: owner, provider: canary('provider', ['answers']), browserVmId: 'vm-x' } }, 400],
    ['POST', events, { token: controller, body: { ...credentials(), eventId: canary('eventId') } }, 400],
    ['POST', events, { token: controller, body: { ...credentials(), expectedRevision: canary('expectedRevision') } }, 400],
    ['POST', events, { token: controller, body: fact('CredentialsStored', { provider: 'gemini', credentialRef: 'c', refreshToken: canary('unknown data field') }) }, 400],
    ['POST', events, { token: controller, body: fact('CredentialsStored', { provider: 'gemini', credentialRef: 'c', sessionId: canary('data sessionId') }) }, 400],
    ['POST', events, { token: frontend, body: credentials() }, 403],
    ['POST', `/api/auth/session/${id}/complete`, { token: controller, body: { credentialRef: 'c', apiKey: canary('legacy unknown field') } }, 400],
    ['POST', '/v1/watch-tickets', { token: frontend, body: { sessionId: id, secret: canary('ticket body field') } }, 400],
    ['GET', `/v1/sessions/${id}?after=${canary('after')}`, { token: controller }, 400],
    ['GET', `/v1/sessions/${id}?asOf=${canary('asOf')}`, { token: controller }, 400],
    ['GET', `/v1/sessions/${id}?debug=${canary('unknown query key')}`, { token: controller }, 400],
    ['GET', `/v1/sessions?cursor=${canary('cursor')}`, { token: controller }, 400],
    ['GET', `/v1/sessions?status=${canary('status')}`, { token: controller }, 400],
    ['GET', `/v1/sessions/${id}/watch?ticket=${canary('ticket')}`, {}, 401],
    ['GET', `/v1/sessions/${id}/watch?lastEventId=${canary('lastEventId')}`, { token: controller }, 400],
    ['GET', `/v1/sessions/${id}/watch`, { token: controller, extra: { 'last-event-id': canary('last-event-id header') } }, 400],
    ['GET', `/v1/audit/export?after=${canary('export after')}`, { token: auditor }, 400],
    ['GET', `/v1/stats/outcomes?from=${canary('from')}`, { token: controller }, 400],
  ];
  for (const [method, path, options, status] of refused) {
    const before = await ledger.store.lastPosition();
    t.equal((await send(method, path, options)).status, status, `${method} ${path}: ${status}`);
    t.equal(await ledger.store.lastPosition(), before, 'nothing was written');
  }
});

// ---- Where they went ------------------------------------------------------------------

/** Every table of the ledger's SQLite file, every row, as text (a blob read as UTF-8). */
function databaseText(): string {
  const db = new Database(ledger.dbPath, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table'").pluck().all() as string[];
    return tables
      .map((table) => {
        const rows = db.prepare(`select * from "${table}"`).raw().all() as unknown[][];
        return `${table}: ${rows.map((row) => row.map((cell) => (Buffer.isBuffer(cell) ? cell.toString('utf8') : String(cell))).join('\t')).join('\n')}`;
      })
      .join('\n');
  } finally {
    db.close();
  }
}

t.test('each canary is found only where its field is meant to be stored', async (t) => {
  // Every request has written its log line once the server is closed; the projector has caught up.
  await ledger.projector.waitForPosition(await ledger.store.lastPosition(), 5000);
  const places: Record<Place, string> = {
    logs: ledger.logs.join('\n'),
    events: JSON.stringify(await ledger.store.readAll({ maxCount: 100_000 }), (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)),
    database: databaseText(),
    answers: answers.join('\n'),
  };
  t.ok(canaries.size > 60, `${canaries.size} canaries sent`);
  let stored = 0;
  for (const [value, { field, mayBeIn }] of canaries) {
    for (const [place, text] of Object.entries(places) as [Place, string][]) {
      if (!mayBeIn.includes(place)) t.notOk(text.includes(value), `${field}: not in the ${place}`);
    }
    if (mayBeIn.includes('events') && places.events.includes(value)) stored++;
  }
  // The search finds what is there: the stored fields were stored.
  t.ok(stored >= 15, `${stored} stored canaries found in the events`);
  t.ok(places.logs.includes('"sessionId":"canary-sessionId-'), 'the log names the session by the id its path gave');
});
