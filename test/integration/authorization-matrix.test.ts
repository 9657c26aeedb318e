/**
 * The authorization matrix: every route the ledger serves × every kind of credential → the
 * exact answer. The table is written from DESIGN.md's route table (and the routes the server
 * adds to it: the timeline, the list's watch, watch tickets, the console's login), not from
 * the server's code, and the tokens are made here, by hand, not by the ledger's signer.
 *
 * Every cell is asked of one real server on 127.0.0.1, and after every refusal the store's
 * last position is what it was: a refused request never writes. A session a token may not
 * see (another user's, another session's agent) answers exactly as an unknown id does, a 404
 * with the same body, so session ids cannot be probed. Every token problem is a 401
 * `unauthenticated` with `WWW-Authenticate: Bearer` whose detail names what is wrong, on the
 * bearer header, the console's cookie and a watch ticket alike.
 */
import { createHmac, generateKeyPairSync, randomUUID, sign as rsaSign } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
import Fastify from 'fastify';
import t, { type Test } from 'tap';
import { CONSOLE_COOKIE, StartedJson, WatchTicketJson } from '../../src/contract/index.js';
import { problemDetails } from '../../src/http/error-handler.js';
import { runInProcess } from '../support/cli-in-process.js';
import { JWT_SECRET, startLedger } from '../support/ledger-server.js';

// Every cell that may write gets a session of its own: many small appends, none about durability.
const ledger = await startLedger({ synchronous: 'NORMAL' });
t.teardown(() => ledger.close());

/** The cap on a token's lifetime when LEDGER_TOKEN_MAX_TTL is not set: a day. */
const MAX_TTL_S = 24 * 3600;

// ---- Tokens, made by hand --------------------------------------------------------------

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const seconds = () => Math.floor(Date.now() / 1000);

/** A JWT with this header and payload, its signature an HMAC of `hash` with `key`. */
function hmacJwt(header: object, payload: object, { key, hash = 'sha256' }: { key?: string | Buffer; hash?: string } = {}) {
  const signed = `${base64url(header)}.${base64url(payload)}`;
  return `${signed}.${createHmac(hash, key ?? JWT_SECRET).update(signed).digest('base64url')}`;
}
const hs256 = (payload: object) => hmacJwt({ alg: 'HS256', typ: 'JWT' }, payload);
/** Valid for ten minutes from now. */
const fresh = (claims: object) => ({ ...claims, iat: seconds(), exp: seconds() + 600 });
const controllerClaims = { role: 'controller', sub: 'matrix' };

const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
function rs256(payload: object) {
  const signed = `${base64url({ alg: 'RS256', typ: 'JWT' })}.${base64url(payload)}`;
  return `${signed}.${rsaSign('sha256', Buffer.from(signed), rsaKey).toString('base64url')}`;
}
const unsigned = (alg: string) => `${base64url({ alg, typ: 'JWT' })}.${base64url(fresh(controllerClaims))}.`;

/**
 * The credentials that must not let anyone in, each with what the 401's detail names. Each
 * carries a controller's claims, the role that may do the most: if one were taken, the cell
 * would answer as for the controller, and a write would land.
 */
