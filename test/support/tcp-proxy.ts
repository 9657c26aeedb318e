import { connect, createServer, type Socket } from 'node:net';

/** One client connection through the proxy: the request heads it sent, the bytes it was sent back. */
export interface ProxiedConnection {
  heads: string[];
  received: string;
  closed: boolean;
}

const REQUEST_LINE = /(?:^|\r\n)([A-Z]+) (\S+) HTTP\/1\.1\r\n[\s\S]*?\r\n\r\n/g;

/**
 * A TCP proxy on 127.0.0.1 in front of a ledger, to break the network on purpose between a
 * client and a real server: drop the answer to one request after the server has handled it
 * (the client sees its connection die, the server has recorded the write), cut every open
 * connection (a watch mid-stream), or hold new connections until released. HTTP/1.1 without
 * pipelining, so the bytes the server sends after a request line are that request's answer.
 */
export async function startTcpProxy(target: string) {
  const upstream = new URL(target);
  const connections: ProxiedConnection[] = [];
  const open = new Set<Socket>();
  const drops: { pattern: RegExp; dropped: () => void }[] = [];
  let release: Promise<void> = Promise.resolve();
  let releaseHeld = () => {};

  const server = createServer((client) => {
    open.add(client);
    const record: ProxiedConnection = { heads: [], received: '', closed: false };
    connections.push(record);
    client.on('close', () => {
      record.closed = true;
      open.delete(client);
    });
    client.on('error', () => client.destroy());
    // Held connections are accepted but not forwarded; the client's bytes wait in its socket.
    void release.then(() => {
      if (client.destroyed) return;
      const server = connect(Number(upstream.port), upstream.hostname);
      let dropping: (() => void) | null = null;
      const end = () => {
        client.destroy();
        server.destroy();
      };
      server.on('error', end);
      server.on('close', end);
      client.on('close', () => server.destroy());
      client.on('data', (chunk: Buffer) => {
        for (const [head, method, path] of chunk.toString('latin1').matchAll(REQUEST_LINE)) {
          record.heads.push(head.replace(/^\r\n/, ''));
          const drop = drops.findIndex(({ pattern }) => pattern.test(`${method} ${path}`));
          if (drop !== -1) dropping = drops.splice(drop, 1)[0]!.dropped;
        }
        server.write(chunk);
      });
      server.on('data', (chunk: Buffer) => {
        if (dropping) {
          // The server has answered, so it has done the work; the client never hears of it.
          end();
          dropping();
          return;
        }
        record.received += chunk.toString('utf8');
        client.write(chunk);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    connections,
    /** Connections open now. */
    get open() {
      return open.size;
    },
    /** The next request whose `METHOD path` matches is handled by the server, and its connection cut before the answer. */
    dropAnswerOnce(pattern: RegExp): Promise<void> {
      return new Promise((dropped) => drops.push({ pattern, dropped }));
    },
    /** Cuts every open connection, as a network failure would. */
    cutAll() {
      for (const socket of open) socket.destroy();
    },
    /** New connections wait, unanswered, until `release()`. */
    hold() {
      release = new Promise((resolve) => (releaseHeld = resolve));
    },
    release() {
      releaseHeld();
      release = Promise.resolve();
    },
    async close() {
      releaseHeld();
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export type TcpProxy = Awaited<ReturnType<typeof startTcpProxy>>;
