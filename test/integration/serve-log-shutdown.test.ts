/**
 * `ledger serve` whose log nobody reads, as a stalled log shipper leaves it, or whose reader
 * is gone (EPIPE): it goes on answering, holds at most LEDGER_LOG_BUFFER_BYTES of log (the
 * rest is dropped and counted on /metrics), and SIGTERM ends it: cleanly, or at the shutdown
 * deadline when a request holds the shutdown, whatever its log does. Real processes: a pipe
 * that fills up, and a process's exit, are the point.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { JWT_SECRET } from '../support/ledger-server.js';
import { openSocket, readUntilClosed } from '../support/raw-exchange.js';

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** Past this, a child still running is killed: the test fails on its signal rather than hang. */
const BOUND_MS = 90_000;
const LOG_BUFFER_BYTES = 16_384;

/**
 * `ledger serve` on a free port with its stdout a pipe: read until it says where it listens,
 * then never again (`stalled`), or closed (`gone`: its writes fail with EPIPE).
 */
async function serveUnread(reader: 'stalled' | 'gone', env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-unread-'));
  const child = spawn(process.execPath, [...process.execArgv, main, 'serve'], {
    env: { ...process.env, LEDGER_DB: join(dir, 'ledger.db'), LEDGER_PORT: '0', LEDGER_JWT_SECRET: JWT_SECRET, LOG_LEVEL: 'info', LEDGER_LOG_BUFFER_BYTES: String(LOG_BUFFER_BYTES), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const guard = setTimeout(() => child.kill('SIGKILL'), BOUND_MS);
  t.teardown(() => {
    clearTimeout(guard);
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  let text = '';
  const url = await new Promise<string>((resolve, reject) => {
    void exited.then(({ code }) => reject(new Error(`serve exited with ${code}`)));
    const listening = (chunk: string) => {
      text += chunk;
      const address = /"msg":"ledger listening"/.test(text) ? /"address":"([^"]+)"/.exec(text)?.[1] : undefined;
      if (address === undefined) return;
      child.stdout.off('data', listening);
      if (reader === 'stalled') child.stdout.pause();
      else child.stdout.destroy();
      resolve(address);
    };
    child.stdout.setEncoding('utf8').on('data', listening);
  });
  const dropped = async () => Number(/^ledger_log_lines_dropped_total (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
  /** Requests, each logged in a long line, until the log has dropped some; at most 100 rounds of 50. */
  const logUntilDropped = async () => {
    for (let round = 0; round < 100; round++) {
      await Promise.all(Array.from({ length: 50 }, () => fetch(`${url}/${'x'.repeat(4000)}`).then((answer) => answer.text())));
      if ((await dropped()) > 0) return round;
    }
    throw new Error('the log never dropped a line');
  };
  return { child, url, exited, dropped, logUntilDropped, fetch: (path: string) => fetch(`${url}${path}`) };
}

// Started together: each child spends its first seconds loading TypeScript. The second's
// shutdown will be held by a request: its deadline is short, its request timeout long.
const [stalled, gone] = await Promise.all([serveUnread('stalled'), serveUnread('gone', { LEDGER_SHUTDOWN_TIMEOUT_MS: '1000', LEDGER_REQUEST_TIMEOUT_MS: '600000' })]);

t.test('a log nobody reads: lines past the bound are dropped and counted, the ledger answers, SIGTERM ends it cleanly', async (t) => {
  await stalled.logUntilDropped();
  t.ok((await stalled.dropped()) > 0, 'lines dropped, counted on /metrics');
  t.equal((await stalled.fetch('/healthz')).status, 200, 'still answering');
  stalled.child.kill('SIGTERM');
  t.same(await stalled.exited, { code: 0, signal: null }, 'exited by itself, with 0');
});

t.test('a log whose reader is gone (EPIPE), and a request that holds the shutdown past its deadline: it exits at the deadline, with 1', async (t) => {
  await gone.logUntilDropped();
  t.ok((await gone.dropped()) > 0, 'lines dropped, counted on /metrics');
  t.equal((await gone.fetch('/healthz')).status, 200, 'still answering');
  // A body that never comes (the request timeout is ten minutes here): the request stays in flight.
  const socket = await openSocket(gone.url);
  const continued = new Promise((resolve) => socket.on('data', (chunk: string) => chunk.startsWith('HTTP/1.1 100') && resolve(chunk)));
  void readUntilClosed(socket, BOUND_MS).catch(() => undefined);
  socket.write(
    `POST /v1/sessions HTTP/1.1\r\nHost: ${new URL(gone.url).host}\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n{`,
  );
  await continued;
  gone.child.kill('SIGTERM');
  // A process that spun on its broken log, or waited on the request, would be killed by the guard instead.
  t.same(await gone.exited, { code: 1, signal: null }, 'exited by itself at LEDGER_SHUTDOWN_TIMEOUT_MS, with 1');
  socket.destroy();
});
