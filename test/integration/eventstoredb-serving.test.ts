import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import t from 'tap';
import { createTokenSigner } from '../../src/http/tokens.js';
import { startEsdbEmulator } from '../emulator/esdb-emulator.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ledger-esdb-serving-'));
const secret = 'a-shared-secret-of-at-least-thirty-two-characters';
const emulator = await startEsdbEmulator();
const servers: ChildProcess[] = [];
t.teardown(async () => {
  for (const server of servers) server.kill('SIGKILL');
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `ledger serve` as a real process on the emulator, with a read-model file of its own. */
function serve(name: string): Promise<{ url: string; db: string }> {
  const db = join(dir, name, 'read-model.db');
  const env = {
    ...process.env,
    LEDGER_STORE: 'eventstoredb',
    EVENTSTORE_CONNECTION_STRING: emulator.connectionString,
    LEDGER_DB: db,
    LEDGER_PORT: '0',
    LEDGER_JWT_SECRET: secret,
    LEDGER_SWEEP_INTERVAL_MS: '0',
  };
  const server = spawn(process.execPath, [...process.execArgv, main, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(server);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start`)), 60_000);
    server.on('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
    let buffered = '';
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
        const entry = JSON.parse(buffered.slice(0, end)) as { msg?: string; address?: string };
        buffered = buffered.slice(end + 1);
        if (entry.msg === 'ledger listening') {
          clearTimeout(timer);
          resolve({ url: entry.address!, db });
        }
      }
    });
  });
}

const sign = createTokenSigner(secret, () => new Date());
const inAnHour = () => new Date(Date.now() + 3_600_000);
const controller = sign({ role: 'controller', sub: 'vm-manager' }, inAnHour());

async function call(url: string, method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

t.test('two ledger instances on one EventStoreDB: written through A, read as completed through B', async (t) => {
  const [a, b] = await Promise.all([serve('a'), serve('b')]);
  const vmId = `vm-${randomUUID()}`;
  const started = await call(a.url, 'POST', '/v1/sessions', controller, { userId: 'user-1', provider: 'gemini', browserVmId: vmId });
  t.equal(started.status, 201, 'started through A');
  const sessionId = started.body.sessionId as string;
  const stored = await call(a.url, 'POST', `/v1/sessions/${sessionId}/events`, started.body.agentToken as string, {
    type: 'CredentialsStored',
    eventId: randomUUID(),
    data: { provider: 'gemini', credentialRef: 'cred-1' },
  });
  t.equal(stored.status, 201);
  const destroyed = await call(a.url, 'POST', `/v1/vms/${vmId}/destroyed`, controller, { reason: 'clean-up' });
  t.equal(destroyed.status, 201, "A found the VM's session in its own read model");

  const read = await call(b.url, 'GET', `/v1/sessions/${sessionId}?after=${destroyed.body.position as string}`, controller);
  t.equal(read.status, 200, 'B waited until its projector had passed the position');
  t.match(read.body, { sessionId, status: 'completed', revision: '2', position: destroyed.body.position });

  for (const { db } of [a, b]) {
    const file = new Database(db, { readonly: true });
    t.equal(file.prepare('select status from auth_sessions where session_id = ?').pluck().get(sessionId), 'completed', `the read model in ${db}`);
    t.equal(file.prepare("select count(*) from sqlite_master where name = 'events'").pluck().get(), 0, 'holds no events: they live in EventStoreDB');
    file.close();
  }
});
