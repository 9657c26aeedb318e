import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { ProblemKind } from '../contract/index.js';
import { LedgerError } from '../ledger-error.js';
import { internalProblem, problemBody, ProblemError, validationProblem } from './problem-error.js';
import { logStoreTrouble, problemOfLedgerError } from './problem-of-error.js';
import { jwtFault } from './token-verifier.js';

/** Errors fastify and its plugins raise before a handler runs, by their code. */
const frameworkProblems: Record<string, ProblemKind> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'validation',
  FST_ERR_CTP_INVALID_JSON_BODY: 'validation',
};

function frameworkProblemOf(error: FastifyError): ProblemError | null {
  if (hasZodFastifySchemaValidationErrors(error)) {
    return validationProblem(
      error.validation.map((issue) => ({
        path: `${error.validationContext ?? ''}${issue.instancePath}`.replaceAll('/', '.').replace(/\.$/, ''),
        message: issue.message ?? 'invalid',
      })),
    );
  }
  // The authentication hook names each token fault itself; a token error raised anywhere else
  // (fast-jwt's, or a plugin's 401) is still the caller's credentials, a 401, never a 500.
  if (error.code?.startsWith('FAST_JWT_') || error.statusCode === 401) return new ProblemError('unauthenticated', `the token ${jwtFault(error)}`);
  const kind = error.code ? frameworkProblems[error.code] : undefined;
  if (kind) return new ProblemError(kind, error.message);
  // A JSON body that does not parse reaches us as a plain 400 SyntaxError.
  if (error.statusCode === 400) return new ProblemError('validation', `malformed request: ${error.message}`);
  return refusalOf(error);
}

/** The refusals a plugin raises with a status of its own (@fastify/static's 403 for a path out of its root), by that status. */
const refusals: Partial<Record<number, ProblemKind>> = { 403: 'forbidden', 404: 'not-found', 406: 'not-acceptable', 413: 'payload-too-large', 415: 'unsupported-media-type' };

function refusalOf(error: FastifyError): ProblemError | null {
  const kind = error.statusCode === undefined ? undefined : refusals[error.statusCode];
  if (!kind) return null;
  // fastify's and its plugins' messages are written for clients; another error's may not be.
  return new ProblemError(kind, error.code?.startsWith('FST_') ? error.message : (STATUS_CODES[error.statusCode!] ?? 'refused'));
}

/** The answer to any error: the HTTP layer's own, the ledger's by its code, or the framework's; null when unknown. */
function problemOf(error: FastifyError): ProblemError | null {
  if (error instanceof ProblemError) return error;
  if (error instanceof LedgerError) return problemOfLedgerError(error);
  return frameworkProblemOf(error);
}

/** A problem's body, as the answer to this request. */
export const problemBodyFor = (request: FastifyRequest, problem: ProblemError) =>
  problemBody(problem.kind, problem.message, { instance: request.url.split('?')[0], ...problem.extensions });

export function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: ProblemError) {
  const body = problemBodyFor(request, problem);
  if (problem.kind === 'unauthenticated') reply.header('www-authenticate', 'Bearer');
  return reply.code(body.status).headers(problem.headers).type('application/problem+json').send(body);
}

/**
 * One error handler for the whole API: every failure is `application/problem+json` with a
 * stable `type`, and never a stack trace. Unexpected errors are logged (without the body).
 */
export const problemDetails = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      logStoreTrouble(error, request.log);
      const problem = problemOf(error);
      if (problem && problem.kind !== 'internal') return sendProblem(reply, request, problem);
      request.log.error({ err: error }, 'unhandled error');
      return sendProblem(reply, request, problem ?? internalProblem());
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, request, new ProblemError('not-found', `no route ${request.method} ${request.url.split('?')[0]}`)),
    );
  },
  { name: 'problem-details', fastify: '5.x' },
);
