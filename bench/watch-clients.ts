// Child role `watch-clients <port> <sessionId> <userId> <count> <first>`: `count` live watches
// of one session (`GET /v1/sessions/:id/watch`), each a raw HTTP request on a socket of its
// own, each with a token of its own (a frontend token of the session's user, minted with
// LEDGER_JWT_SECRET: the ledger holds a token to 20 open watches), reading just enough of the
// event stream to see the status. Prints two JSON lines: once every watch has its first
// status (or failed), `{ connected, failed, failures }`; then, once every connected watch saw
// the status change or the wait ran out, `{ seen, missed }`, where `seen` holds the moment
// (epoch ms, sub-millisecond, comparable across processes) each watch saw the change.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { tokenMinter } from './ledger-tokens.js';

/** Watches being opened at once: more would overflow the server's listen backlog, and SYNs dropped come back only after a second. */
const OPENING_AT_ONCE = 200;
/** How long, after its watches are open, a process waits for the change. */
const WAIT_FOR_CHANGE_MS = 120_000;

export interface WatchersConnected {
  connected: number;
  failed: number;
  /** Why the failed ones failed, counted: an HTTP status, or a socket error's code. */
  failures: Record<string, number>;
}

export interface WatchersSaw {
  seen: number[];
  missed: number;
}

const statusIn = /"status":"([a-z]+)"/;
const now = () => performance.timeOrigin + performance.now();

export async function watchClients([port, sessionId, userId, count, first]: string[]): Promise<void> {
  const secret = process.env.LEDGER_JWT_SECRET;
  if (port === undefined || sessionId === undefined || userId === undefined || count === undefined || first === undefined || secret === undefined) {
    throw new Error('usage: LEDGER_JWT_SECRET=… watch-clients <port> <sessionId> <userId> <count> <first>');
  }
  const mint = tokenMinter(secret);
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const failures: Record<string, number> = {};
  const fail = (why: string) => {
    failures[why] = (failures[why] ?? 0) + 1;
  };
  const seen: number[] = [];
  let changed: () => void = () => {};
  const allChanged = new Promise<void>((resolve) => (changed = resolve));
  let connected = 0;

  /** Opens one watch; resolves once it told the first status, or failed. */
  const open = (index: number) =>
    new Promise<void>((opened) => {
      let initial: string | undefined;
      let sawChange = false;
      let buffer = '';
      const token = mint({ role: 'frontend', sub: `bench-watcher-${index}`, userId });
      const req = request(
        { host: '127.0.0.1', port: Number(port), path: `/v1/sessions/${encodeURIComponent(sessionId)}/watch`, agent, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } },
        (res) => {
          if (res.statusCode !== 200) {
            fail(`HTTP ${res.statusCode}`);
            res.resume();
            opened();
            return;
          }
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffer += chunk;
            // Each SSE event ends with a blank line; only `status` events carry a status.
            for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
              const event = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              if (!event.includes('event: status')) continue;
              const status = statusIn.exec(event)?.[1];
              if (initial === undefined) {
                initial = status;
                connected++;
                opened();
              } else if (status !== initial && !sawChange) {
                // Read on to the stream's end, as a page does: cutting the socket would make
                // the server handle 10,000 resets while it is still telling the others.
                sawChange = true;
                seen.push(now());
                if (seen.length === connected) changed();
              }
            }
          });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A watch that had opened is counted as seen or missed, not failed.
        if (initial !== undefined) return;
        fail(error.code ?? error.message);
        opened();
      });
      req.end();
    });

  const total = Number(count);
  let next = 0;
  const opener = async () => {
    for (let index = next++; index < total; index = next++) await open(Number(first) + index);
  };
  await Promise.all(Array.from({ length: Math.min(OPENING_AT_ONCE, total) }, opener));
  const failed = total - connected;
  console.log(JSON.stringify({ connected, failed, failures } satisfies WatchersConnected));

  if (connected > 0) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allChanged, new Promise<void>((resolve) => (timer = setTimeout(resolve, WAIT_FOR_CHANGE_MS)))]);
    clearTimeout(timer);
  }
  console.log(JSON.stringify({ seen, missed: connected - seen.length } satisfies WatchersSaw));
  agent.destroy();
}