const tokenProblems: Record<string, { authorization?: string; detail: RegExp }> = {
  none: { detail: /bearer token is required/ },
  'not a bearer token': { authorization: `Basic ${Buffer.from('vm-manager:hunter2').toString('base64')}`, detail: /Bearer <token>/ },
  'not a JWT': { authorization: 'Bearer not-a-jwt', detail: /malformed/ },
  expired: { authorization: `Bearer ${hs256({ ...controllerClaims, iat: seconds() - 660, exp: seconds() - 60 })}`, detail: /expired/ },
  'wrong secret': {
    authorization: `Bearer ${hmacJwt({ alg: 'HS256', typ: 'JWT' }, fresh(controllerClaims), { key: 'another-secret-of-at-least-thirty-two-chars' })}`,
    detail: /signature/,
  },
  'alg none': { authorization: `Bearer ${unsigned('none')}`, detail: /unsigned/ },
  'alg None': { authorization: `Bearer ${unsigned('None')}`, detail: /unsigned/ },
  'alg NONE': { authorization: `Bearer ${unsigned('NONE')}`, detail: /unsigned/ },
  HS512: { authorization: `Bearer ${hmacJwt({ alg: 'HS512', typ: 'JWT' }, fresh(controllerClaims), { hash: 'sha512' })}`, detail: /HS256/ },
  'RS256 header': { authorization: `Bearer ${rs256(fresh(controllerClaims))}`, detail: /HS256/ },
  'exp as a string': { authorization: `Bearer ${hs256({ ...controllerClaims, iat: seconds(), exp: String(seconds() + 600) })}`, detail: /exp/ },
  'nbf in the future': { authorization: `Bearer ${hs256({ ...fresh(controllerClaims), nbf: seconds() + 300 })}`, detail: /not valid yet/ },
  'no exp': { authorization: `Bearer ${hs256({ ...controllerClaims, iat: seconds() })}`, detail: /no exp/ },
  'over-long lifetime': {
    authorization: `Bearer ${hs256({ ...controllerClaims, iat: seconds(), exp: seconds() + MAX_TTL_S + 3600 })}`,
    detail: /lifetime .*LEDGER_TOKEN_MAX_TTL/,
  },
  'issued in the future, to outlive the cap': {
    authorization: `Bearer ${hs256({ ...controllerClaims, iat: seconds() + MAX_TTL_S, exp: seconds() + MAX_TTL_S + 600 })}`,
    detail: /LEDGER_TOKEN_MAX_TTL/,
  },
  'no ledger claims': { authorization: `Bearer ${hs256(fresh({ role: 'root', sub: 'matrix' }))}`, detail: /ledger claims/ },
};

// ---- Who asks -------------------------------------------------------------------------

const owner = `user-${randomUUID()}`;
const otherUser = `user-${randomUUID()}`;
const roles = ['controller', 'auditor', 'agent', 'otherAgent', 'owner', 'otherUser'] as const;
type Role = (typeof roles)[number];
const roleNames: Record<Role, string> = {
  controller: 'the controller',
  auditor: 'an auditor',
  agent: "the session's agent",
  otherAgent: "another session's agent",
  owner: "the owner's frontend",
  otherUser: "another user's frontend",
};
const controllerToken = hs256(fresh(controllerClaims));

/** A session of the owner's: its id, its VM, and the agent token its start answered. */
interface Subject {
  sessionId: string;
  vmId: string;
  agentToken: string;
}
async function startSession(userId = owner): Promise<Subject> {
  const vmId = `vm-${randomUUID()}`;
  const started = await ledger.call('POST', '/v1/sessions', { token: controllerToken, body: { userId, provider: 'gemini', browserVmId: vmId } });
  const { sessionId, agentToken } = StartedJson.parse(started.body);
  return { sessionId, vmId, agentToken };
}
const elsewhere = await startSession();
const shared = await startSession();
/** A moment after the sessions above started: a read as of it folds their streams. */
const asOfNow = new Date(Date.now() + 1000).toISOString();

function tokenOf(role: Role, subject: Subject): string {
  switch (role) {
    case 'controller':
      return controllerToken;
    case 'auditor':
      return hs256(fresh({ role: 'auditor', sub: 'matrix-auditor' }));
    case 'agent':
      return subject.agentToken;
    case 'otherAgent':
      return elsewhere.agentToken;
    case 'owner':
      return hs256(fresh({ role: 'frontend', sub: `user:${owner}`, userId: owner }));
    case 'otherUser':
      return hs256(fresh({ role: 'frontend', sub: `user:${otherUser}`, userId: otherUser }));
  }
}

// ---- The table ------------------------------------------------------------------------

interface Ask {
  method: string;
  path: string;
  body?: unknown;
}

interface Route {
  route: string;
  /** What is asked, about this session. */
  ask: (subject: Subject) => Ask;
  /** The answer to each role; a number when every caller gets it, credentials or not (a public route). */
  answers: Record<Role, number> | number;
  /** Each cell gets a session of its own: the request changes it. */
  fresh?: true;
}

const fact = (type: string, data: object) => ({ type, eventId: randomUUID(), data });
const eventsOf = ({ sessionId }: Subject) => `/v1/sessions/${sessionId}/events`;

