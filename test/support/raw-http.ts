import { connect } from 'node:net';

/** An HTTP/1.1 answer as it came over the socket. */
export interface RawAnswer {
  status: number;
  /** Lower-case names; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/** The connection ended, or the time ran out, before a whole answer came. */
export interface NoAnswer {
  noAnswer: string;
  /** What had come, if anything. */
  received: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** A chunked body decoded, or null while incomplete. */
function dechunked(data: Buffer): Buffer | null {
  const chunks: Buffer[] = [];
  for (let at = 0; ; ) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd === -1) return null;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return Buffer.concat(chunks);
    if (size === 0) return Buffer.concat(chunks);
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return null;
    chunks.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
}

/**
 * Sends `request` as raw bytes over a fresh TCP connection to 127.0.0.1:`port` and reads the
 * first answer: what no HTTP client sends (a malformed request line, invalid UTF-8 in a path,
 * a header of any size or bytes) can be sent, and the answer is read as the server wrote it.
 * An event stream's answer is its head only: the connection is closed once it comes. The
 * body is read by its length, its chunks, or to the end of the connection. Bounded by
 * `timeoutMs`; an answer that does not come whole is a `NoAnswer`. Interim answers (1xx) are
 * skipped.
 */
export function rawRequest(port: number, request: Buffer, { timeoutMs = 10_000 } = {}): Promise<RawAnswer | NoAnswer> {
  // The answer to a HEAD has a length and no body.
  const head = request.subarray(0, 5).toString('latin1') === 'HEAD ';
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let parsed: { status: number; headers: Record<string, string>; bodyStart: number } | null = null;
    let settled = false;
    const settle = (outcome: RawAnswer | NoAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const noAnswer = (why: string) => settle({ noAnswer: why, received: data.toString('latin1').slice(0, 500) });
    const timer = setTimeout(() => noAnswer(`no whole answer within ${timeoutMs} ms`), timeoutMs);

    /** The answer, once it is whole; `ended` when the connection has ended, which ends a body without a length. */
    const tryFinish = (ended: boolean) => {
      if (parsed === null) {
        const end = data.indexOf(HEAD_END);
        if (end === -1) return ended && noAnswer('the connection ended before an answer');
        const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
        const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
        if (status === undefined) return noAnswer(`not an HTTP answer: ${statusLine}`);
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const colon = line.indexOf(':');
          const name = line.slice(0, colon).trim().toLowerCase();
          const value = line.slice(colon + 1).trim();
          headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
        }
        // An interim answer (100 Continue) comes before the answer: skip it.
        if (status.startsWith('1')) {
          data = data.subarray(end + HEAD_END.length);
          return tryFinish(ended);
        }
        parsed = { status: Number(status), headers, bodyStart: end + HEAD_END.length };
      }
      const { status, headers, bodyStart } = parsed;
      const body = data.subarray(bodyStart);
      const answer = (content: Buffer) => settle({ status, headers, body: content });
      if (head || status === 204 || status === 304) return answer(Buffer.alloc(0));
      if ((headers['content-type'] ?? '').startsWith('text/event-stream')) return answer(Buffer.alloc(0));
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
        const decoded = dechunked(body);
        if (decoded !== null) return answer(decoded);
        return ended && noAnswer('the connection ended inside a chunked body');
      }
      if (headers['content-length'] !== undefined) {
        const length = Number(headers['content-length']);
        if (body.length >= length) return answer(body.subarray(0, length));
        return ended && noAnswer(`the connection ended after ${body.length} of ${length} bytes`);
      }
      if (ended) answer(body);
    };

    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      tryFinish(false);
    });
    socket.on('end', () => tryFinish(true));
    // A server may answer and close before it has read the whole request (a body too large):
    // writing then fails, and the answer that came is the one to judge.
    socket.on('error', (error) => {
      if (data.includes(HEAD_END)) tryFinish(true);
      noAnswer(String(error));
    });
    socket.on('close', () => tryFinish(true));
    socket.write(request);
  });
}

/** Whether the server answered. */
export const answered = (outcome: RawAnswer | NoAnswer): outcome is RawAnswer => !('noAnswer' in outcome);
