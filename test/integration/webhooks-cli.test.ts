/**
 * `ledger webhooks list|retry|replay` on a real SQLite file, against a real receiver on
 * 127.0.0.1: the list shows checkpoints, lag and dead letters and never a secret; a retry
 * posts the dead letter again (same `webhook-id`, signed anew) and removes it on a 2xx, keeps
 * it otherwise; a replay asked while `ledger serve` runs (another process) makes it deliver
 * again with the same ids; and `/metrics` counts the delivery per subscription.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { Webhook } from 'standardwebhooks';
import { createLedger } from '../../src/application/create-ledger.js';
import { sessionStreamName } from '../../src/events/index.js';
import { parseSubscriptions } from '../../src/reactions/subscriptions.js';
import { runInProcess } from '../support/cli-in-process.js';
import { newCredentialsStored, newSessionStarted } from '../support/events.js';
import { PROVIDERS } from '../support/ledger-server.js';
import { serveLedger } from '../support/served-ledger.js';
import { within } from '../support/waits.js';
import { startReceiver, type Answer } from '../support/webhook-receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-webhooks-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

let answer: Answer = { status: 500 };
const receiver = await startReceiver(() => answer);
t.teardown(() => receiver.close());

/** A webhooks file of one subscription, `ops`, posting to `path`. */
function webhooksFile(name: string, path: string): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify([{ id: 'ops', url: receiver.url(path), secret: SECRET, timeoutMs: 2000 }]));
  return file;
}

const until = async (done: () => Promise<boolean>, what: string, timeoutMs = 10_000) =>
  within(
    (async () => {
      while (!(await done())) await sleep(20);
    })(),
    what,
    timeoutMs,
  );

t.test('list shows the dead letter and no secret; retry keeps it on a failure, delivers and removes it on a 2xx', async (t) => {
  const file = webhooksFile('dead', '/dead');
  const db = join(dir, 'dead.db');
  const subscriptions = parseSubscriptions(JSON.stringify([{ id: 'ops', url: receiver.url('/dead'), secret: SECRET, timeoutMs: 2000 }]), PROVIDERS, 'inline');
  // Two quick attempts, both answered 500: the message is dead-lettered and the consumer goes on.
  const ledger = await createLedger({
    store: { kind: 'sqlite', path: db, synchronous: 'NORMAL' },
    providers: PROVIDERS,
    webhooks: { subscriptions, schedule: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } },
  });
  ledger.start();
  await ledger.store.append(sessionStreamName('gone'), [newSessionStarted('gone'), newCredentialsStored('gone')]);
  await until(async () => (await ledger.webhooks.list())[0]!.deadLetters === 1, 'the message is dead-lettered');
  await ledger.close();
  const [first] = receiver.received.filter(({ path }) => path === '/dead');
  const webhookId = first!.headers['webhook-id'];
  const env = { LEDGER_DB: db, LEDGER_WEBHOOKS_FILE: file };

  const listed = await runInProcess(['webhooks', 'list'], env);
  t.equal(listed.code, 0, listed.stderr);
  t.match(listed.stdout, /^ops {2}http:\/\/127\.0\.0\.1:\d+\/dead {2}checkpoint [1-9]\d* {2}lag 0 {2}dead letters 1$/m);
  t.match(listed.stdout, new RegExp(`^ {2}${webhookId} {2}ops {2}position \\d+ {2}attempts 2 {2}at \\S+ {2}last error: answered 500$`, 'm'));
  const json = await runInProcess(['webhooks', 'list', '--json'], env);
  t.equal(json.code, 0, json.stderr);
  const document = JSON.parse(json.stdout) as { webhooks: { id: string; deadLetters: number }[]; deadLetters: { webhookId: string; attempts: number }[] };
  t.match(document, { webhooks: [{ id: 'ops', deadLetters: 1 }], deadLetters: [{ webhookId, subscription: 'ops', attempts: 2, lastError: 'answered 500' }] });
  for (const run of [listed, json]) {
    t.notMatch(run.stdout, SECRET.slice('whsec_'.length, 'whsec_'.length + 16), 'no secret, nor part of its key');
    t.notMatch(run.stdout, 'whsec_');
  }

  const failed = await runInProcess(['webhooks', 'retry', webhookId], env);
  t.equal(failed.code, 1, 'a retry answered 500 fails');
  t.match(failed.stderr, `${webhookId} not delivered`);
  t.match(failed.stderr, 'answered 500; kept in the dead letters');
  t.match((await runInProcess(['webhooks', 'list'], env)).stdout, /dead letters 1$/m, 'kept');

  answer = { status: 204 };
  const retried = await runInProcess(['webhooks', 'retry', webhookId], env);
  t.equal(retried.code, 0, retried.stderr);
  t.match(retried.stdout, `delivered ${webhookId} to ops (answered 204); removed from the dead letters`);
  const again = receiver.received.at(-1)!;
  t.equal(again.headers['webhook-id'], webhookId, 'the same webhook-id');
  t.equal(again.body, first!.body, 'the stored body');
  t.ok(new Webhook(SECRET).verify(again.body, again.headers), 'signed with the subscription secret');
  const after = await runInProcess(['webhooks', 'list'], env);
  t.match(after.stdout, /dead letters 0$/m);
  t.match(after.stdout, /^no dead letters$/m);
  const gone = await runInProcess(['webhooks', 'retry', webhookId], env);
  t.equal(gone.code, 1);
  t.match(gone.stderr, `no dead letter ${webhookId}`);

  // Asked while no serve runs: the next start takes it, its checkpoint back at the position.
  t.equal((await runInProcess(['webhooks', 'replay', 'ops', '--from', '0'], env)).code, 0);
  const restarted = await createLedger({ store: { kind: 'sqlite', path: db, synchronous: 'NORMAL' }, providers: PROVIDERS, webhooks: { subscriptions } });
  t.teardown(() => restarted.close());
  const before = receiver.received.length;
  restarted.start();
  await within(receiver.arrived('/dead', 5), 'the replayed message arrives (after two attempts and two retries)');
  t.equal(receiver.received.length, before + 1, 'one message again');
  t.equal(receiver.received.at(-1)!.headers['webhook-id'], webhookId, 'with its webhook-id');
  await until(async () => (await restarted.webhooks.list())[0]!.checkpoint === (await restarted.store.lastPosition()), 'the checkpoint passes the log again');
  t.equal((await restarted.webhooks.list())[0]!.deadLetters, 0);
});

