/**
 * Webhooks through crashes: `ledger serve` (a real process, bundled) is killed with SIGKILL
 * while it delivers, and started again, a few times over; sessions keep completing
 * meanwhile. In the end every completion reached the receiver (at least once: a message in
 * flight at a kill is sent again, with the same `webhook-id` and body), every message verifies
 * with `standardwebhooks`, and the subscription's checkpoint passed the whole log.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { createTokenSigner } from '../../src/http/tokens.js';
import { webhookIdOf } from '../../src/reactions/message.js';
import { serveBundled, type BundledServer } from '../support/bundled-ledger.js';
import { bundleLedger } from '../support/ledger-bundle.js';
import { seededRandom } from '../support/seeded-random.js';
import { within } from '../support/waits.js';
import { startReceiver } from '../support/webhook-receiver.js';

const KILLS = 3;
const SESSIONS_PER_ROUND = 12;
const JWT_SECRET = 'webhooks-crash-secret-of-at-least-thirty-two-characters';
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

t.setTimeout(180_000);
const dir = mkdtempSync(join(tmpdir(), 'ledger-webhooks-crash-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const bundle = await bundleLedger();
t.teardown(bundle.remove);

const seed = Number(process.env.WEBHOOK_SEED ?? Date.now() % 1_000_000);
t.comment(`seed ${seed} (WEBHOOK_SEED replays it)`);
const random = seededRandom(seed);

// Every answer a 200, some after a while: a kill often finds a message in flight.
const receiver = await startReceiver(() => (random.int(0, 2) === 0 ? { hangMs: random.int(20, 120) } : { status: 200 }));
t.teardown(() => receiver.close());
const webhooksFile = join(dir, 'webhooks.json');
writeFileSync(webhooksFile, JSON.stringify([{ id: 'outcomes', url: receiver.url('/hooks'), secret: SECRET, statuses: ['completed'], timeoutMs: 5000 }]));

const db = join(dir, 'ledger.db');
const start = () => serveBundled(bundle.files.main!, db, { LEDGER_JWT_SECRET: JWT_SECRET, LEDGER_WEBHOOKS_FILE: webhooksFile });
const controller = createTokenSigner(JWT_SECRET, () => new Date())({ role: 'controller', sub: 'webhooks-crash' }, new Date(Date.now() + 3_600_000));

async function call(server: BundledServer, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${controller}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A session started and completed; the event id of its completion. */
async function completeOne(server: BundledServer): Promise<string> {
  const started = await call(server, 'POST', '/v1/sessions', { userId: 'user-1', provider: 'gemini', browserVmId: `vm-${randomUUID()}` });
  if (started.status !== 201) throw new Error(`start answered ${started.status}`);
  const eventId = randomUUID();
  const stored = await call(server, 'POST', `/v1/sessions/${String(started.body.sessionId)}/events`, {
    type: 'CredentialsStored',
    eventId,
    data: { provider: 'gemini', credentialRef: `cred-${eventId}` },
  });
  if (stored.status !== 201) throw new Error(`the fact answered ${stored.status}`);
  return eventId;
}

const completions: string[] = [];
let server = await start();
for (let round = 0; round < KILLS; round++) {
  for (let i = 0; i < SESSIONS_PER_ROUND; i++) completions.push(await completeOne(server));
  // Killed once some of this round's messages are out, while the rest are on their way.
  await within(receiver.arrived('/hooks', completions.length - random.int(2, SESSIONS_PER_ROUND - 2)), 'deliveries under way', 30_000);
  await server.kill();
  server = await start();
  t.comment(`round ${round}: ${completions.length} completions, ${receiver.received.length} posts received, killed and started again`);
}
for (let i = 0; i < SESSIONS_PER_ROUND; i++) completions.push(await completeOne(server));

const expected = new Set(completions.map((eventId) => webhookIdOf('outcomes', eventId)));
await within(
  (async () => {
    for (;;) {
      const listed = await call(server, 'GET', '/v1/webhooks');
      const [subscription] = (listed.body as { webhooks: { lag: string }[] }).webhooks;
      const ids = new Set(receiver.received.map((taken) => taken.headers['webhook-id']));
      if (subscription?.lag === '0' && [...expected].every((id) => ids.has(id))) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })(),
  'every completion delivered and the checkpoint past the log',
  60_000,
);
await server.stop();

const webhook = new Webhook(SECRET);
const bodies = new Map<string, string>();
let repeats = 0;
for (const taken of receiver.received) {
  const id = taken.headers['webhook-id'];
  t.doesNotThrow(() => webhook.verify(taken.body, taken.headers), `${id} verifies`);
  const earlier = bodies.get(id);
  if (earlier === undefined) bodies.set(id, taken.body);
  else {
    repeats++;
    t.equal(taken.body, earlier, `${id}: sent again with the same body`);
  }
}
t.same(new Set(bodies.keys()), expected, `every completion, and nothing else, reached the receiver (${completions.length} across ${KILLS} kills; ${repeats} sent again)`);