// DESIGN.md: reads of a session are for its owner, the controller and the auditor (and, here,
// its own agent); a session a token may not see is not found. Facts are recorded by their
// writers: the agent (its own session) CredentialsStored and SessionFailed; the controller
// those and VmDestroyed; the frontend SessionCancelled (its user's sessions); SessionExpired
// by the ledger alone. A role refused a route outright gets 403 whatever the session.
const readOfSession = { controller: 200, auditor: 200, agent: 200, otherAgent: 404, owner: 200, otherUser: 404 };
const table: Route[] = [
  {
    route: 'POST /v1/sessions',
    ask: () => ({ method: 'POST', path: '/v1/sessions', body: { userId: owner, provider: 'gemini', browserVmId: `vm-${randomUUID()}` } }),
    answers: { controller: 201, auditor: 403, agent: 403, otherAgent: 403, owner: 403, otherUser: 403 },
  },
  {
    route: 'POST /v1/sessions/:id/events CredentialsStored',
    ask: (s) => ({ method: 'POST', path: eventsOf(s), body: fact('CredentialsStored', { provider: 'gemini', credentialRef: 'cred-matrix' }) }),
    answers: { controller: 201, auditor: 403, agent: 201, otherAgent: 404, owner: 403, otherUser: 403 },
    fresh: true,
  },
  {
    // Conditional on the revision a fresh session is at: another's session is at none, as an unknown one is.
    route: 'POST /v1/sessions/:id/events CredentialsStored, expectedRevision 0',
    ask: (s) => ({ method: 'POST', path: eventsOf(s), body: { ...fact('CredentialsStored', { provider: 'gemini', credentialRef: 'cred-matrix' }), expectedRevision: '0' } }),
    answers: { controller: 201, auditor: 403, agent: 201, otherAgent: 409, owner: 403, otherUser: 403 },
    fresh: true,
  },
  {
    route: 'POST /v1/sessions/:id/events SessionFailed',
    ask: (s) => ({ method: 'POST', path: eventsOf(s), body: fact('SessionFailed', { reason: 'consentDenied', errorMessage: 'the user said no' }) }),
    answers: { controller: 201, auditor: 403, agent: 201, otherAgent: 404, owner: 403, otherUser: 403 },
    fresh: true,
  },
  {
    route: 'POST /v1/sessions/:id/events VmDestroyed',
    ask: (s) => ({ method: 'POST', path: eventsOf(s), body: fact('VmDestroyed', { vmId: s.vmId, reason: 'cleaned up' }) }),
    answers: { controller: 201, auditor: 403, agent: 403, otherAgent: 403, owner: 403, otherUser: 403 },
    fresh: true,
  },
  {
    route: 'POST /v1/sessions/:id/events SessionCancelled',
    ask: (s) => ({ method: 'POST', path: eventsOf(s), body: fact('SessionCancelled', { cancelledBy: owner }) }),
    answers: { controller: 403, auditor: 403, agent: 403, otherAgent: 403, owner: 201, otherUser: 404 },
    fresh: true,
  },
  {
    route: 'POST /v1/sessions/:id/events SessionExpired',
    ask: (s) => ({ method: 'POST', path: eventsOf(s), body: fact('SessionExpired', { expiresAt: new Date().toISOString() }) }),
    answers: { controller: 403, auditor: 403, agent: 403, otherAgent: 403, owner: 403, otherUser: 403 },
    fresh: true,
  },
  {
    route: 'POST /v1/vms/:vmId/destroyed',
    ask: (s) => ({ method: 'POST', path: `/v1/vms/${s.vmId}/destroyed`, body: { reason: 'cleaned up' } }),
    answers: { controller: 201, auditor: 403, agent: 403, otherAgent: 403, owner: 403, otherUser: 403 },
    fresh: true,
  },
  { route: 'GET /v1/sessions/:id', ask: (s) => ({ method: 'GET', path: `/v1/sessions/${s.sessionId}` }), answers: readOfSession },
  { route: 'GET /v1/sessions/:id?asOf=', ask: (s) => ({ method: 'GET', path: `/v1/sessions/${s.sessionId}?asOf=${asOfNow}` }), answers: readOfSession },
  { route: 'GET /v1/sessions/:id/events', ask: (s) => ({ method: 'GET', path: eventsOf(s) }), answers: readOfSession },
  { route: 'GET /v1/sessions/:id/timeline', ask: (s) => ({ method: 'GET', path: `/v1/sessions/${s.sessionId}/timeline` }), answers: readOfSession },
  { route: 'GET /v1/sessions/:id/watch', ask: (s) => ({ method: 'GET', path: `/v1/sessions/${s.sessionId}/watch` }), answers: readOfSession },
  {
    route: 'POST /v1/watch-tickets',
    ask: (s) => ({ method: 'POST', path: '/v1/watch-tickets', body: { sessionId: s.sessionId } }),
    answers: { controller: 201, auditor: 201, agent: 201, otherAgent: 404, owner: 201, otherUser: 404 },
  },
  {
    route: 'GET /v1/sessions',
    ask: () => ({ method: 'GET', path: '/v1/sessions' }),
    answers: { controller: 200, auditor: 200, agent: 403, otherAgent: 403, owner: 200, otherUser: 200 },
  },
  {
    route: "GET /v1/sessions?userId=<the owner's>",
    ask: () => ({ method: 'GET', path: `/v1/sessions?userId=${owner}` }),
    answers: { controller: 200, auditor: 200, agent: 403, otherAgent: 403, owner: 200, otherUser: 403 },
  },
  {
    route: 'GET /v1/sessions/watch',
    ask: () => ({ method: 'GET', path: '/v1/sessions/watch' }),
    answers: { controller: 200, auditor: 200, agent: 403, otherAgent: 403, owner: 403, otherUser: 403 },
  },
  {
    route: 'POST /api/auth/session/:sessionId/complete',
    ask: (s) => ({ method: 'POST', path: `/api/auth/session/${s.sessionId}/complete`, body: { credentialRef: 'cred-legacy' } }),
    answers: { controller: 201, auditor: 403, agent: 201, otherAgent: 404, owner: 403, otherUser: 403 },
    fresh: true,
  },
  { route: 'GET /api/auth/session/:sessionId', ask: (s) => ({ method: 'GET', path: `/api/auth/session/${s.sessionId}` }), answers: readOfSession },
  ...['export', 'verify', 'seals'].map(
    (name): Route => ({
      route: `GET /v1/audit/${name}`,
      ask: () => ({ method: 'GET', path: `/v1/audit/${name}` }),
      answers: { controller: 403, auditor: 200, agent: 403, otherAgent: 403, owner: 403, otherUser: 403 },
    }),
  ),
  {
    route: 'GET /v1/stats/outcomes',
    ask: () => ({ method: 'GET', path: '/v1/stats/outcomes' }),
    answers: { controller: 200, auditor: 200, agent: 403, otherAgent: 403, owner: 403, otherUser: 403 },
  },
  {
    route: 'GET /v1/webhooks',
    ask: () => ({ method: 'GET', path: '/v1/webhooks' }),
    answers: { controller: 200, auditor: 200, agent: 403, otherAgent: 403, owner: 403, otherUser: 403 },
  },
  {
    route: 'POST /v1/console/login',
    ask: () => ({ method: 'POST', path: '/v1/console/login' }),
    answers: { controller: 201, auditor: 201, agent: 403, otherAgent: 403, owner: 403, otherUser: 403 },
  },
  {
    route: 'GET /v1/console/login',
    ask: () => ({ method: 'GET', path: '/v1/console/login' }),
    answers: { controller: 200, auditor: 200, agent: 403, otherAgent: 403, owner: 403, otherUser: 403 },
  },
  // Anyone: the credentials are not looked at, good or bad.
  { route: 'DELETE /v1/console/login', ask: () => ({ method: 'DELETE', path: '/v1/console/login' }), answers: 204 },
  { route: 'GET /healthz', ask: () => ({ method: 'GET', path: '/healthz' }), answers: 200 },
  { route: 'GET /readyz', ask: () => ({ method: 'GET', path: '/readyz' }), answers: 200 },
  { route: 'GET /metrics', ask: () => ({ method: 'GET', path: '/metrics' }), answers: 200 },
  { route: 'GET /docs/json', ask: () => ({ method: 'GET', path: '/docs/json' }), answers: 200 },
];

