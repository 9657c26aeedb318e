import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { runInProcess } from '../support/cli-in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Runs `ledger` as a real process, with this test's TypeScript loader. */
async function ledger(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...process.execArgv, main, ...args], {
      env: { ...process.env, LEDGER_DB: join(dir, 'ledger.db'), ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

t.test('simulate records every flow for each provider, and history replays one', async (t) => {
  const run = await ledger(['simulate']);
  t.equal(run.code, 0, run.stderr);
  for (const provider of ['gemini', 'codex', 'claude-code']) {
    t.match(run.stdout, `${provider}: credentials stored, then the VM is cleaned up`);
  }
  t.match(run.stdout, /VmDestroyed\s+→ completed/, 'a VM clean-up after credentials leaves the session completed');
  t.match(run.stdout, /VmDestroyed\s+→ failed/, 'a VM destroyed first fails the session');
  t.match(run.stdout, 'anomaly: completedAfterFailure');
  t.match(run.stdout, "the agent's retried call: already recorded = true");
  t.match(run.stdout, /the second cancel is refused: session \S+ is already cancelled/);

  const sessionId = /gemini: the VM is destroyed before OAuth completes.*\(session (\S+)\)/.exec(run.stdout)![1]!;
  const history = await ledger(['history', sessionId]);
  t.equal(history.code, 0, history.stderr);
  t.match(history.stdout, `session ${sessionId}`);
  t.match(history.stdout, /#1 @\d+ \S+ VmDestroyed\s+→ failed/);
  t.match(history.stdout, /#2 @\d+ \S+ CredentialsStored → completed/);
  t.match(history.stdout, 'anomaly: completedAfterFailure');
});

/** The same dispatcher in this process: what a command says needs no process of its own (about 4 s each under the test loader). */
const inProcess = (args: string[], env: Record<string, string> = {}) => runInProcess(args, { LEDGER_DB: join(dir, 'ledger.db'), ...env });

t.test('mistakes are answered clearly', async (t) => {
  const unknown = await ledger(['frobnicate']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, 'unknown command "frobnicate"');
  t.match(unknown.stderr, 'simulate');

  const missing = await inProcess(['history', 'no-such-session']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, 'no session no-such-session');

  const badConfig = await inProcess(['history', 'x'], { LEDGER_SQLITE_SYNCHRONOUS: 'SOMETIMES', LEDGER_PROVIDERS: 'Gemini!' });
  t.equal(badConfig.code, 2);
  t.match(badConfig.stderr, 'LEDGER_SQLITE_SYNCHRONOUS');
  t.match(badConfig.stderr, 'LEDGER_PROVIDERS');

  const noCluster = await inProcess(['history', 'x'], { LEDGER_STORE: 'eventstoredb' });
  t.equal(noCluster.code, 2);
  t.match(noCluster.stderr, 'EVENTSTORE_CONNECTION_STRING: required when LEDGER_STORE=eventstoredb');

  const help = await inProcess(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /simulate\s+record/);
  t.match(help.stdout, /history\s+print/);
  t.match(help.stdout, /serve\s+run the ledger/);
  t.match(help.stdout, /token\s+mint/);
});

t.test('serve answers on 127.0.0.1 with a generated secret that token reads, and stops cleanly on SIGTERM', async (t) => {
  const db = join(dir, 'served', 'ledger.db');
  const env = { ...process.env, LEDGER_DB: db, LEDGER_PORT: '0', LOG_LEVEL: 'info' };
  const server = spawn(process.execPath, [...process.execArgv, main, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  const listening = new Promise<string>((resolve, reject) => {
    server.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry.msg === 'ledger listening') resolve(entry.address as string);
      }
    });
  });
  const timer = setTimeout(() => server.kill('SIGKILL'), 60_000);
  t.teardown(() => clearTimeout(timer));
  const address = await listening;
  t.match(address, /^http:\/\/127\.0\.0\.1:\d+$/, 'loopback by default');
  t.equal(statSync(`${db}.jwt-secret`).mode & 0o777, 0o600, 'the generated secret is private to its owner');

  const minted = await ledger(['token', '--role', 'controller'], { LEDGER_DB: db });
  t.equal(minted.code, 0, minted.stderr);
  const controller = minted.stdout.trim();
  const started = await fetch(`${address}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${controller}`, 'content-type': 'application/json' },
    body: JSON.stringify({ userId: 'user-1', provider: 'gemini', browserVmId: 'vm-served' }),
  });
  t.equal(started.status, 201, 'a token minted by the CLI is accepted by the server');

  const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
  server.kill('SIGTERM');
  t.equal(await exited, 0, 'exits 0');
  t.ok(lines.some((line) => line.msg === 'projector stopped'), 'the projector stopped after its transaction');

  const badRole = await ledger(['token', '--role', 'root'], { LEDGER_DB: db });
  t.equal(badRole.code, 2);
  const agentWithoutSession = await ledger(['token', '--role', 'agent'], { LEDGER_DB: db });
  t.equal(agentWithoutSession.code, 2);
  t.match(agentWithoutSession.stderr, 'needs --session-id');
  const noSecret = await ledger(['token', '--role', 'auditor'], { LEDGER_DB: join(dir, 'nowhere', 'ledger.db') });
  t.equal(noSecret.code, 2);
  t.match(noSecret.stderr, 'no token secret');
});
