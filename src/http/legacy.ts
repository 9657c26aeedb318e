import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { SessionNotFoundError } from '../decide/index.js';
import { derivedEventId, sessionStreamName } from '../events/index.js';
import { sessionRowOf } from '../projector/session-row.js';
import { authorize } from './authorization.js';
import { commonProblems, LegacyCompleteBody, legacySessionJson, LegacySessionJson, LegacySessionParams, ProblemJson, SessionQuery } from './schemas.js';
import { readSession } from './sessions.js';


/**
 * The master controller's routes, mapped onto events, so its callers switch to the ledger
 * unchanged: `complete` records CredentialsStored (it never sets a status), and the GET
 * answers the row with the legacy column names. Same tokens, rules and problems as v1.
 */
export async function legacyRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { ledger } = app;

  routes.post(
    '/api/auth/session/:sessionId/complete',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'Legacy: the OAuth flow completed (records CredentialsStored)',
        security: [{ bearer: [] }],
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
      // Legacy callers send no idempotency key: the session's completion has one derived
      // from the session, so a retried call is recognised and never recorded twice.
      const eventId = derivedEventId(`legacy-complete/${sessionId}`);
      const credentialRef = request.body?.credentialRef ?? `legacy:${sessionId}`;
      const result = await ledger.metrics.timeAppend('CredentialsStored', async () => {
        // The provider is the session's own: the legacy call does not name it.
        const events = await ledger.store.readStream(sessionStreamName(sessionId), { maxCount: 1 });
        const started = events[0]?.type === 'SessionStarted' ? events[0] : null;
        if (!started) throw new SessionNotFoundError(sessionId);
        return ledger.commands(
          { type: 'RecordFact', fact: { type: 'CredentialsStored', data: { sessionId, provider: started.data.provider, credentialRef } } },
          { eventId, actor: { role: principal.role, sub: principal.sub } },
          (state) => authorize(principal, { kind: 'ownSession', ownerUserId: state.userId }),
        );
      });
      // The stream holds at least the completion just recorded, so it has a row.
      return reply.code(result.alreadyRecorded ? 200 : 201).send(legacySessionJson(sessionRowOf(result.state)!));
    },
  );

  routes.get(
    '/api/auth/session/:sessionId',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'Legacy: a session with the auth_sessions column names',
        security: [{ bearer: [] }],
        params: LegacySessionParams,
        querystring: SessionQuery,
        response: { 200: LegacySessionJson, ...commonProblems, 503: ProblemJson },
      },
    },
    async (request) => {
      const { sessionId } = request.params;
      request.logContext = { sessionId };
      return legacySessionJson(await readSession(app, request.principal, sessionId, request.query));
    },
  );
}
