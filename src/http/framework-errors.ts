import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { problemTypes, type ProblemKind } from '../contract/index.js';
import { sendProblem } from './error-handler.js';
import { internalProblem, invalidField, problemBody, ProblemError, validationProblem } from './problem-error.js';

// The answers given before any route or hook runs, by fastify's router (`frameworkErrors`) and
// by Node's HTTP parser and timers (`clientErrorHandler`): problems like every other error,
// where both would answer in their own JSON (`{"code":"FST_ERR_BAD_URL",…}`, `{"error":"Bad Request"}`).

/**
 * The longest path parameter the router takes (fastify's default is 100). Above the longest
 * a route's schema accepts (a VM id, 256), so that a long id gets the schema's own 400, and
 * anything longer the same answer.
 */
export const MAX_PARAM_LENGTH = 256;

/** A path the router cannot take: 400 `validation`, as any path a route's schema refuses. */
export function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  let problem: ProblemError;
  if (error.code === 'FST_ERR_BAD_URL') problem = invalidField('path', 'not a valid path: a percent-encoding that does not decode to UTF-8');
  else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') problem = invalidField('path', `a path segment longer than ${MAX_PARAM_LENGTH} characters`);
  else {
    request.log.error({ err: error }, 'unhandled framework error');
    problem = internalProblem();
  }
  // No route, so no request log hook: said here, as that hook would.
  request.log.info({ method: request.method, route: null, path: request.url.split('?')[0], statusCode: problemTypes[problem.kind].status }, 'request');
  void sendProblem(reply, request, problem);
}

/** Node's errors of a connection, by code; any other parse error is a malformed request. */
const connectionProblems: Record<string, { kind: ProblemKind; detail: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { kind: 'request-timeout', detail: 'the request, its headers or its body, did not arrive in time' },
  HPE_HEADER_OVERFLOW: { kind: 'headers-too-large', detail: 'the request line and headers are larger than the ledger takes' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { kind: 'payload-too-large', detail: 'the chunk extensions are larger than the ledger takes' },
};

const problemOfConnectionError = (code: string | undefined) => {
  const known = code === undefined ? undefined : connectionProblems[code];
  if (known) return new ProblemError(known.kind, known.detail);
  return validationProblem([{ path: '', message: `malformed HTTP request${code ? ` (${code})` : ''}` }]);
};

/**
 * Answers a connection's error (a malformed request, a request that did not arrive in time)
 * with a problem, written straight to the socket since there is no request to reply to, then
 * closes the connection, as Node itself would.
 */
export const answerClientError = (log: FastifyBaseLogger) => (error: ConnectionError, socket: Socket) => {
  // A reset, or a socket already gone: nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  log.debug({ code: error.code }, 'connection error');
  const problem = problemOfConnectionError(error.code);
  const { status } = problemTypes[problem.kind];
  // Only where no answer has begun on this connection: bytes in the middle of one would corrupt it (Node's own rule).
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && !answering?.headersSent) {
    const body = JSON.stringify(problemBody(problem.kind, problem.message, problem.extensions));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
};