// ---- Asking ---------------------------------------------------------------------------

interface Answer {
  status: number;
  type: string;
  wwwAuthenticate: string | null;
  /** The problem (or JSON) answered; null for an event stream, which is left unread. */
  body: Record<string, unknown> | null;
}

/** One request over a real socket; an event stream is closed as soon as its status is known. */
async function send({ method, path, body }: Ask, headers: Record<string, string>): Promise<Answer> {
  const abort = new AbortController();
  const response = await fetch(`${ledger.url}${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: abort.signal,
  });
  const type = response.headers.get('content-type') ?? '';
  let parsed: Record<string, unknown> | null = null;
  if (type.startsWith('text/event-stream')) abort.abort();
  else {
    const text = await response.text();
    if (/^application\/(problem\+)?json/.test(type)) parsed = JSON.parse(text) as Record<string, unknown>;
  }
  return { status: response.status, type, wwwAuthenticate: response.headers.get('www-authenticate'), body: parsed };
}

const lastPosition = () => ledger.store.lastPosition();
const kindOf: Record<number, string> = { 401: 'unauthenticated', 403: 'forbidden', 404: 'not-found', 409: 'revision-mismatch' };

/** Asks, checks the status, and that a refusal is a problem of its kind that wrote nothing. */
async function cell(t: Test, what: string, ask: Ask, headers: Record<string, string>, expected: number) {
  const before = await lastPosition();
  const answer = await send(ask, headers);
  t.equal(answer.status, expected, what, { body: answer.body });
  if (expected >= 400) {
    t.match(answer.type, /^application\/problem\+json/, `${what}: a problem`);
    t.match(answer.body, { type: `https://session-ledger.dev/problems/${kindOf[expected]}`, status: expected }, `${what}: ${kindOf[expected]}`);
    t.equal(await lastPosition(), before, `${what}: nothing was written`);
  }
  return answer;
}

