/**
 * The subscriptions file: a bad one stops `serve` before it opens anything, naming the file
 * and the field; `GET /v1/webhooks` lists the good ones to the controller and the auditor,
 * without their secrets, and refuses everyone else.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { WebhooksJson } from '../../src/contract/index.js';
import { ConfigError } from '../../src/config.js';
import { parseSubscriptions } from '../../src/reactions/subscriptions.js';
import { runInProcess } from '../support/cli-in-process.js';
import { JWT_SECRET, PROVIDERS, startLedger } from '../support/ledger-server.js';

const SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
const good = { id: 'ops', url: 'http://127.0.0.1:9/hooks', secret: SECRET };

const dir = mkdtempSync(join(tmpdir(), 'ledger-webhooks-config-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** What parsing says of these subscriptions: null when they are good, else the error's message. */
function refusal(subscriptions: unknown): string | null {
  try {
    parseSubscriptions(JSON.stringify(subscriptions), PROVIDERS, 'hooks.json');
    return null;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message;
  }
}

t.test('each fault is named by its field', async (t) => {
  t.equal(refusal([good, { ...good, id: 'audit', statuses: ['completed'], eventTypes: ['VmDestroyed'], providers: ['gemini'] }]), null, 'good ones pass');
  const cases: [unknown, RegExp][] = [
    [[good, { ...good }], /1\.id: id ops is used twice/],
    [[{ ...good, url: 'ftp://example.com/' }], /0\.url: an http\(s\) URL/],
    [[{ ...good, url: 'https://ops:hunter2@example.com/hooks' }], /0\.url: no user or password in the URL/],
    [[{ ...good, secret: 'not-a-secret' }], /0\.secret: a Standard Webhooks secret/],
    [[{ ...good, secret: 'whsec_c2hvcnQ=' }], /0\.secret: the key after whsec_ must be at least 24 bytes/],
    [[{ ...good, statuses: ['pending'] }], /0\.statuses\.0:/],
    [[{ ...good, eventTypes: ['SessionExploded'] }], /0\.eventTypes\.0:/],
    [[{ ...good, providers: ['myspace'] }], /0\.providers\.0: one of the configured providers/],
    [[{ ...good, colour: 'blue' }], /0: .*colour/],
    [{ webhooks: [] }, /\(the file\):/],
  ];
  for (const [subscriptions, said] of cases) t.match(refusal(subscriptions), said, JSON.stringify(subscriptions));
  t.match(refusal(undefined), /hooks\.json/);
});

t.test('serve refuses a bad file at start, naming the file and the field, and opens nothing', async (t) => {
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify([{ ...good, url: 'mailto:ops@example.com' }]));
  const db = join(dir, 'never.db');
  const run = await runInProcess(['serve'], { LEDGER_DB: db, LEDGER_PORT: '0', LEDGER_JWT_SECRET: JWT_SECRET, LOG_LEVEL: 'silent', LEDGER_WEBHOOKS_FILE: file });
  t.equal(run.code, 2);
  t.match(run.stderr, `invalid webhooks file ${file}`);
  t.match(run.stderr, /0\.url: an http\(s\) URL/);
  t.notOk(existsSync(db), 'no database made');

  const missing = await runInProcess(['serve'], { LEDGER_DB: db, LEDGER_PORT: '0', LEDGER_JWT_SECRET: JWT_SECRET, LOG_LEVEL: 'silent', LEDGER_WEBHOOKS_FILE: join(dir, 'absent.json') });
  t.equal(missing.code, 2);
  t.match(missing.stderr, /absent\.json: cannot be read \(ENOENT\)/);
});

t.test('GET /v1/webhooks: the subscriptions for the controller and the auditor, never a secret; 401 and 403 otherwise', async (t) => {
  const subscriptions = parseSubscriptions(JSON.stringify([good, { ...good, id: 'failures', statuses: ['failed'], providers: ['codex'] }]), PROVIDERS, 'inline');
  const ledger = await startLedger({ webhooks: { subscriptions } });
  t.teardown(() => ledger.close());
  for (const token of [ledger.controller, ledger.auditor]) {
    const answer = await ledger.call('GET', '/v1/webhooks', { token });
    t.equal(answer.status, 200);
    const { webhooks } = WebhooksJson.parse(answer.body);
    t.same(
      webhooks.map(({ id, url, statuses, eventTypes, providers, deadLetters }) => ({ id, url, statuses, eventTypes, providers, deadLetters })),
      [
        { id: 'ops', url: good.url, statuses: null, eventTypes: null, providers: null, deadLetters: 0 },
        { id: 'failures', url: good.url, statuses: ['failed'], eventTypes: null, providers: ['codex'], deadLetters: 0 },
      ],
    );
    const text = JSON.stringify(answer.body);
    t.notMatch(text, 'whsec_', 'no secret');
    t.notMatch(text, SECRET.slice('whsec_'.length), 'not even its key');
  }
  t.equal((await ledger.call('GET', '/v1/webhooks')).status, 401, 'no token');
  t.equal((await ledger.call('GET', '/v1/webhooks', { token: ledger.frontend('user-1') })).status, 403, 'a frontend');
  t.equal((await ledger.call('GET', '/v1/webhooks', { token: ledger.agent('ses-1') })).status, 403, 'an agent');
});
