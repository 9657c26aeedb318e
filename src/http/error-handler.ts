import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError, SessionNotFoundError } from '../decide/index.js';
import { InvalidEventError } from '../events/index.js';
import { InvalidCursorError } from '../projector/read-model.js';
import { EventIdConflictError, InvalidStoreRequestError, StoreUnavailableError, WrongExpectedRevisionError } from '../store/errors.js';
import { ProblemError, problemBody, type ProblemKind } from './problems.js';

/** What the ledger's own errors mean on the wire. */
function problemOf(error: unknown): ProblemError | null {
  if (error instanceof ProblemError) return error;
  if (error instanceof WrongExpectedRevisionError) {
    return new ProblemError('revision-mismatch', error.message, {
      expectedRevision: String(error.expected),
      currentRevision: error.current === null ? null : String(error.current),
    });
  }
  if (error instanceof EventIdConflictError) {
    return new ProblemError('conflict', error.message, { eventId: error.eventId, reason: error.reason });
  }
  if (error instanceof StoreUnavailableError) {
    // Retrying is safe: an append that did reach the store is found by its event ids.
    return new ProblemError('unavailable', `${error.message}; retry with the same eventId`, {}, { 'retry-after': '1' });
  }
  if (error instanceof SessionNotFoundError) return new ProblemError('not-found', error.message);
  if (error instanceof DomainError) return new ProblemError('conflict', error.message, { code: error.code });
  if (error instanceof InvalidEventError) return new ProblemError('validation', error.message, { issues: error.issues });
  if (error instanceof InvalidStoreRequestError || error instanceof InvalidCursorError) {
    return new ProblemError('validation', error.message);
  }
  return null;
}

/** Errors fastify and its plugins raise before a handler runs. */
function frameworkProblemOf(error: FastifyError): ProblemError | null {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((issue) => ({
      path: `${error.validationContext ?? ''}${issue.instancePath}`.replaceAll('/', '.').replace(/\.$/, ''),
      message: issue.message ?? 'invalid',
    }));
    return new ProblemError('validation', issues.map((i) => `${i.path || '(request)'}: ${i.message}`).join('; '), { issues });
  }
  if (error.code?.startsWith('FST_JWT_')) return new ProblemError('unauthenticated', error.message);
  const byCode: Record<string, ProblemKind> = {
    FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'validation',
    FST_ERR_CTP_INVALID_JSON_BODY: 'validation',
  };
  const kind = error.code ? byCode[error.code] : undefined;
  if (kind) return new ProblemError(kind, error.message);
  // A JSON body that does not parse reaches us as a plain 400 SyntaxError.
  if (error.statusCode === 400) return new ProblemError('validation', `malformed request: ${error.message}`);
  return null;
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: ProblemError) {
  const body = problemBody(problem.kind, problem.message, { instance: request.url.split('?')[0], ...problem.extensions });
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
      const problem = problemOf(error) ?? frameworkProblemOf(error);
      // What the operator needs to see: why the store could not be reached.
      if (error instanceof StoreUnavailableError) request.log.warn({ err: error.cause }, 'the event store is not reachable');
      if (problem) return sendProblem(reply, request, problem);
      request.log.error({ err: error }, 'unhandled error');
      return sendProblem(reply, request, new ProblemError('internal', 'the ledger failed to handle this request'));
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, request, new ProblemError('not-found', `no route ${request.method} ${request.url.split('?')[0]}`)),
    );
  },
  { name: 'problem-details' },
);
