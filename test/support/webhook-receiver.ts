import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One POST as the receiver took it: what a receiver verifies. */
export interface Received {
  path: string;
  /** `traceparent` is empty unless the delivery was traced. */
  headers: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string; traceparent: string };
  body: string;
}

/** How the receiver answers a POST to a path: a status (and headers), or a hang for some ms before a 200, or never. */
export type Answer = { status: number; headers?: Record<string, string> } | { hangMs: number } | 'never';

/**
 * A real HTTP receiver on 127.0.0.1: keeps every POST, and answers each as `answer` says
 * for it. A hang is bounded by its ms (or lasts until `close`), so the sender's timeout is
 * what ends it.
 */
export async function startReceiver(answer: (request: Received) => Answer) {
  const received: Received[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const arrivals = new Set<() => void>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const header = (name: string) => String(request.headers[name] ?? '');
      const taken: Received = {
        path: request.url ?? '',
        headers: {
          'webhook-id': header('webhook-id'),
          'webhook-timestamp': header('webhook-timestamp'),
          'webhook-signature': header('webhook-signature'),
          traceparent: header('traceparent'),
        },
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(taken);
      for (const arrived of arrivals) arrived();
      const how = answer(taken);
      if (how === 'never') return;
      if ('hangMs' in how) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!response.destroyed) response.writeHead(200).end();
        }, how.hangMs);
        timers.add(timer);
        return;
      }
      response.writeHead(how.status, how.headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    /** Resolves once `count` POSTs to the path have arrived. */
    async arrived(path: string, count: number): Promise<void> {
      const enough = () => received.filter((taken) => taken.path === path).length >= count;
      if (enough()) return;
      await new Promise<void>((resolve) => {
        const check = () => {
          if (!enough()) return;
          arrivals.delete(check);
          resolve();
        };
        arrivals.add(check);
      });
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
