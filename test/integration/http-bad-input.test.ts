import { randomUUID } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import t from 'tap';
import { SessionEventsJson, StartedJson } from '../../src/contract/index.js';
import { JWT_SECRET, startLedger } from '../support/ledger-server.js';

// Validation and authorization need no socket: the requests go through fastify's inject, and
// meet the same content-type parsers, schemas, hooks and error handler.
const ledger = await startLedger({ bodyLimit: 4096, over: 'inject' });
t.teardown(() => ledger.close());
const { call, controller } = ledger;

const started = await call('POST', '/v1/sessions', { token: controller, body: { userId: 'user-1', provider: 'gemini', browserVmId: 'vm-bad-input' } });
const { sessionId, agentToken } = StartedJson.parse(started.body);
const fact = () => ({ type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'gemini', credentialRef: 'cred-1' } });
const expired = ledger.token({ role: 'controller', sub: 'old' }, -60_000);
const forged = createSigner({ key: 'another-secret-of-at-least-thirty-two-chars', algorithm: 'HS256' })({ role: 'controller', sub: 'mallory' });
const noClaims = createSigner({ key: JWT_SECRET, algorithm: 'HS256' })({ sub: 'someone', role: 'root' });

interface Case {
  what: string;
  method?: string;
  path?: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  type: string;
}

