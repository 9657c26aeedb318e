import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { problemBody } from './problem-error.js';

/**
 * Node's HTTP server answers two kinds of request by itself, before the app sees them, with
 * no problem body: a CONNECT (it drops the connection without a word) and an `Expect` other
 * than `100-continue` (a bare 417). Here the first gets the ledger's 404 problem, as any
 * method no route takes does, and the second is handled as if it expected nothing (RFC 9110
 * lets a server ignore an expectation it does not know). The third, a request without
 * `Host`, is the `requireHostHeader: false` of the app's server options.
 */
export function answerAsTheLedger(server: Server): void {
  server.on('connect', (request: IncomingMessage, socket: Duplex) => {
    const body = JSON.stringify(problemBody('not-found', `no route CONNECT ${request.url ?? ''}`));
    socket.end(
      'HTTP/1.1 404 Not Found\r\n' +
        'content-type: application/problem+json; charset=utf-8\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        'connection: close\r\n\r\n' +
        body,
    );
  });
  server.on('checkExpectation', (request, response) => server.emit('request', request, response));
}
