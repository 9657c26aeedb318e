/**
 * The audit routes over a real server: auditors only; the export streamed as NDJSON that
 * checks out offline, page by page as the client reads; verify; the seals with their key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { writeNewSealKey } from '../../src/audit/seals.js';
import { verifyExport } from '../../src/audit/verify-export.js';
import { SealsDocument, StartedJson, VerifyReportJson } from '../../src/contract/index.js';
import type { ReadAllOptions } from '../../src/store/port.js';
import { startLedger } from '../support/ledger-server.js';
import { editStatus } from '../support/tamper.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-http-audit-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const keyFile = join(dir, 'seal.key');
writeNewSealKey(keyFile);

const ledger = await startLedger({ sealKeyFile: keyFile, synchronous: 'NORMAL' });
t.teardown(() => ledger.close());
const { call, controller, auditor } = ledger;

const sessions: string[] = [];
for (let i = 0; i < 3; i++) {
  const started = StartedJson.parse((await call('POST', '/v1/sessions', { token: controller, body: { userId: `user-${i}`, provider: 'gemini', browserVmId: `vm-audit-${i}` } })).body);
  sessions.push(started.sessionId);
  await call('POST', `/v1/sessions/${started.sessionId}/events`, {
    token: started.agentToken,
    body: { type: 'CredentialsStored', eventId: randomUUID(), data: { provider: 'gemini', credentialRef: `cred-${i}` } },
  });
}
const head = await ledger.store.lastPosition();
await ledger.projector.waitForPosition(head, 5000);

t.test('only an auditor token opens the audit routes: 401 without one, 403 with any other', async (t) => {
  const started = StartedJson.parse((await call('POST', '/v1/sessions', { token: controller, body: { userId: 'u', provider: 'gemini', browserVmId: 'vm-x' } })).body);
  const others = { controller, frontend: ledger.frontend('user-0'), agent: started.agentToken };
  for (const route of ['/v1/audit/export', '/v1/audit/verify', '/v1/audit/seals']) {
    const anonymous = await call('GET', route);
    t.equal(anonymous.status, 401, `${route} without a token`);
    t.match(anonymous.type, 'application/problem+json');
    for (const [role, token] of Object.entries(others)) {
      const refused = await call('GET', route, { token });
      t.equal(refused.status, 403, `${route} as ${role}`);
      t.match(refused.body, { type: /\/forbidden$/, detail: /takes an auditor token/ });
    }
    t.equal((await call('GET', route, { token: auditor })).status, 200, `${route} as auditor`);
  }
});

t.test('export: every event as NDJSON with position, revision and hash; filters; it checks out offline', async (t) => {
  const all = await call('GET', '/v1/audit/export', { token: auditor });
  t.match(all.type, 'application/x-ndjson');
  const lines = (all.body as string).trim().split('\n').map((line) => JSON.parse(line) as { position: string; streamName: string; revision: string; hash: string; metadata: { recordedAt: string } });
  t.ok(lines.length >= 6);
  t.match(lines[0], { position: /^\d+$/, streamName: `authSession-${sessions[0]}`, revision: '0', hash: /^[0-9a-f]{64}$/ });
  t.same(await verifyExport(Readable.from([all.body as string])), { lines: lines.length, events: lines.length, streams: lines.length - 6 + 3, unanchored: 0, chainBreaks: [], malformed: [] });

  const one = ((await call('GET', `/v1/audit/export?sessionId=${sessions[1]}`, { token: auditor })).body as string).trim().split('\n');
  t.equal(one.length, 2, "one session's events");
  const after = ((await call('GET', `/v1/audit/export?after=${lines[2]!.position}`, { token: auditor })).body as string).trim().split('\n');
  t.equal(after.length, lines.length - 3, 'after a position, exclusive');
  const since = lines[4]!.metadata.recordedAt;
  const until = lines[5]!.metadata.recordedAt;
  const inRange = ((await call('GET', `/v1/audit/export?since=${since}&until=${until}`, { token: auditor })).body as string).trim().split('\n');
  t.ok(inRange.length >= 2 && inRange.every((line) => { const at = (JSON.parse(line) as { metadata: { recordedAt: string } }).metadata.recordedAt; return at >= since && at <= until; }), 'a time range, inclusive');
  t.equal((await call('GET', '/v1/audit/export?after=x', { token: auditor })).status, 400);
});

t.test('export streams: while the client does not read, the ledger reads no more pages of the log', async (t) => {
  // 40 pages of events, in streams of 100.
  for (let stream = 0; stream < 400; stream++) {
    const sessionId = `bulk-${stream}`;
    const events = Array.from({ length: 100 }, (_, i) => ({
      type: 'VmDestroyed' as const,
      eventId: randomUUID(),
      data: { sessionId, vmId: `vm-${i}`, reason: 'x'.repeat(200) },
      metadata: { actor: { role: 'controller' as const, sub: 'bulk' }, recordedAt: new Date().toISOString() },
    }));
    await ledger.store.append(`authSession-${sessionId}`, events);
  }
  const { store } = ledger;
  let pages = 0;
  const readStoredAll = store.readStoredAll.bind(store);
  store.readStoredAll = (options?: ReadAllOptions) => {
    pages++;
    return readStoredAll(options);
  };
  t.teardown(() => void (store.readStoredAll = readStoredAll));
  const response = await fetch(`${ledger.url}/v1/audit/export`, { headers: { authorization: `Bearer ${auditor}` } });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const whilePaused = pages;
  // Socket buffers hold a few pages; without backpressure the ledger would have read all 40.
  t.ok(whilePaused < 20, `${whilePaused} of 40 pages read while the client read nothing more`);
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
  }
  t.ok(pages >= 40, `${pages} pages once the client read to the end (${bytes} bytes)`);
});

t.test('verify: clean; then a row edited behind the ledger is named', async (t) => {
  await ledger.projector.waitForPosition(await ledger.store.lastPosition(), 10_000);
  const clean = VerifyReportJson.parse((await call('GET', '/v1/audit/verify', { token: auditor })).body);
  t.match(clean, { clean: true, differences: [], chainBreaks: [] });
  t.ok(clean.checked >= 4);
  editStatus(ledger.dbPath, sessions[2]!, 'failed');
  const found = VerifyReportJson.parse((await call('GET', '/v1/audit/verify', { token: auditor })).body);
  t.match(found, { clean: false, differences: [{ sessionId: sessions[2], column: 'status', readModel: '"failed"', fold: '"completed"' }] });
});

t.test('seals: the document with its public key, each seal as the ledger keeps it', async (t) => {
  const before = SealsDocument.parse((await call('GET', '/v1/audit/seals', { token: auditor })).body);
  t.match(before, { algorithm: 'Ed25519', publicKey: /BEGIN PUBLIC KEY/, seals: [] });
  await ledger.ledger.sealer!.sealOnce();
  const after = SealsDocument.parse((await call('GET', '/v1/audit/seals', { token: auditor })).body);
  t.match(after.seals, [{ position: String(ledger.projector.position), previousSeal: null, headsHash: /^[0-9a-f]{64}$/ }]);
});

t.test('the OpenAPI document describes the audit routes', async (t) => {
  const docs = (await call('GET', '/docs/json')).body as { paths: Record<string, unknown> };
  for (const path of ['/v1/audit/export', '/v1/audit/verify', '/v1/audit/seals']) t.ok(docs.paths[path], path);
});