const events = `/v1/sessions/${sessionId}/events`;
const complete = `/api/auth/session/${sessionId}/complete`;
const cases: Case[] = [
  { what: 'malformed JSON', body: '{"type": "CredentialsStored",', status: 400, type: 'validation' },
  { what: 'an unknown event type', body: { ...fact(), type: 'CredentialsLeaked' }, status: 400, type: 'validation' },
  { what: 'a token in data', body: { ...fact(), data: { provider: 'gemini', credentialRef: 'c', accessToken: 'ya29.a0Af' } }, status: 400, type: 'validation' },
  { what: 'an unknown key beside data', body: { ...fact(), refreshToken: '1//0g' }, status: 400, type: 'validation' },
  { what: 'a non-UUID eventId', body: { ...fact(), eventId: '12345' }, status: 400, type: 'validation' },
  { what: 'a provider outside the list', body: { ...fact(), data: { provider: 'bard', credentialRef: 'c' } }, status: 400, type: 'validation' },
  { what: "another session's id in data", body: { ...fact(), data: { provider: 'gemini', credentialRef: 'c', sessionId: 'other' } }, status: 400, type: 'validation' },
  { what: 'a non-numeric expectedRevision', body: { ...fact(), expectedRevision: '-1' }, status: 400, type: 'validation' },
  { what: 'no token', token: '', body: fact(), status: 401, type: 'unauthenticated' },
  { what: 'a forged token', token: forged, body: fact(), status: 401, type: 'unauthenticated' },
  { what: 'an expired token', token: expired, body: fact(), status: 401, type: 'unauthenticated' },
  { what: 'a token without ledger claims', token: noClaims, body: fact(), status: 401, type: 'unauthenticated' },
  { what: 'a token that is not a JWT', token: 'not.a.jwt', body: fact(), status: 401, type: 'unauthenticated' },
  { what: 'an auditor writing', token: ledger.auditor, body: fact(), status: 403, type: 'forbidden' },
  { what: 'a frontend recording credentials', token: ledger.frontend('user-1'), body: fact(), status: 403, type: 'forbidden' },
  { what: "an agent of another session: to it, none", token: ledger.agent('another-session'), body: fact(), status: 404, type: 'not-found' },
  { what: 'an agent destroying a VM', token: agentToken, body: { ...fact(), type: 'VmDestroyed', data: { vmId: 'vm-bad-input', reason: 'x' } }, status: 403, type: 'forbidden' },
  { what: 'anyone recording SessionExpired', body: { ...fact(), type: 'SessionExpired', data: { expiresAt: new Date().toISOString() } }, status: 403, type: 'forbidden' },
  { what: 'SessionStarted through the events route', body: { ...fact(), type: 'SessionStarted', data: { userId: 'u', provider: 'gemini', browserVmId: 'v', expiresAt: new Date(Date.now() + 60_000).toISOString() } }, status: 403, type: 'forbidden' },
  { what: 'a frontend starting a session', path: '/v1/sessions', token: ledger.frontend('user-1'), body: { userId: 'user-1', provider: 'gemini', browserVmId: 'vm-x' }, status: 403, type: 'forbidden' },
  { what: 'a start with a provider outside the list', path: '/v1/sessions', body: { userId: 'user-1', provider: 'bard', browserVmId: 'vm-x' }, status: 400, type: 'validation' },
  { what: 'a start that has already expired', path: '/v1/sessions', body: { userId: 'user-1', provider: 'gemini', browserVmId: 'vm-x', expiresAt: '2020-01-01T00:00:00Z' }, status: 400, type: 'validation' },
  { what: 'an oversized body', body: { ...fact(), data: { provider: 'gemini', credentialRef: 'x'.repeat(5000) } }, status: 413, type: 'payload-too-large' },
  { what: 'a body that is not JSON', body: 'type=CredentialsStored', headers: { 'content-type': 'text/plain' }, status: 415, type: 'unsupported-media-type' },
  { what: 'an unknown session', path: `/v1/sessions/no-such-session/events`, body: fact(), status: 404, type: 'not-found' },
  { what: 'a VM no session ran in', path: '/v1/vms/vm-nowhere/destroyed', body: { reason: 'clean-up' }, status: 404, type: 'not-found' },
  { what: 'reading an unknown session', method: 'GET', path: '/v1/sessions/no-such-session', status: 404, type: 'not-found' },
  { what: "a frontend reading another user's session: not found", method: 'GET', path: `/v1/sessions/${sessionId}`, token: ledger.frontend('user-2'), status: 404, type: 'not-found' },
  { what: 'an agent listing sessions', method: 'GET', path: '/v1/sessions', token: agentToken, status: 403, type: 'forbidden' },
  { what: 'an unknown route', method: 'GET', path: '/v2/everything', status: 404, type: 'not-found' },
  { what: 'an unknown query key', method: 'GET', path: `/v1/sessions/${sessionId}?debug=1`, status: 400, type: 'validation' },
  // The legacy routes: the same tokens, rules and problems as v1.
  { what: 'legacy: malformed JSON', path: complete, body: '{"credentialRef":', status: 400, type: 'validation' },
  { what: 'legacy: a token in the body', path: complete, body: { credentialRef: 'c', accessToken: 'ya29.x' }, status: 400, type: 'validation' },
  { what: 'legacy: no token', path: complete, token: '', status: 401, type: 'unauthenticated' },
  { what: 'legacy: a frontend completing', path: complete, token: ledger.frontend('user-1'), status: 403, type: 'forbidden' },
  { what: 'legacy: an agent of another session: to it, none', path: complete, token: ledger.agent('elsewhere'), status: 404, type: 'not-found' },
  { what: 'legacy: an unknown session', path: '/api/auth/session/no-such-session/complete', status: 404, type: 'not-found' },
  { what: 'legacy: an invalid session id', path: '/api/auth/session/bad%20id/complete', status: 400, type: 'validation' },
  { what: 'legacy: an oversized body', path: complete, body: { credentialRef: 'x'.repeat(5000) }, status: 413, type: 'payload-too-large' },
  { what: 'legacy: reading an unknown session', method: 'GET', path: '/api/auth/session/no-such-session', status: 404, type: 'not-found' },
  { what: "legacy: reading another user's session: not found", method: 'GET', path: `/api/auth/session/${sessionId}`, token: ledger.frontend('user-2'), status: 404, type: 'not-found' },
];

const snapshot = async () => ({
  last: await ledger.store.lastPosition(),
  events: (await ledger.store.readAll({ maxCount: 10_000 })).length,
});
const before = await snapshot();

for (const c of cases) {
  t.test(`${c.what}: ${c.status} ${c.type}`, async (t) => {
    const response = await call(c.method ?? 'POST', c.path ?? events, {
      token: c.token === undefined ? controller : c.token || undefined,
      body: c.body,
      headers: c.headers,
    });
    t.equal(response.status, c.status, JSON.stringify(response.body));
    t.match(response.type, 'application/problem+json');
    t.match(response.body, { type: `https://session-ledger.dev/problems/${c.type}`, status: c.status, title: String, detail: String });
    t.notMatch(JSON.stringify(response.body), /at .*\.(ts|js):\d+/, 'no stack trace');
    if (c.status === 401) t.equal(response.headers.get('www-authenticate'), 'Bearer');
  });
}

t.test('none of it changed the store', async (t) => {
  t.same(await snapshot(), before);
  const stream = await call('GET', events, { token: controller });
  t.same(SessionEventsJson.parse(stream.body).events.map((e) => e.type), ['SessionStarted']);
});
