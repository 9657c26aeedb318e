import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Application } from '../application/application.js';
import { LegacyCompleteBody, LegacySessionJson, LegacySessionParams, SessionQuery } from '../contract/index.js';
import { sessionRowOf } from '../projector/session-row.js';
import { authorize, callerOf, visibilityOf } from './authorization.js';
import { problem, problems, readSecurity, sessionReadUnavailable, writeSecurity } from './route-schemas.js';
import { toLegacySessionJson } from './session-json.js';

/**
 * The master controller's routes, mapped onto events, so its callers switch to the ledger
 * unchanged: `complete` records CredentialsStored (it never sets a status), and the GET
 * answers the row with the legacy column names. Same tokens, rules and problems as v1.
 */
export const legacyRoutes = fp<{ application: Application }>(
  async (app: FastifyInstance, { application }) => {
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.post(
      '/api/auth/session/:sessionId/complete',
      {
        onRequest: app.authenticate,
        schema: {
          operationId: 'completeLegacySession',
          tags: ['legacy'],
          summary: 'Legacy: the OAuth flow completed (records CredentialsStored)',
          description:
            "Records `CredentialsStored` with the session's own provider (body `{ credentialRef? }`; it never sets a status) and answers the row with the `auth_sessions` column names. " +
            'Its event id is derived from the session, so a retry answers 200 and records nothing. For the agent (its own session) and the controller.',
          security: writeSecurity,
          params: LegacySessionParams,
          body: LegacyCompleteBody,
          response: {
            200: LegacySessionJson.describe('Completed before: the row'),
            201: LegacySessionJson.describe('Recorded: the row'),
            ...problems(400, 401, 403, 404, 413, 415, 503),
            409: problem('The session was completed before with another `credentialRef` (`conflict`); nothing was written'),
          },
        },
      },
      async (request, reply) => {
        const { sessionId } = request.params;
        const { principal } = request;
        request.logContext = { sessionId, eventType: 'CredentialsStored' };
        authorize(principal, { kind: 'record', type: 'CredentialsStored' });
        const handled = await application.completeLegacySession(sessionId, request.body ?? {}, callerOf(principal));
        return reply.code(handled.alreadyRecorded ? 200 : 201).send(toLegacySessionJson(sessionRowOf(sessionId, handled.state)));
      },
    );

    routes.get(
      '/api/auth/session/:sessionId',
      {
        onRequest: app.authenticate,
        schema: {
          operationId: 'getLegacySession',
          tags: ['legacy'],
          summary: 'Legacy: a session with the auth_sessions column names',
          description: 'The same row as `GET /v1/sessions/{id}` (with `after` and `asOf`), with the `auth_sessions` column names.',
          security: readSecurity,
          params: LegacySessionParams,
          querystring: SessionQuery,
          response: {
            200: LegacySessionJson.describe('The session'),
            ...problems(400, 401, 404),
            503: sessionReadUnavailable,
          },
        },
      },
      async (request) => {
        const { sessionId } = request.params;
        request.logContext = { sessionId };
        return toLegacySessionJson(await application.readSession(sessionId, request.query, visibilityOf(request.principal)));
      },
    );
  },
  { name: 'legacy-routes', fastify: '5.x', encapsulate: true, dependencies: ['authentication', 'request-log'] },
);
