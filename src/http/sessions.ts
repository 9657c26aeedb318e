import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { fold, type SessionState } from '../../projections/index.js';
import type { SessionCommand } from '../decide/index.js';
import { SessionNotFoundError } from '../decide/index.js';
import { derivedEventId, sessionStreamName, type RecordedEvent } from '../events/index.js';
import { sessionRowOf, type SessionRow } from '../projector/session-row.js';
import { authorize } from './authorization.js';
import type { Principal } from './claims.js';
import { invalidField, ProblemError } from './problems.js';
import {
  AppendedJson,
  AppendEventBody,
  ListQuery,
  commonProblems,
  ProblemJson,
  RecordedEventJson,
  SessionEventsJson,
  SessionJson,
  SessionListJson,
  sessionJson,
  SessionParams,
  SessionQuery,
  StartedJson,
  StartSessionBody,
} from './schemas.js';

const DEFAULT_SESSION_TTL_MS = 15 * 60_000;

/** Waits (bounded) for the read model to pass `after`; a 503 with Retry-After past the bound. */
export async function readYourWrite(app: FastifyInstance, after: bigint): Promise<void> {
  const { projector, readWaitMs } = app.ledger;
  if (await projector.waitForPosition(after, readWaitMs)) return;
  throw new ProblemError(
    'projection-lagging',
    `the read model is at position ${projector.position}, not yet ${after}; retry shortly`,
    { position: String(projector.position), after: String(after) },
    { 'retry-after': String(Math.max(1, Math.ceil(readWaitMs / 1000))) },
  );
}

/**
 * A session as GET answers it (v1 and legacy): the read model's row, after waiting for a
 * named position, or the stream folded as of a position or a moment; 404 and 403 as the
 * rules say.
 */
export async function readSession(
  app: FastifyInstance,
  principal: Principal,
  id: string,
  { after, asOf }: { after?: string; asOf?: string },
): Promise<SessionRow> {
  const { ledger } = app;
  authorize(principal, { kind: 'useSession', sessionId: id });
  if (after !== undefined) await readYourWrite(app, BigInt(after));
  const row =
    asOf === undefined ? ledger.readModel.session(id) : sessionRowOf(foldAsOf(await ledger.store.readStream(sessionStreamName(id)), asOf));
  if (!row) throw new ProblemError('not-found', asOf === undefined ? `no session ${id}` : `no session ${id} as of ${asOf}`);
  authorize(principal, { kind: 'ownSession', ownerUserId: row.userId });
  return row;
}

/** Folds a stream up to a position (inclusive) or a moment. */
function foldAsOf(events: readonly RecordedEvent[], asOf: string): SessionState {
  const byPosition = /^\d+$/.test(asOf);
  const limit = byPosition ? BigInt(asOf) : Date.parse(asOf);
  return fold(
    events.filter((event) => (byPosition ? event.position <= (limit as bigint) : Date.parse(event.metadata.recordedAt) <= (limit as number))),
  );
}