/** The body of a 404 with the session's id taken out: what must not tell a hidden session from an unknown one. */
const withoutId = (body: Record<string, unknown> | null, sessionId: string) => JSON.parse(JSON.stringify(body).replaceAll(sessionId, '<id>')) as unknown;

for (const { route, ask, answers, fresh: ownSession } of table) {
  t.test(route, async (t) => {
    for (const [credential, { authorization, detail }] of Object.entries(tokenProblems)) {
      const expected = typeof answers === 'number' ? answers : 401;
      // Refused before any session is looked at; were it let in, the position would show it.
      const answer = await cell(t, `${credential}: ${expected}`, ask(shared), authorization ? { authorization } : {}, expected);
      if (expected === 401) {
        t.equal(answer.wwwAuthenticate, 'Bearer', `${credential}: WWW-Authenticate`);
        t.match(answer.body?.detail, detail, `${credential}: the detail names what is wrong`);
      }
    }
    for (const role of roles) {
      const expected = typeof answers === 'number' ? answers : answers[role];
      const subject = ownSession ? await startSession() : shared;
      const headers = { authorization: `Bearer ${tokenOf(role, subject)}` };
      const asked = ask(subject);
      const answer = await cell(t, `${roleNames[role]}: ${expected}`, asked, headers, expected);
      if ((role === 'otherAgent' || role === 'otherUser') && JSON.stringify(asked).includes(subject.sessionId)) {
        // The same request about a session that was never started: the same answer, but for the id.
        const unknown = { ...subject, sessionId: randomUUID() };
        const told = await send(ask(unknown), headers);
        t.equal(told.status, answer.status, `${roleNames[role]}: an unknown id answers ${answer.status} too`);
        t.same(withoutId(answer.body, subject.sessionId), withoutId(told.body, unknown.sessionId), `${roleNames[role]}: not told from an unknown id`);
      }
    }
  });
}

// ---- The console's cookie and a watch ticket: the same rules ---------------------------

