/**
 * The typed client's watch rides out a restart of a real `ledger serve`: SIGTERM during the
 * watch, then the same server (the same SQLite file, the same port) started again 5 s later.
 * The watch keeps reconnecting while nobody listens, resumes with Last-Event-ID once the
 * ledger is back, and the iterator yields every change once, in order: the ones recorded
 * before it got back in (the TCP proxy in front holds its connection until they are) too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import t from 'tap';
import { createLedgerClient, LedgerClientError, type WatchReconnect, type WatchUpdate } from '../../src/client/index.js';
import { AppendedJson, VmDestroyedJson } from '../../src/contract/index.js';
import { RESTART_RETRY_MS } from '../../src/http/live-stream.js';
import { serveLedger } from '../support/served-ledger.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { signal, within } from '../support/waits.js';

const DOWNTIME_MS = 5000;

t.test('a watch sees every change once, in order, across a restart 5 s after SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-restart-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The file outlives the first server: the second opens it, as a restarted service does.
  const db = join(dir, 'ledger.db');
  const env = { LEDGER_DB: db, LEDGER_WATCH_GRACE_MS: '120000' };
  const first = await serveLedger(env);
  let firstStopped = false;
  t.teardown(() => (firstStopped ? undefined : first.stop()));
  const proxy = await startTcpProxy(first.url);
  t.teardown(() => proxy.close());

  const session = await first.startSession();
  const watcher = createLedgerClient({
    baseUrl: proxy.url,
    token: first.controller,
    // A call of this client would not try twice; its watch is bound by nothing but its signal.
    retries: 0,
    // The top of each jitter range, so the waits below are known; a short cap keeps the test's
    // own waits short, the backoff still grows to it.
    random: () => 1,
    maxRetryDelayMs: 2 * RESTART_RETRY_MS,
  });
  const updates: WatchUpdate[] = [];
  const reconnects: (WatchReconnect & { at: number })[] = [];
  const pendingSeen = signal();
  const watching = (async () => {
    const onReconnect = (reconnect: WatchReconnect) => void reconnects.push({ ...reconnect, at: Date.now() });
    for await (const update of watcher.watch(session.sessionId, { signal: AbortSignal.timeout(120_000), onReconnect })) {
      updates.push(update);
      if (update.session.status === 'pending') pendingSeen.settle();
    }
  })();
  await within(pendingSeen.promise, 'the watch told pending', 20_000);

  const terminatedAt = Date.now();
  t.equal(await first.stop(), 0, 'the first server stopped on SIGTERM, cleanly');
  firstStopped = true;
  await delay(Math.max(0, terminatedAt + DOWNTIME_MS - Date.now()));
  // From here the watch's next connection waits in the proxy until the changes are recorded.
  proxy.hold();
  const second = await serveLedger({ ...env, LEDGER_PORT: new URL(first.url).port });
  const listeningAt = Date.now();
  t.teardown(() => second.stop());
  t.equal(second.url, first.url, 'the same address: the client was not told of the restart');
  const destroyed = await second.destroyVm(session.vmId);
  const late = await second.storeCredentials(session.sessionId);
  t.equal(destroyed.status, 201);
  t.equal(late.status, 201);
  proxy.release();
  await watching;

  t.same(
    updates.map(({ position, session }) => [session.status, position]),
    [
      ['pending', session.position],
      ['failed', VmDestroyedJson.parse(destroyed.body).position],
      ['completed', AppendedJson.parse(late.body).position],
    ],
    'every change, once, in order; the iterator ended at completed',
  );

  t.equal(reconnects[0]?.delayMs, RESTART_RETRY_MS, "the first wait is the server's retry: hint");
  t.ok(reconnects.length >= 2, 'it tried while nobody listened, and failed, before it got back');
  t.ok(
    reconnects.every(({ delayMs }) => delayMs <= 2 * RESTART_RETRY_MS),
    'no wait past the cap',
  );
  t.ok(
    reconnects.every(({ error }) => error instanceof LedgerClientError),
    'each failure was told as the client error it would have thrown',
  );
  // A refused attempt may leave no request in the proxy's record; the last one got through.
  const watches = proxy.connections.filter((connection) => connection.heads.some((head) => head.startsWith('GET')));
  t.match(watches.at(-1)?.heads[0], new RegExp(`last-event-id: ${session.position}\\r\\n`, 'i'), 'the one that got back in resumed after pending');

  // The figures, for the reader; no assertion above is on a duration.
  t.comment(`downtime: ${listeningAt - terminatedAt} ms from SIGTERM to listening again; ${updates.length} updates`);
  for (const { attempt, delayMs, error, at } of reconnects) t.comment(`reconnect ${attempt} at +${at - terminatedAt} ms after SIGTERM, waiting ${delayMs} ms: ${error.message}`);
});
