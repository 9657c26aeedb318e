import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StartedJson } from '../../src/contract/index.js';
import type { Principal } from '../../src/http/claims.js';
import { createTokenSigner } from '../../src/http/tokens.js';
import { JWT_SECRET, roleTokens } from './ledger-server.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/**
 * `ledger serve` as a real process, on 127.0.0.1 at a free port, over a SQLite file in a fresh
 * folder, with this test's TypeScript loader and `env` on top of the defaults. Bounded: killed
 * after `timeoutMs` if still running. `stop()` sends SIGTERM and gives the exit code.
 */
export async function serveLedger(env: Record<string, string> = {}, { timeoutMs = 300_000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-served-'));
  const db = join(dir, 'ledger.db');
  const server = spawn(process.execPath, [...process.execArgv, main, 'serve'], {
    env: { ...process.env, LEDGER_DB: db, LEDGER_PORT: '0', LEDGER_JWT_SECRET: JWT_SECRET, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
  const guard = setTimeout(() => server.kill('SIGKILL'), timeoutMs);
  /** Every log line it wrote, parsed. */
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  const url = await new Promise<string>((resolve, reject) => {
    void exited.then((code) => reject(new Error(`serve exited with ${code}`)));
    // Read to the end, always: a full pipe would stop the server.
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const text = partial + chunk;
      const complete = text.split('\n');
      partial = complete.pop()!;
      for (const line of complete.filter(Boolean)) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry.msg === 'ledger listening') resolve(entry.address as string);
      }
    });
  });
  const sign = createTokenSigner(JWT_SECRET, () => new Date());
  const token = (principal: Principal, ttlMs = 600_000) => sign(principal, new Date(Date.now() + ttlMs));
  const tokens = roleTokens(token);
  /** One JSON call to the API, as a platform's service makes it. */
  const call = async (method: 'GET' | 'POST', path: string, { token: bearer, body }: { token?: string; body?: unknown } = {}) => {
    const answer = await fetch(`${url}${path}`, {
      method,
      headers: { ...(bearer && { authorization: `Bearer ${bearer}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await answer.text();
    return { status: answer.status, body: text ? (JSON.parse(text) as unknown) : null };
  };

  return {
    url,
    db,
    lines,
    token,
    ...tokens,
    call,
    /** The VM manager starts a session of user-1 in a fresh VM. */
    startSession: async (provider = 'gemini') => {
      const vmId = `vm-${randomUUID()}`;
      const started = await call('POST', '/v1/sessions', { token: tokens.controller, body: { userId: 'user-1', provider, browserVmId: vmId } });
      return { ...StartedJson.parse(started.body), vmId };
    },
    /** Records `CredentialsStored`, as the agent (its token given) or the controller. */
    storeCredentials: (sessionId: string, { provider = 'gemini', as = tokens.controller } = {}) =>
      call('POST', `/v1/sessions/${sessionId}/events`, {
        token: as,
        body: { type: 'CredentialsStored', eventId: randomUUID(), data: { provider, credentialRef: 'cred-1' } },
      }),
    /** The VM manager reports the VM gone. */
    destroyVm: (vmId: string) => call('POST', `/v1/vms/${vmId}/destroyed`, { token: tokens.controller, body: { reason: 'VM cleaned up' } }),
    /** A crash or a power cut: SIGKILL, sent as this is called (not after an await), then the exit awaited. */
    kill: async () => {
      server.kill('SIGKILL');
      await exited;
      clearTimeout(guard);
      rmSync(dir, { recursive: true, force: true });
    },
    stop: async () => {
      server.kill('SIGTERM');
      const code = await exited;
      clearTimeout(guard);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

export type ServedLedger = Awaited<ReturnType<typeof serveLedger>>;