t.test("the console's cookie meets the same token rules as the bearer header", async (t) => {
  const read: Ask = { method: 'GET', path: `/v1/sessions/${shared.sessionId}` };
  for (const [credential, { authorization, detail }] of Object.entries(tokenProblems)) {
    const token = authorization?.replace(/^Bearer /, '');
    if (!token || token === authorization) continue;
    const answer = await cell(t, `${credential} as the cookie: 401`, read, { cookie: `${CONSOLE_COOKIE}=${token}` }, 401);
    t.match(answer.body?.detail, detail, `${credential}: the detail names what is wrong`);
  }
  await cell(t, "another user's frontend as the cookie: 404", read, { cookie: `${CONSOLE_COOKIE}=${tokenOf('otherUser', shared)}` }, 404);
  await cell(t, 'the controller as the cookie: 200', read, { cookie: `${CONSOLE_COOKIE}=${controllerToken}` }, 200);
});

t.test('a watch ticket: forged, unsigned, expired or spent is a 401 naming why; for another session a 403', async (t) => {
  const watch = (sessionId: string, ticket: string): Ask => ({ method: 'GET', path: `/v1/sessions/${sessionId}/watch?ticket=${encodeURIComponent(ticket)}` });
  const issued = WatchTicketJson.parse((await ledger.call('POST', '/v1/watch-tickets', { token: tokenOf('owner', shared), body: { sessionId: shared.sessionId } })).body);
  const claims = JSON.parse(Buffer.from(issued.ticket.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  const tickets: Record<string, { ticket: string; detail: RegExp }> = {
    'not a JWT': { ticket: 'not-a-ticket', detail: /malformed/ },
    unsigned: { ticket: `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`, detail: /unsigned/ },
    'signed with the bearer secret': { ticket: hs256(claims), detail: /signature/ },
    'HS512': { ticket: hmacJwt({ alg: 'HS512', typ: 'JWT' }, claims, { hash: 'sha512' }), detail: /HS256/ },
    'a bearer token': { ticket: controllerToken, detail: /signature/ },
    // Signed with the tickets' own key (derived from the secret), but naming no watch.
    'no watch in it': {
      ticket: hmacJwt({ alg: 'HS256', typ: 'JWT' }, { jti: randomUUID(), exp: seconds() + 30 }, { key: createHmac('sha256', JWT_SECRET).update('session-ledger watch tickets').digest() }),
      detail: /not one this ledger issued/,
    },
  };
  for (const [what, { ticket, detail }] of Object.entries(tickets)) {
    const answer = await cell(t, `${what}: 401`, watch(shared.sessionId, ticket), {}, 401);
    t.match(answer.body?.detail, detail, `${what}: the detail names what is wrong`);
    t.match(answer.body?.detail, /watch ticket/, `${what}: and that it is about the ticket`);
  }
  await cell(t, 'a ticket for another session: 403', watch(elsewhere.sessionId, issued.ticket), {}, 403);
  const briefExp = seconds() + 5;
  const brief = await ledger.call('POST', '/v1/watch-tickets', {
    token: hs256({ role: 'frontend', sub: `user:${owner}`, userId: owner, iat: seconds(), exp: briefExp }),
    body: { sessionId: shared.sessionId },
  });
  t.ok(Date.parse(WatchTicketJson.parse(brief.body).expiresAt) <= briefExp * 1000, 'a ticket never outlives the token it was asked for with');
  await cell(t, 'the ticket, for its session: 200', watch(shared.sessionId, issued.ticket), {}, 200);
  const spent = await cell(t, 'the ticket again: 401', watch(shared.sessionId, issued.ticket), {}, 401);
  t.match(spent.body?.detail, /used/);
});

// ---- Tokens the ledger mints pass its own rules ----------------------------------------

t.test("`ledger token`'s tokens pass, up to the cap; over it, it refuses to mint one", async (t) => {
  const env = { LEDGER_JWT_SECRET: JWT_SECRET };
  const startWith = async (token: string) =>
    (await ledger.call('POST', '/v1/sessions', { token, body: { userId: owner, provider: 'codex', browserVmId: `vm-${randomUUID()}` } })).status;
  for (const ttl of [[], ['--ttl', '24h'], ['--ttl', `${MAX_TTL_S}`]]) {
    const minted = await runInProcess(['token', '--role', 'controller', ...ttl], env);
    t.equal(minted.code, 0, minted.stderr);
    t.equal(await startWith(minted.stdout.trim()), 201, `ledger token ${ttl.join(' ') || '(default ttl)'}: taken`);
  }
  const tooLong = await runInProcess(['token', '--role', 'controller', '--ttl', '25h'], env);
  t.equal(tooLong.code, 2, 'a usage error');
  t.match(tooLong.stderr, /LEDGER_TOKEN_MAX_TTL/, 'naming the cap');
  t.equal(tooLong.stdout, '', 'and no token');
  const lowered = await runInProcess(['token', '--role', 'auditor'], { ...env, LEDGER_TOKEN_MAX_TTL: '30m' });
  t.equal(lowered.code, 0, `a lower cap shortens the default ttl: ${lowered.stderr}`);
  const { iat, exp } = JSON.parse(Buffer.from(lowered.stdout.trim().split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
  t.equal(exp - iat, 1800, 'to the cap');
  for (const [cap, why] of [['forever', /a number of seconds/], ['10s', /at least a minute/], ['31d', /at most 30 days/]] as const) {
    const refused = await runInProcess(['token', '--role', 'auditor'], { ...env, LEDGER_TOKEN_MAX_TTL: cap });
    t.equal(refused.code, 2, `LEDGER_TOKEN_MAX_TTL=${cap}: a configuration error`);
    t.match(refused.stderr, why);
  }
});

t.test('a token without iat (as minted before it was required) is held to the cap from now', async (t) => {
  const start = (token: string) =>
    ledger.call('POST', '/v1/sessions', { token, body: { userId: owner, provider: 'codex', browserVmId: `vm-${randomUUID()}` } });
  t.equal((await start(hs256({ ...controllerClaims, exp: seconds() + 600 }))).status, 201, 'ten minutes left: taken');
  const before = await lastPosition();
  const refused = await start(hs256({ ...controllerClaims, exp: seconds() + MAX_TTL_S + 600 }));
  t.match(refused, { status: 401, body: { detail: /LEDGER_TOKEN_MAX_TTL/ } }, 'more than the cap left: refused');
  t.equal(await lastPosition(), before, 'nothing was written');
});

t.test("a session's agent token expires with the session, or at the cap, whichever comes first", async (t) => {
  const started = await ledger.call('POST', '/v1/sessions', {
    token: controllerToken,
    body: { userId: owner, provider: 'gemini', browserVmId: `vm-${randomUUID()}`, expiresAt: new Date(Date.now() + 3 * 86_400_000).toISOString() },
  });
  const { sessionId, agentToken } = StartedJson.parse(started.body);
  const { iat, exp } = JSON.parse(Buffer.from(agentToken.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
  t.equal(exp - iat, MAX_TTL_S, 'a three-day session: its agent token lasts the cap');
  const stored = await ledger.call('POST', `/v1/sessions/${sessionId}/events`, {
    token: agentToken,
    body: fact('CredentialsStored', { provider: 'gemini', credentialRef: 'cred-long' }),
  });
  t.equal(stored.status, 201, 'and is taken');
});

t.test('a token error raised past the authentication hook is still a 401 problem, never a 500', async (t) => {
  const app = Fastify({ logger: false });
  await app.register(problemDetails);
  app.get('/fast-jwt', () => createVerifier({ key: JWT_SECRET, algorithms: ['HS256'] })(unsigned('none')));
  app.get('/plugin', () => {
    throw Object.assign(new Error('no entry'), { statusCode: 401 });
  });
  t.teardown(() => app.close());
  for (const [path, detail] of [['/fast-jwt', /unsigned/], ['/plugin', /cannot be verified/]] as const) {
    const answer = await app.inject({ method: 'GET', url: path });
    t.equal(answer.statusCode, 401, path);
    t.equal(answer.headers['www-authenticate'], 'Bearer');
    t.match(answer.json(), { type: 'https://session-ledger.dev/problems/unauthenticated', detail }, `${path}: named`);
  }
});
