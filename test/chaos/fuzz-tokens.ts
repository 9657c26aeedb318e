/**
 * The tokens the route fuzzer sends, by name, so a counterexample names the token it used
 * ("alg none") rather than printing it: a valid one of every role, and hostile ones, each a
 * way a JWT can be wrong (its algorithm, its claims' types and times, its shape, its size).
 */
import { createHmac } from 'node:crypto';

const base64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT with this header and payload (objects, or their JSON text as it is), signed with HMAC `hash` and `secret` (no signature when `hash` is null). */
function jwt(header: unknown, payload: unknown, secret: string, hash: 'sha256' | 'sha384' | 'sha512' | null = 'sha256'): string {
  const input = `${base64url(header)}.${base64url(payload)}`;
  return `${input}.${hash === null ? '' : createHmac(hash, secret).update(input).digest('base64url')}`;
}

/** The fuzzer's tokens, by name: `valid` ones a ledger issues, `hostile` ones it must refuse with a 401. */
export function fuzzTokens(secret: string, { sessionId, userId }: { sessionId: string; userId: string }) {
  const now = Math.floor(Date.now() / 1000);
  const hour = now + 3600;
  const hs256 = { alg: 'HS256', typ: 'JWT' };
  const controller = { role: 'controller', sub: 'fuzz-controller', iat: now, exp: hour };
  const signed = (payload: unknown, header: unknown = hs256) => jwt(header, payload, secret);

  const valid = {
    controller: signed(controller),
    auditor: signed({ role: 'auditor', sub: 'fuzz-auditor', iat: now, exp: hour }),
    'frontend of the session': signed({ role: 'frontend', sub: `user:${userId}`, userId, iat: now, exp: hour }),
    'frontend of another user': signed({ role: 'frontend', sub: 'user:other', userId: 'other', iat: now, exp: hour }),
    'agent of the session': signed({ role: 'agent', sub: `agent:${sessionId}`, sessionId, iat: now, exp: hour }),
    'agent of another session': signed({ role: 'agent', sub: 'agent:other', sessionId: 'other-session', iat: now, exp: hour }),
  };

  const hostile = {
    'alg none': jwt({ alg: 'none', typ: 'JWT' }, controller, secret, null),
    'alg None': jwt({ alg: 'None' }, controller, secret, null),
    HS384: jwt({ alg: 'HS384', typ: 'JWT' }, controller, secret, 'sha384'),
    HS512: jwt({ alg: 'HS512', typ: 'JWT' }, controller, secret, 'sha512'),
    'RS256 header, HMAC signature': jwt({ alg: 'RS256', typ: 'JWT' }, controller, secret),
    'no alg': signed(controller, { typ: 'JWT' }),
    'alg a number': signed(controller, { alg: 256 }),
    'header crit': signed(controller, { ...hs256, crit: ['exp'] }),
    'header kid traversal': signed(controller, { ...hs256, kid: '../../../../etc/passwd' }),
    'header jku': signed(controller, { ...hs256, jku: 'http://127.0.0.1:1/keys' }),
    'header not JSON': jwt('{"alg":', controller, secret),
    'header an array': signed(controller, ['HS256']),
    'exp as string': signed({ ...controller, exp: String(hour) }),
    'exp as float': signed({ ...controller, exp: hour + 0.5 }),
    'exp past 2^53': signed(`{"role":"controller","sub":"x","exp":90071992547409930000}`),
    'exp 1e400': signed('{"role":"controller","sub":"x","exp":1e400}'),
    'exp negative': signed({ ...controller, exp: -1 }),
    'exp null': signed({ ...controller, exp: null }),
    expired: signed({ ...controller, iat: now - 7200, exp: now - 3600 }),
    'nbf in the future': signed({ ...controller, nbf: hour }),
    'nbf as string': signed({ ...controller, nbf: String(now) }),
    'iat in the future': signed({ ...controller, iat: hour + 3600 }),
    'iat as string': signed({ ...controller, iat: String(now) }),
    'another secret': jwt(hs256, controller, `${secret}-but-not-this-one`),
    'no ledger claims': signed({ sub: 'someone', iat: now, exp: hour }),
    'unknown role': signed({ ...controller, role: 'root' }),
    'role a number': signed({ ...controller, role: 1 }),
    'empty sub': signed({ ...controller, sub: '' }),
    'sub an object': signed({ ...controller, sub: { id: 1 } }),
    'agent without sessionId': signed({ role: 'agent', sub: 'agent:x', iat: now, exp: hour }),
    'agent of an invalid sessionId': signed({ role: 'agent', sub: 'agent:x', sessionId: '../x y', iat: now, exp: hour }),
    'frontend without userId': signed({ role: 'frontend', sub: 'user:x', iat: now, exp: hour }),
    'payload an array': signed(['controller']),
    'payload a string': signed('"controller"'),
    'payload null': signed(null),
    'payload not JSON': signed('{"role":'),
    'proto claims': signed('{"__proto__":{"role":"controller"},"sub":"x"}'),
    'constructor claims': signed('{"role":"controller","sub":"x","constructor":{"prototype":{"admin":true}}}'),
    'duplicate role': signed('{"role":"auditor","sub":"x","role":"controller"}'),
    'huge claims': signed({ ...controller, pad: 'x'.repeat(8000) }),
    'not base64': 'a!b.c$d.e%f',
    'two parts': `${base64url(hs256)}.${base64url(controller)}`,
    'four parts': `${signed(controller)}.extra`,
    'empty parts': '..',
    empty: '',
    'a word': 'controller',
    unicode: 'tökén.💥.x',
    'signature only': `..${createHmac('sha256', secret).update('').digest('base64url')}`,
  };

  return { valid, hostile, all: { ...valid, ...hostile } as Record<string, string> };
}

export type FuzzTokens = ReturnType<typeof fuzzTokens>;
