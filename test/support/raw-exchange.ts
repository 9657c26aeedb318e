import { connect, type Socket } from 'node:net';

// HTTP as bytes on a socket: for requests no client would send (malformed, trickled, pipelined
// at a chosen moment), and answers read exactly as the server wrote them.

/** One answer as it came on the wire. */
export interface RawAnswer {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

/** A connection to `url`'s host and port, connected. */
export async function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.setEncoding('latin1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/** Everything the server sends on `socket` until it closes it; rejects if it has not after `timeoutMs`. */
export function readUntilClosed(socket: Socket, timeoutMs = 20_000): Promise<string> {
  let received = '';
  socket.on('data', (chunk: string) => (received += chunk));
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${timeoutMs} ms; received: ${received.slice(0, 300)}`));
    }, timeoutMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(received);
    });
  });
}

/** Sends `request` as it is, and reads until the server closes the connection. */
export async function exchange(url: string, request: string, timeoutMs?: number): Promise<string> {
  const socket = await openSocket(url);
  const received = readUntilClosed(socket, timeoutMs);
  socket.write(request, 'latin1');
  return received;
}

/** The answers in `text`, in order: status line, headers, and a body by its Content-Length (or chunks). */
export function parseAnswers(text: string): RawAnswer[] {
  const answers: RawAnswer[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) break;
    const [statusLine, ...lines] = rest.slice(0, headEnd).split('\r\n');
    const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    rest = rest.slice(headEnd + 4);
    let body = '';
    if (headers['content-length'] !== undefined) {
      body = rest.slice(0, Number(headers['content-length']));
      rest = rest.slice(body.length);
    } else if (headers['transfer-encoding'] === 'chunked') {
      for (;;) {
        const sizeEnd = rest.indexOf('\r\n');
        const size = parseInt(rest.slice(0, sizeEnd), 16);
        rest = rest.slice(sizeEnd + 2);
        if (!size) {
          rest = rest.slice(2);
          break;
        }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    }
    answers.push({ status: Number(statusLine!.split(' ')[1]), headers, body });
  }
  return answers;
}
