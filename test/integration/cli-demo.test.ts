import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const dir = mkdtempSync(join(tmpdir(), 'ledger-demo-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const db = join(dir, 'ledger.db');

/** Runs `ledger` as a real process, with this test's TypeScript loader; bounded in time. */
async function ledger(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...process.execArgv, main, ...args], {
      env: { ...process.env, LEDGER_DB: db, ...env },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

/** `ledger serve` on a free port of 127.0.0.1, its secret generated beside LEDGER_DB; stopped by SIGTERM at teardown. */
async function serve() {
  const server = spawn(process.execPath, [...process.execArgv, main, 'serve'], {
    env: { ...process.env, LEDGER_DB: db, LEDGER_PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const guard = setTimeout(() => server.kill('SIGKILL'), 180_000);
  const exited = new Promise<number | null>((resolve) => server.on('exit', resolve));
  t.teardown(async () => {
    server.kill('SIGTERM');
    await exited;
    clearTimeout(guard);
  });
  return new Promise<string>((resolve, reject) => {
    void exited.then((code) => reject(new Error(`serve exited with ${code}`)));
    let buffered = '';
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (const line of buffered.split('\n').slice(0, -1)) {
        const entry = JSON.parse(line) as { msg?: string; address?: string };
        if (entry.msg === 'ledger listening') resolve(entry.address!);
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
  });
}

/** The lines of one flow's section of the demo's output, from its title to the blank line. */
function section(stdout: string, title: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.indexOf(title);
  if (start === -1) return [];
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

/** What the watch printed in a section: `sse @<position>` lines, as [position, status line]. */
const told = (lines: string[]) =>
  lines.flatMap((line) => {
    const match = /^ {2}sse @(\d+)\s+(.*)$/.exec(line);
    return match ? [[match[1]!, match[2]!] as const] : [];
  });

t.test('ledger demo plays every flow for each provider against a running ledger and prints the timelines it watched', async (t) => {
  const address = await serve();
  const run = await ledger(['demo'], { LEDGER_URL: address });
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stderr, '');
  t.match(run.stdout, new RegExp(`^ledger demo against ${address}: providers gemini, codex, claude-code, user demo-user-`));

  for (const provider of ['gemini', 'codex', 'claude-code']) {
    const success = section(run.stdout, `${provider} · credentials stored, then the VM is cleaned up`);
    t.match(told(success), [
      [/\d+/, 'pending'],
      [/\d+/, /^completed \(completed at \S+\)$/],
    ], `${provider}: pending, then completed`);
    t.match(success.join('\n'), /sse\s+the ledger ended the stream at completed\n.*destroyed: clean-up after OAuth\n.*read after @\d+: completed/);

    const late = section(run.stdout, `${provider} · the VM is destroyed before OAuth completes; the credentials arrive late`);
    const lateTold = told(late);
    t.match(lateTold, [
      [/\d+/, 'pending'],
      [/\d+/, 'failed (VM destroyed before OAuth completion)'],
      [/\d+/, /^completed \(completed at \S+; anomaly completedAfterFailure\)$/],
    ], `${provider}: pending, failed, then completed with the anomaly`);
    t.match(
      late.join('\n'),
      /failed \(VM destroyed before OAuth completion\)\n.*the watch stays open: a late success can still come\n.*CredentialsStored.*late.*\n.*sse @\d+ +completed.*\n.*the ledger ended the stream at completed/,
      'the same watch, left open after the failure, tells the late completion live, then ends',
    );
    const positions = lateTold.map(([position]) => BigInt(position));
    t.ok(positions[0]! < positions[1]! && positions[1]! < positions[2]!, 'positions increase: nothing repeated');

    const cancel = section(run.stdout, `${provider} · the user cancels`);
    t.match(told(cancel), [
      [/\d+/, 'pending'],
      [/\d+/, 'cancelled'],
    ]);
    t.match(cancel.join('\n'), /cancelled\n.*frontend +closes the watch/);
    t.match(cancel.at(-1), 'cancels again: refused, 409 conflict (session-already-terminal)');
  }
  t.match(run.stdout, 'done: 9 sessions');

  const again = await ledger(['demo'], { LEDGER_URL: address, LEDGER_PROVIDERS: 'codex' });
  t.equal(again.code, 0, 'it runs again against the same ledger');
  t.match(again.stdout, 'done: 3 sessions');

  const unknownProvider = await ledger(['demo'], { LEDGER_URL: address, LEDGER_PROVIDERS: 'netscape' });
  t.equal(unknownProvider.code, 1, 'a provider the ledger does not accept fails the run');
  t.match(unknownProvider.stderr, /the demo failed: POST \S+\/v1\/sessions: 400 .*provider "netscape" is not one of gemini, codex, claude-code/);

  const wrongSecret = await ledger(['demo'], { LEDGER_URL: address, LEDGER_JWT_SECRET: 'not-the-secret-the-server-generated-at-all' });
  t.equal(wrongSecret.code, 1);
  t.match(wrongSecret.stderr, `the ledger at ${address} refused the demo's token`);
  t.equal(wrongSecret.stdout, '', 'nothing played');
});

t.test('ledger demo with no ledger there: a clear message and exit 1', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
  await new Promise((resolve) => closed.close(resolve));

  const run = await ledger(['demo'], { LEDGER_URL: url, LEDGER_JWT_SECRET: 'a-secret-of-at-least-thirty-two-characters' });
  t.equal(run.code, 1);
  t.equal(run.stdout, '');
  t.match(run.stderr, `cannot reach the ledger at ${url}`);
  t.match(run.stderr, 'ECONNREFUSED');
  t.match(run.stderr, 'start it with `ledger serve`');
});

t.test('ledger demo refuses what it cannot use', async (t) => {
  const badUrl = await ledger(['demo'], { LEDGER_URL: 'localhost:3000' });
  t.equal(badUrl.code, 2);
  t.match(badUrl.stderr, 'LEDGER_URL');
  const extra = await ledger(['demo', '--fast']);
  t.equal(extra.code, 2);
  t.match(extra.stderr, "Unknown option '--fast'");
  const noSecret = await ledger(['demo'], { LEDGER_DB: join(dir, 'nowhere', 'ledger.db') });
  t.equal(noSecret.code, 2);
  t.match(noSecret.stderr, 'no token secret');
  const help = await ledger(['--help']);
  t.match(help.stdout, /demo\s+play the OAuth flows/);
  t.match(help.stdout, 'LEDGER_URL');
});
