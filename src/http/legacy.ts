import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Application } from '../application/application.js';
import { LegacyCompleteBody, LegacySessionJson, LegacySessionParams, ProblemJson, SessionQuery } from '../contract/index.js';
import { sessionRowOf } from '../projector/session-row.js';
import { authorize, callerOf, ownerCheckOf } from './authorization.js';
import { commonProblems, readSecurity, writeSecurity } from './route-schemas.js';
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
          summary: 'Legacy: the OAuth flow completed (records CredentialsStored)',
          security: writeSecurity,
          params: LegacySessionParams,
          body: LegacyCompleteBody,
          response: { 200: LegacySessionJson, 201: LegacySessionJson, ...commonProblems },
        },
      },
      async (request, reply) => {
        const { sessionId } = request.params;
        const { principal } = request;
        request.logContext = { sessionId, eventType: 'CredentialsStored' };
        authorize(principal, { kind: 'record', type: 'CredentialsStored' });
        authorize(principal, { kind: 'useSession', sessionId });
        const handled = await application.completeLegacySession(sessionId, request.body ?? {}, callerOf(principal));
        return reply.code(handled.alreadyRecorded ? 200 : 201).send(toLegacySessionJson(sessionRowOf(sessionId, handled.state)));
      },
    );

    routes.get(
      '/api/auth/session/:sessionId',
      {
        onRequest: app.authenticate,
        schema: {
          summary: 'Legacy: a session with the auth_sessions column names',
          security: readSecurity,
          params: LegacySessionParams,
          querystring: SessionQuery,
          response: { 200: LegacySessionJson, ...commonProblems, 503: ProblemJson },
        },
      },
      async (request) => {
        const { sessionId } = request.params;
        request.logContext = { sessionId };
        authorize(request.principal, { kind: 'useSession', sessionId });
        return toLegacySessionJson(await application.readSession(sessionId, request.query, ownerCheckOf(request.principal)));
      },
    );
  },
  { name: 'legacy-routes', fastify: '5.x', encapsulate: true, dependencies: ['authentication', 'request-log'] },
);