t.test('replay while serve runs: the running consumer delivers again, with the same webhook-ids; /metrics counts it', async (t) => {
  answer = { status: 200 };
  const file = webhooksFile('served', '/served');
  const served = await serveLedger({ LEDGER_WEBHOOKS_FILE: file });
  t.teardown(() => served.stop());
  for (let index = 0; index < 2; index++) {
    const { sessionId } = await served.startSession();
    t.equal((await served.storeCredentials(sessionId)).status, 201);
  }
  await within(receiver.arrived('/served', 2), 'both outcomes are delivered', 10_000);
  const firstIds = receiver.received.filter(({ path }) => path === '/served').map((taken) => taken.headers['webhook-id']);
  const env = { LEDGER_DB: served.db, LEDGER_WEBHOOKS_FILE: file };

  const asked = await runInProcess(['webhooks', 'replay', 'ops', '--from', '0'], env);
  t.equal(asked.code, 0, asked.stderr);
  t.match(asked.stdout, 'subscription ops will deliver again every wanted change after position 0');
  await within(receiver.arrived('/served', 4), 'both are delivered again', 15_000);
  const ids = receiver.received.filter(({ path }) => path === '/served').map((taken) => taken.headers['webhook-id']);
  t.same(ids.slice(2, 4), firstIds, 'again, in order, with the same webhook-ids');

  const scrape = async () => (await (await fetch(`${served.url}/metrics`)).text());
  let text = '';
  await until(async () => /^ledger_webhook_deliveries_total\{subscription="ops"\} 4$/m.test((text = await scrape())), 'the metrics count four deliveries');
  t.match(text, /^ledger_webhook_failed_attempts_total\{subscription="ops"\} 0$/m);
  t.match(text, /^ledger_webhook_dead_lettered_total\{subscription="ops"\} 0$/m);
  t.match(text, /^ledger_webhook_dead_letters\{subscription="ops"\} 0$/m);
  t.match(text, /^ledger_webhook_lag_positions\{subscription="ops"\} \d+$/m);
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (promtool.error) t.comment(`promtool not run: ${promtool.error.message}`);
  else t.equal(`${promtool.stdout}${promtool.stderr}`.trim(), '', 'promtool finds nothing to say');

  const past = await runInProcess(['webhooks', 'replay', 'ops', '--from', '1000000'], env);
  t.equal(past.code, 1, 'a position past the log is refused');
  t.match(past.stderr, /--from 1000000 is past the log's last session event \(position \d+\): nothing to replay/);
  const unknown = await runInProcess(['webhooks', 'replay', 'nobody', '--from', '0'], env);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, 'no subscription nobody');
});

t.test('misuse is a usage error', async (t) => {
  const env = { LEDGER_DB: join(dir, 'none.db') };
  for (const [args, said] of [
    [['webhooks', 'frob'], /unknown use "frob"/],
    [['webhooks', 'replay', 'ops'], /replay needs --from <position>/],
    [['webhooks', 'replay', 'ops', '--from', 'soon'], /--from takes a position/],
    [['webhooks', 'retry'], /missing the <webhook-id>/],
    [['webhooks', 'list', '--from', '3'], /--from is for replay/],
  ] as const) {
    const run = await runInProcess([...args], env);
    t.equal(run.code, 2, args.join(' '));
    t.match(run.stderr, said);
  }
});
