/**
 * The console's login: an auditor or a controller posts a bearer token once and gets an
 * HttpOnly, SameSite=Strict cookie; the ledger takes that cookie on reads only, so a page can
 * never write with it. A frontend or an agent token cannot log in, nor read the console's data.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CONSOLE_COOKIE, ConsoleLoginJson, ProblemJson } from '../../src/contract/index.js';
import { JWT_SECRET, startLedger } from '../support/ledger-server.js';

const site = mkdtempSync(join(tmpdir(), 'ledger-console-site-'));
t.teardown(() => rmSync(site, { recursive: true, force: true }));
writeFileSync(join(site, 'index.html'), '<!doctype html><title>console</title>');

const ledger = await startLedger({ consoleRoot: site });
t.teardown(() => ledger.close());
const { call, controller, auditor } = ledger;

/** Logs in with `token`; the cookie the answer sets, as a browser would send it back, and its attributes. */
async function login(token: string) {
  const answer = await call('POST', '/v1/console/login', { token });
  const setCookie = answer.headers.get('set-cookie') ?? '';
  return { answer, setCookie, cookie: setCookie.split(';')[0]! };
}

t.test('an auditor logs in once: an HttpOnly, SameSite=Strict cookie, then reads with it alone', async (t) => {
  const { answer, setCookie, cookie } = await login(auditor);
  t.equal(answer.status, 201);
  t.match(ConsoleLoginJson.parse(answer.body), { role: 'auditor', sub: 'audit' });
  t.match(setCookie, new RegExp(`^${CONSOLE_COOKIE}=[^;]+;`));
  t.match(setCookie, /; HttpOnly/, 'no script reads it');
  t.match(setCookie, /; SameSite=Strict/, 'no other site sends it');
  t.match(setCookie, /; Path=\//);
  t.notMatch(setCookie, /Secure/, 'over plain http (loopback), not Secure: the browser would drop it');

  const me = await call('GET', '/v1/console/login', { headers: { cookie } });
  t.match(me, { status: 200, body: { role: 'auditor', sub: 'audit' } });
  for (const path of ['/v1/sessions', '/v1/stats/outcomes', '/v1/audit/verify', '/v1/audit/seals']) {
    t.equal((await call('GET', path, { headers: { cookie } })).status, 200, `${path} with the cookie alone`);
  }
});

t.test('the login lasts a working day at most, and never longer than the token it was made from', async (t) => {
  const long = await login(ledger.token({ role: 'auditor', sub: 'audit' }, 24 * 3_600_000));
  const expiresAt = Date.parse(ConsoleLoginJson.parse(long.answer.body).expiresAt!);
  t.ok(expiresAt <= Date.now() + 8 * 3_600_000 + 1000 && expiresAt > Date.now() + 7 * 3_600_000, 'eight hours');
  const short = await login(ledger.token({ role: 'controller', sub: 'brief' }, 60_000));
  const shortExpiry = Date.parse(ConsoleLoginJson.parse(short.answer.body).expiresAt!);
  t.ok(shortExpiry <= Date.now() + 60_000, "the token's own expiry");
  t.match(short.setCookie, /; Expires=/);
});

t.test('a token whose exp is past any date (1e400, as its JSON says) is a 401 naming the claim, not a 500 from an invalid date', async (t) => {
  // Signed with the ledger's secret: only its JSON text can say 1e400, which JSON.parse reads as Infinity.
  const input = ['{"alg":"HS256","typ":"JWT"}', '{"role":"auditor","sub":"far","exp":1e400}'].map((part) => Buffer.from(part).toString('base64url')).join('.');
  const farToken = `${input}.${createHmac('sha256', JWT_SECRET).update(input).digest('base64url')}`;
  const me = await call('GET', '/v1/console/login', { token: farToken });
  t.equal(me.status, 401);
  t.match(ProblemJson.parse(me.body), { type: /unauthenticated/, detail: /exp that is not a number of seconds/ });
  const { answer } = await login(farToken);
  t.equal(answer.status, 401, 'no login either');
});

t.test('the cookie is taken on reads only: a write with it is a 401 and records nothing', async (t) => {
  const { cookie } = await login(controller);
  const before = (await ledger.store.readAll()).length;
  const write = await call('POST', '/v1/sessions', { headers: { cookie }, body: { userId: 'user-1', provider: 'gemini', browserVmId: 'vm-cookie' } });
  t.equal(write.status, 401);
  t.match(ProblemJson.parse(write.body).detail, "the console's cookie is taken on reads only");
  const listed = await call('GET', '/v1/sessions?userId=user-1', { token: controller });
  t.same((listed.body as { sessions: unknown[] }).sessions, [], 'no session was started');
  t.equal((await ledger.store.readAll()).length, before, 'nothing was appended');
  const ticket = await call('POST', '/v1/watch-tickets', { headers: { cookie }, body: { sessionId: randomUUID() } });
  t.equal(ticket.status, 401, 'a ticket is a write too: it takes the bearer token');
});

t.test('a frontend or an agent token cannot log in, nor read what only the console shows', async (t) => {
  for (const [who, token] of [
    ['frontend', ledger.frontend('user-1')],
    ['agent', ledger.agent('session-1')],
  ] as const) {
    const { answer, setCookie } = await login(token);
    t.equal(answer.status, 403, `${who}: refused`);
    t.match(ProblemJson.parse(answer.body).detail, 'it takes an auditor or controller token');
    t.equal(setCookie, '', `${who}: no cookie`);
    t.equal((await call('GET', '/v1/stats/outcomes', { token })).status, 403, `${who}: no outcome charts`);
    t.equal((await call('GET', '/v1/sessions/watch', { token, headers: { accept: 'text/event-stream' } })).status, 403, `${who}: no live list`);
    t.equal((await call('GET', '/v1/audit/verify', { token })).status, 403, `${who}: no verify`);
    t.equal((await call('GET', '/v1/console/login', { token })).status, 403, `${who}: the console says who may`);
  }
});

t.test('no login, a forged cookie or one from another ledger: 401 problems, never a 500', async (t) => {
  t.equal((await call('GET', '/v1/console/login')).status, 401);
  for (const cookie of [`${CONSOLE_COOKIE}=garbage`, `${CONSOLE_COOKIE}=a.b.c`, `${CONSOLE_COOKIE}=`, `${CONSOLE_COOKIE}=%E0%A4%A`, 'other=1']) {
    const answer = await call('GET', '/v1/sessions', { headers: { cookie } });
    t.equal(answer.status, 401, cookie);
    t.match(answer.type, 'application/problem+json');
  }
});

t.test('logging out clears the cookie', async (t) => {
  const out = await call('DELETE', '/v1/console/login');
  t.equal(out.status, 204);
  t.match(out.headers.get('set-cookie'), new RegExp(`^${CONSOLE_COOKIE}=;.*Expires=Thu, 01 Jan 1970`));
});

t.test('the console is served at /console/, with a policy that keeps its pages to their own origin', async (t) => {
  const bare = await fetch(`${ledger.url}/console`, { redirect: 'manual' });
  t.equal(bare.status, 301);
  t.equal(bare.headers.get('location'), '/console/');
  const page = await fetch(`${ledger.url}/console/`);
  t.equal(page.status, 200);
  t.match(await page.text(), '<title>console</title>');
  t.match(page.headers.get('content-security-policy'), "default-src 'self'");
  t.match(page.headers.get('content-security-policy'), "frame-ancestors 'none'");
  t.equal(page.headers.get('x-content-type-options'), 'nosniff');
  t.equal((await fetch(`${ledger.url}/console/missing.js`)).status, 404);
});

t.test('a ledger whose console is not built says how to build it', async (t) => {
  const unbuilt = await startLedger({ over: 'inject', consoleRoot: join(site, 'nowhere') });
  t.teardown(() => unbuilt.close());
  const answer = await unbuilt.call('GET', '/console/');
  t.equal(answer.status, 404);
  t.match(ProblemJson.parse(answer.body).detail, 'npm run build');
});

t.test('the frontend example is served at /example/', async (t) => {
  const page = await fetch(`${ledger.url}/example/`);
  t.equal(page.status, 200);
  t.match(await page.text(), '<script type="module" src="status.js"></script>');
  const script = await fetch(`${ledger.url}/example/status.js`);
  t.match(script.headers.get('content-type'), 'javascript');
  const code = await script.text();
  t.match(code, 'new EventSource(url)');
  t.match(code, 'waiting for login');
});

t.test('neither the cookie nor the token it came from reaches the logs', async (t) => {
  const { cookie } = await login(auditor);
  await call('GET', '/v1/sessions', { headers: { cookie } });
  const token = cookie.slice(CONSOLE_COOKIE.length + 1);
  t.notOk(ledger.logs.some((line) => line.includes(token) || line.includes(auditor)));
});
