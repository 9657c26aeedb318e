import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Application } from '../application/application.js';
import {
  AppendedJson,
  AppendEventBody,
  ListQuery,
  SessionEventsJson,
  SessionJson,
  SessionListJson,
  SessionParams,
  SessionQuery,
  StartedJson,
  StartSessionBody,
  TimelineJson,
} from '../contract/index.js';
import { actorOf, authorize, authorizeFact, callerOf, visibilityOf } from './authorization.js';
import { invalidField } from './problem-error.js';
import { problem, problems, readSecurity, sessionReadUnavailable, writeSecurity } from './route-schemas.js';
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
          operationId: 'startSession',
          tags: ['sessions'],
          summary: 'Start a session (controller)',
          description:
            'Records `SessionStarted` and answers the session with an agent token scoped to it that expires with it. ' +
            '`sessionId`, `expiresAt` (15 minutes by default) and `eventId` (the idempotency key) are optional; a retry with the same `eventId` answers 200 with the same session.',
          security: writeSecurity,
          body: StartSessionBody,
          response: {
            200: StartedJson.describe('Started before, by a start with this `eventId`: the same session'),
            201: StartedJson.describe('Started'),
            ...problems(400, 401, 403, 413, 415, 503),
            409: problem('A session with this `sessionId` exists (`conflict`), or the `eventId` was recorded for another fact'),
          },
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
          operationId: 'recordFact',
          tags: ['sessions'],
          summary: 'Record a fact of a session',
          description:
            'Appends one fact (`{ type, eventId, data }`) and answers its position and the status it leads to. ' +
            'An agent records `CredentialsStored` and `SessionFailed` for its own session; the controller those and `VmDestroyed`; a frontend `SessionCancelled` for its user. ' +
            'The same `eventId` with the same content answers 200 and writes nothing; `expectedRevision` makes the append conditional.',
          security: writeSecurity,
          params: SessionParams,
          body: AppendEventBody,
          response: {
            200: AppendedJson.describe('Recorded before, with this `eventId`: the original'),
            201: AppendedJson.describe('Recorded'),
            ...problems(400, 401, 403, 404, 409, 413, 415, 503),
          },
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
          operationId: 'getSession',
          tags: ['sessions'],
          summary: 'Read a session: now, after a position (read your writes), or as of a position or time',
          description:
            "The read model's row. `?after=<position>` waits, bounded, until the projector has passed that position; " +
            '`?asOf=<position or ISO time>` folds the session\'s stream up to that point instead. For its owner (a frontend), the controller and the auditor.',
          security: readSecurity,
          params: SessionParams,
          querystring: SessionQuery,
          response: {
            200: SessionJson.describe('The session'),
            ...problems(400, 401, 404),
            503: sessionReadUnavailable,
          },
        },
      },
      async (request) => {
        const { id } = request.params;
        request.logContext = { sessionId: id };
        return toSessionJson(await application.readSession(id, request.query, visibilityOf(request.principal)));
      },
    );

    routes.get(
      '/v1/sessions/:id/events',
      {
        onRequest: app.authenticate,
        schema: {
          operationId: 'getSessionEvents',
          tags: ['sessions'],
          summary: "A session's raw stream, with metadata",
          description: "Every event of the session's stream, in order, with its position, revision and metadata, as the event store holds it.",
          security: readSecurity,
          params: SessionParams,
          response: { 200: SessionEventsJson.describe("The session's events"), ...problems(400, 401, 404, 503) },
        },
      },
      async (request) => {
        const { id } = request.params;
        request.logContext = { sessionId: id };
        const events = await application.sessionEvents(id, visibilityOf(request.principal));
        return { sessionId: id, events: events.map(toRecordedEventJson) };
      },
    );

    routes.get(
      '/v1/sessions/:id/timeline',
      {
        onRequest: app.authenticate,
        schema: {
          operationId: 'getSessionTimeline',
          tags: ['sessions'],
          summary: "A session's events, each with the status after it and the anomalies it showed, and its hash chain checked",
          description:
            'Each event (with its metadata and hash), the status the fold gives after it and the anomalies it showed; and the hash chain checked: ' +
            '`chain: { head, break }`, `break` null or the first `{ revision, reason }` where it does not hold.',
          security: readSecurity,
          params: SessionParams,
          response: { 200: TimelineJson.describe("The session's timeline"), ...problems(400, 401, 404, 503) },
        },
      },
      async (request) => {
        const { id } = request.params;
        request.logContext = { sessionId: id };
        return toTimelineJson(id, await application.sessionTimeline(id, visibilityOf(request.principal)));
      },
    );

    routes.get(
      '/v1/sessions',
      {
        onRequest: app.authenticate,
        schema: {
          operationId: 'listSessions',
          tags: ['sessions'],
          summary: 'List sessions, newest first, filtered, with cursor paging',
          description:
            'Filtered by `userId`, `status`, `provider` and creation time (`since`, `until` exclusive); `nextCursor` pages on. ' +
            "A frontend lists its own user's sessions only; an agent none.",
          security: readSecurity,
          querystring: ListQuery,
          response: { 200: SessionListJson.describe('A page of sessions'), ...problems(400, 401, 403) },
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
