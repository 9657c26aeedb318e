import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Application } from '../application/application.js';
import {
  AppendedJson,
  AppendEventBody,
  ListQuery,
  ProblemJson,
  SessionEventsJson,
  SessionJson,
  SessionListJson,
  SessionParams,
  SessionQuery,
  StartedJson,
  StartSessionBody,
  TimelineJson,
} from '../contract/index.js';
import { actorOf, authorize, authorizeFact, callerOf, ownerCheckOf } from './authorization.js';
import { invalidField } from './problem-error.js';
import { commonProblems, readSecurity, writeSecurity } from './route-schemas.js';
import { toRecordedEventJson, toSessionJson, toTimelineJson } from './session-json.js';
import type { TokenSigner } from './tokens.js';

export interface SessionRoutesOptions {
  application: Application;
  /** Accepted provider slugs (configuration). */
  providers: readonly string[];
  /** Mints the agent token a start answers. */
  signToken: TokenSigner;
}

/** Sessions: start, append a fact, read one (now, after a position, or as of then), its events, list. */
export const sessionRoutes = fp<SessionRoutesOptions>(
  async (app: FastifyInstance, { application, providers, signToken }) => {
    const routes = app.withTypeProvider<ZodTypeProvider>();
    /** The configured providers: a rule of the deployment, which no schema of the contract states. */
    const checkProvider = (provider: string, path: string) => {
      if (!providers.includes(provider)) throw invalidField(path, `provider ${JSON.stringify(provider)} is not one of ${providers.join(', ')}`);
    };

    routes.post(
      '/v1/sessions',
      {
        onRequest: app.authenticate,
        schema: {
          summary: 'Start a session (controller)',
          security: writeSecurity,
          body: StartSessionBody,
          response: { 200: StartedJson, 201: StartedJson, ...commonProblems },
        },
      },
      async (request, reply) => {
        const { principal, body } = request;
        request.logContext = { sessionId: body.sessionId, eventType: 'SessionStarted' };
        authorize(principal, { kind: 'startSession' });
        checkProvider(body.provider, 'body.provider');
        const { sessionId, expiresAt, handled } = await application.startSession(body, actorOf(principal));
        request.logContext.sessionId = sessionId;
        const agentToken = signToken({ role: 'agent', sub: `agent:${sessionId}`, sessionId }, new Date(expiresAt));
        return reply.code(handled.alreadyRecorded ? 200 : 201).send({
          sessionId,
          position: String(handled.position),
          revision: String(handled.revision),
          status: handled.state.status,
          expiresAt,
          agentToken,
        });
      },
    );

    routes.post(
      '/v1/sessions/:id/events',
      {
        onRequest: app.authenticate,
        schema: {
          summary: 'Record a fact of a session',
          security: writeSecurity,
          params: SessionParams,
          body: AppendEventBody,
          response: { 200: AppendedJson, 201: AppendedJson, ...commonProblems },
        },
      },
      async (request, reply) => {
        const { principal, body } = request;
        const { id } = request.params;
        request.logContext = { sessionId: id, eventType: body.type };
        if (body.data.sessionId !== undefined && body.data.sessionId !== id) {
          throw invalidField('body.data.sessionId', 'differs from the session in the path');
        }
        if ('provider' in body.data) checkProvider(body.data.provider, 'body.data.provider');
        const posted = authorizeFact(principal, body);
        authorize(principal, { kind: 'useSession', sessionId: id });
        const { eventId, correlationId, causationId, expectedRevision } = posted;
        const handled = await application.recordFact(
          {
            sessionId: id,
            fact: posted,
            eventId,
            correlationId,
            causationId,
            expectedRevision: expectedRevision === undefined ? undefined : BigInt(expectedRevision),
          },
          callerOf(principal),
        );
        return reply.code(handled.alreadyRecorded ? 200 : 201).send({
          eventId,
          position: String(handled.position),
          revision: String(handled.revision),
          status: handled.state.status,
        });
      },
    );

    routes.get(
      '/v1/sessions/:id',
      {
        onRequest: app.authenticate,
        schema: {
          summary: 'Read a session: now, after a position (read your writes), or as of a position or time',
          security: readSecurity,
          params: SessionParams,
          querystring: SessionQuery,
          response: { 200: SessionJson, ...commonProblems, 503: ProblemJson },
        },
      },
      async (request) => {
        const { id } = request.params;
        request.logContext = { sessionId: id };
        authorize(request.principal, { kind: 'useSession', sessionId: id });
        return toSessionJson(await application.readSession(id, request.query, ownerCheckOf(request.principal)));
      },
    );

    routes.get(
      '/v1/sessions/:id/events',
      {
        onRequest: app.authenticate,
        schema: {
          summary: "A session's raw stream, with metadata",
          security: readSecurity,
          params: SessionParams,
          response: { 200: SessionEventsJson, ...commonProblems },
        },
      },
      async (request) => {
        const { id } = request.params;
        request.logContext = { sessionId: id };
        authorize(request.principal, { kind: 'useSession', sessionId: id });
        const events = await application.sessionEvents(id, ownerCheckOf(request.principal));
        return { sessionId: id, events: events.map(toRecordedEventJson) };
      },
    );

    routes.get(
      '/v1/sessions/:id/timeline',
      {
        onRequest: app.authenticate,
        schema: {
          summary: "A session's events, each with the status after it and the anomalies it showed, and its hash chain checked",
          security: readSecurity,
          params: SessionParams,
          response: { 200: TimelineJson, ...commonProblems },
        },
      },
      async (request) => {
        const { id } = request.params;
        request.logContext = { sessionId: id };
        authorize(request.principal, { kind: 'useSession', sessionId: id });
        return toTimelineJson(id, await application.sessionTimeline(id, ownerCheckOf(request.principal)));
      },
    );

    routes.get(
      '/v1/sessions',
      {
        onRequest: app.authenticate,
        schema: {
          summary: 'List sessions, newest first, filtered, with cursor paging',
          security: readSecurity,
          querystring: ListQuery,
          response: { 200: SessionListJson, ...commonProblems },
        },
      },
      async (request) => {
        const { principal, query } = request;
        authorize(principal, { kind: 'list', userId: query.userId });
        // A frontend lists its own user's sessions, whether it names the user or not.
        const page = application.listSessions(principal.role === 'frontend' ? { ...query, userId: principal.userId } : query);
        return { sessions: page.sessions.map(toSessionJson), nextCursor: page.nextCursor };
      },
    );
  },
  { name: 'session-routes', fastify: '5.x', encapsulate: true, dependencies: ['authentication', 'request-log'] },
);