/** Sessions: start, append a fact, read one (now, after a position, or as of then), its events, list. */
export async function sessionRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { ledger } = app;
  const checkProvider = (provider: string, path: string) => {
    if (!ledger.providers.includes(provider)) {
      throw invalidField(path, `provider ${JSON.stringify(provider)} is not one of ${ledger.providers.join(', ')}`);
    }
  };

  /**
   * The session's expiry: as given, or 15 minutes from now; but a retried start (its event
   * id already recorded) keeps the expiry it was first given, or it would differ from the
   * original and be refused, and is answered even once that moment has passed.
   */
  async function expiryOf(sessionId: string, body: { expiresAt?: string; eventId?: string }): Promise<{ expiresAt: string; retried: boolean }> {
    if (body.eventId !== undefined) {
      const [first] = await ledger.store.readStream(sessionStreamName(sessionId), { maxCount: 1 });
      if (first?.eventId === body.eventId && first.type === 'SessionStarted') {
        return { expiresAt: body.expiresAt ?? first.data.expiresAt, retried: true };
      }
    }
    return { expiresAt: body.expiresAt ?? new Date(ledger.clock().getTime() + DEFAULT_SESSION_TTL_MS).toISOString(), retried: false };
  }

  routes.post(
    '/v1/sessions',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'Start a session (controller)',
        security: [{ bearer: [] }],
        body: StartSessionBody,
        response: { 200: StartedJson, 201: StartedJson, ...commonProblems },
      },
    },
    async (request, reply) => {
      authorize(request.principal, { kind: 'startSession' });
      const body = request.body;
      checkProvider(body.provider, 'body.provider');
      // With an idempotency key and no session id, the id is derived from the key, so a
      // retried start finds the session it created.
      const sessionId = body.sessionId ?? (body.eventId ? derivedEventId(`session/${body.eventId}`) : randomUUID());
      const { expiresAt, retried } = await expiryOf(sessionId, body);
      if (!retried && Date.parse(expiresAt) <= ledger.clock().getTime()) {
        throw invalidField('body.expiresAt', 'must be in the future');
      }
      request.logContext = { sessionId, eventType: 'SessionStarted' };
      const command: SessionCommand = { type: 'StartSession', sessionId, userId: body.userId, provider: body.provider, browserVmId: body.browserVmId, expiresAt };
      const result = await ledger.metrics.timeAppend('SessionStarted', () =>
        ledger.commands(command, {
          eventId: body.eventId ?? randomUUID(),
          actor: { role: request.principal.role, sub: request.principal.sub },
          correlationId: body.correlationId,
        }),
      );
      const sessionExpiresAt = result.state.expiresAt ?? expiresAt;
      const agentToken = ledger.signToken({ role: 'agent', sub: `agent:${sessionId}`, sessionId }, new Date(sessionExpiresAt));
      return reply.code(result.alreadyRecorded ? 200 : 201).send({
        sessionId,
        position: String(result.position),
        revision: String(result.revision),
        status: result.state.status,
        expiresAt: sessionExpiresAt,
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
        security: [{ bearer: [] }],
        params: SessionParams,
        body: AppendEventBody,
        response: { 200: AppendedJson, 201: AppendedJson, ...commonProblems },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const body = request.body;
      request.logContext = { sessionId: id, eventType: body.type };
      if (body.data.sessionId !== undefined && body.data.sessionId !== id) {
        throw invalidField('body.data.sessionId', 'differs from the session in the path');
      }
      if ('provider' in body.data) checkProvider(body.data.provider, 'body.data.provider');
      const { principal } = request;
      authorize(principal, { kind: 'record', type: body.type });
      authorize(principal, { kind: 'useSession', sessionId: id });
      const command: SessionCommand =
        body.type === 'SessionCancelled'
          ? { type: 'CancelSession', sessionId: id, cancelledBy: body.data.cancelledBy }
          : ({ type: 'RecordFact', fact: { type: body.type, data: { ...body.data, sessionId: id } } } as SessionCommand);
      const result = await ledger.metrics.timeAppend(body.type, () =>
        ledger.commands(
          command,
          {
            eventId: body.eventId,
            actor: { role: principal.role, sub: principal.sub },
            correlationId: body.correlationId,
            causationId: body.causationId,
            expectedRevision: body.expectedRevision === undefined ? undefined : BigInt(body.expectedRevision),
          },
          (state) => {
            if (state.revision < 0n) throw new SessionNotFoundError(id);
            authorize(principal, { kind: 'ownSession', ownerUserId: state.userId });
          },
        ),
      );
      return reply.code(result.alreadyRecorded ? 200 : 201).send({
        eventId: body.eventId,
        position: String(result.position),
        revision: String(result.revision),
        status: result.state.status,
      });
    },
  );

  routes.get(
    '/v1/sessions/:id',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'Read a session: now, after a position (read your writes), or as of a position or time',
        security: [{ bearer: [] }],
        params: SessionParams,
        querystring: SessionQuery,
        response: { 200: SessionJson, ...commonProblems, 503: ProblemJson },
      },
    },
    async (request) => {
      const { id } = request.params;
      request.logContext = { sessionId: id };
      return sessionJson(await readSession(app, request.principal, id, request.query));
    },
  );

  routes.get(
    '/v1/sessions/:id/events',
    {
      onRequest: app.authenticate,
      schema: {
        summary: "A session's raw stream, with metadata",
        security: [{ bearer: [] }],
        params: SessionParams,
        response: { 200: SessionEventsJson, ...commonProblems },
      },
    },
    async (request) => {
      const { id } = request.params;
      request.logContext = { sessionId: id };
      authorize(request.principal, { kind: 'useSession', sessionId: id });
      const events = await ledger.store.readStream(sessionStreamName(id));
      if (events.length === 0) throw new ProblemError('not-found', `no session ${id}`);
      authorize(request.principal, { kind: 'ownSession', ownerUserId: fold(events).userId });
      return {
        sessionId: id,
        events: events.map((event) => ({
          eventId: event.eventId,
          type: event.type,
          revision: String(event.revision),
          position: String(event.position),
          data: event.data,
          metadata: event.metadata,
        })),
      };
    },
  );

  routes.get(
    '/v1/sessions',
    {
      onRequest: app.authenticate,
      schema: {
        summary: 'List sessions, newest first, filtered, with cursor paging',
        security: [{ bearer: [] }],
        querystring: ListQuery,
        response: { 200: SessionListJson, ...commonProblems },
      },
    },
    async (request) => {
      const { principal } = request;
      authorize(principal, { kind: 'list', userId: request.query.userId });
      const { limit, cursor, status, provider } = request.query;
      const userId = principal.role === 'frontend' ? principal.userId : request.query.userId;
      const page = ledger.readModel.sessions({ userId, status, provider, cursor, limit });
      return { sessions: page.sessions.map(sessionJson), nextCursor: page.nextCursor };
    },
  );
}
