import { setImmediate } from 'node:timers/promises';
import { fastifySSE } from '@fastify/sse';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import type { Application } from '../application/application.js';
import { endOfWatch } from '../application/watch-start.js';
import { ListWatchQuery, SessionParams, type WatchEndJson, WatchHeaders, WatchQuery, WatchTicketBody, WatchTicketJson } from '../contract/index.js';
import type { Projector } from '../projector/projector-port.js';
import type { SessionRow } from '../projector/session-row.js';
import { authorize, visibilityOf } from './authorization.js';
import { problemBodyFor } from './error-handler.js';
import { toSessionJson } from './session-json.js';
import { openLiveStream } from './live-stream.js';
import { problem, problems, readSecurity, writeSecurity } from './route-schemas.js';
import { ProblemError } from './problem-error.js';
import { createWatchHub, type WatchLimits } from './watch-hub.js';
import { causeOf } from '../tracing/causes.js';
import { inSpan, LedgerAttributes, SpanKind } from '../tracing/tracer.js';
import type { WatchTickets } from './watch-tickets.js';

/** A watch's answer: Server-Sent Events, written by @fastify/sse as they happen, never serialised as a whole. */
const eventStream = (description: string) => ({ description, content: { 'text/event-stream': { schema: z.string() } } });

/** A watch takes what a read takes, or, from a web page, a ticket in its URL. */
const watchSecurity = [...readSecurity, { watchTicket: [] }];

/**
 * Sends a watch message about a change, in a span that is a child of the projector's span for
 * the event behind it, when that event was traced: the request that recorded it, the commit
 * and each watcher's message, in one trace.
 */
function inCauseSpan(row: SessionRow, event: string, send: () => Promise<void>): Promise<void> {
  const cause = causeOf(row);
  if (cause === undefined) return send();
  const attributes = { [LedgerAttributes.sessionId]: row.sessionId, [LedgerAttributes.position]: String(row.position), 'ledger.watch.event': event };
  return inSpan('watch message', { parent: cause, kind: SpanKind.PRODUCER, attributes }, send);
}

/**
 * @fastify/sse answers a request whose `Accept` refuses event streams itself, before the
 * handler, with a 406 in plain JSON. Said instead as every other refusal is: a problem.
 */
async function notAcceptableAsProblem(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  if (reply.statusCode !== 406) return payload;
  reply.type('application/problem+json');
  return problemBodyFor(request, new ProblemError('not-acceptable', 'this route answers text/event-stream only'));
}

export interface WatchRoutesOptions {
  application: Application;
  /** Whose committed changes the watches follow. */
  projector: Pick<Projector, 'onChange' | 'position'>;
  /** Where the count of open watches is reported. */
  metrics: Registry;
  /** Bounds of open watches; default 20 per token, 10,000 in all. */
  limits?: WatchLimits | undefined;
  /** SSE heartbeat interval; defaults to 15 s, below common proxy idle timeouts. */
  heartbeatMs?: number | undefined;
  /** How long a watch stays open after `failed` or `cancelled`, for a late `CredentialsStored`; defaults to 120 s. */
  graceMs?: number | undefined;
  /** What "now" is, for the grace period and the tickets. */
  clock: () => Date;
  /** Issues and redeems the tickets a web page opens a watch with. */
  tickets: WatchTickets;
}

/**
 * Live status over Server-Sent Events: the current status first, then one `status` event
 * (id = the position of the change) at each status change. `completed` ends the stream at
 * once; `failed` and `cancelled` after a grace period (`endOfWatch`); an `end` event says so
 * before the stream closes. `Last-Event-ID` resumes with the changes after that position.
 * Live changes come from the projector through the watch hub, not from a query per watcher.
 * `GET /v1/sessions/watch` is the same for every session at once, for the console's list.
 */
export const watchRoutes = fp<WatchRoutesOptions>(
  async (app: FastifyInstance, { application, projector, metrics, limits, heartbeatMs, graceMs = 120_000, clock, tickets }) => {
    const hub = createWatchHub(projector, limits ?? { perToken: 20, total: 10_000 });
    // Open watches would hold app.close() until they end by themselves: end them first.
    app.addHook('preClose', async () => hub.close());
    const gauge = 'ledger_watches_open';
    new Gauge({
      name: gauge,
      help: 'Open live watches (Server-Sent Events streams)',
      registers: [metrics],
      collect() {
        this.set(hub.open);
      },
    });
    app.addHook('onClose', async () => metrics.removeSingleMetric(gauge));
    await app.register(fastifySSE, { heartbeatInterval: heartbeatMs ?? 15_000 });
    const routes = app.withTypeProvider<ZodTypeProvider>();

    routes.post(
      '/v1/watch-tickets',
      {
        onRequest: app.authenticate,
        schema: {
          operationId: 'issueWatchTicket',
          tags: ['watch'],
          summary: "A single-use ticket to open a session's watch from a web page (EventSource cannot send a bearer token)",
          description:
            "For whoever may read the session: a ticket that opens its watch once, within 30 seconds, as the token's holder. " +
            'A page opens `new EventSource(base + watch)`; a new `EventSource` resumes with `&lastEventId=`.',
          security: writeSecurity,
          body: WatchTicketBody,
          response: { 201: WatchTicketJson.describe('The ticket, and the URL of the watch it opens'), ...problems(400, 401, 404, 413, 415) },
        },
      },
      async (request, reply) => {
        const { principal } = request;
        const { sessionId } = request.body;
        request.logContext = { sessionId };
        // Whoever may read the session may watch it: the same rule, checked now, for the ticket's holder.
        await application.readSession(sessionId, {}, visibilityOf(principal));
        const { ticket, expiresAt } = tickets.issue(principal, sessionId, request.tokenExpiresAt);
        return reply.code(201).send({ ticket, expiresAt, watch: `/v1/sessions/${encodeURIComponent(sessionId)}/watch?ticket=${encodeURIComponent(ticket)}` });
      },
    );

    /** A watch's caller: the holder of its ticket when the URL has one, else the bearer token's. */
    const authenticateWatch = async (request: FastifyRequest) => {
      // Before validation: the raw query and path, which the schema checks next.
      const { ticket } = request.query as { ticket?: unknown };
      if (typeof ticket !== 'string') return app.authenticate(request);
      request.principal = tickets.redeem(ticket, String((request.params as { id?: unknown }).id));
    };

    routes.get(
      '/v1/sessions/:id/watch',
      {
        // A watch is a stream that lasts: a HEAD of it would hold its connection open with
        // nothing to send. HEAD is answered as any method no route takes: 404.
        exposeHeadRoute: false,
        onRequest: authenticateWatch,
        preSerialization: notAcceptableAsProblem,
        sse: { kind: 'only' },
        schema: {
          operationId: 'watchSession',
          tags: ['watch'],
          summary: 'Watch a session live (Server-Sent Events); resumes with Last-Event-ID; from a web page, with ?ticket=',
          description:
            'The current status first, then an event `status` (id = its position, data = the session) at each status change. ' +
            'The stream ends at `completed` at once, and at `failed` or `cancelled` once the grace period has passed since the last event; ' +
            'its last event, `end` (`{ status }`), says so. `Last-Event-ID` (or `?lastEventId=`) resumes with every change after that position.',
          security: watchSecurity,
          params: SessionParams,
          headers: WatchHeaders,
          querystring: WatchQuery,
          response: {
            200: eventStream('The events `status`, then `end`; a comment every heartbeat'),
            204: z.null().describe('A resumed watch of a session whose watch is over, with nothing new: do not reconnect'),
            ...problems(400, 401, 404, 406, 429),
            403: problem('The watch ticket is for another session (`forbidden`)'),
            503: problem('The ledger holds as many watches as it serves (`unavailable`), or, on a resume, the event store is not reachable; retry after `Retry-After`'),
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const { principal } = request;
        request.logContext = { sessionId: id };
        const lastEventId = request.headers['last-event-id'] ?? request.query.lastEventId;
        const release = hub.admit(`${principal.role}:${principal.sub}`);
        // Follow before reading, so a change committed in between is queued, not lost; the
        // position check below drops what the first read already covered.
        const stream = openLiveStream<SessionRow>(reply, hub.shutdown);
        const unfollow = hub.follow(id, (row) => stream.push(row));
        try {
          const start = await application.startWatch(id, lastEventId === undefined ? undefined : BigInt(lastEventId), visibilityOf(principal));
          let told = start.told;
          const over = () => clock().getTime() >= endOfWatch(told, graceMs);
          // A resumed watch of an ended session with nothing new: 204, SSE's "do not reconnect".
          if (start.rows.length === 0 && over()) return reply.code(204).send(null);
          const tell = (row: SessionRow) => inCauseSpan(row, 'status', () => stream.send({ id: String(row.position), event: 'status', data: toSessionJson(row) }));
          for (const row of start.rows) await tell(row);
          while (!over() && !stream.ended) {
            // A watch in its grace period wakes up to end when the period does.
            for (const row of await stream.take(endOfWatch(told, graceMs) - clock().getTime())) {
              if (row.position <= told.position || row.status === told.status || stream.ended) continue;
              await tell(row);
              told = row;
              if (over()) break;
            }
          }
          if (!stream.ended) {
            // One change (`completed`) ends every watch of the session at once. Ending one (its
            // `end`, the response's end, its hooks, the socket) costs several times telling it
            // the change, so the ending waits a turn of the event loop: every watch is told
            // before any is torn down, and the last of 10,000 hears of it sooner.
            await setImmediate();
            // Said before closing, so a page's EventSource closes too rather than reconnect to ask.
            if (!stream.ended) await stream.send({ event: 'end', data: { status: told.status } satisfies WatchEndJson });
          }
        } finally {
          stream.close();
          unfollow();
          release();
        }
      },
    );

    routes.get(
      '/v1/sessions/watch',
      {
        exposeHeadRoute: false,
        onRequest: app.authenticate,
        preSerialization: notAcceptableAsProblem,
        sse: { kind: 'only' },
        schema: {
          operationId: 'watchSessions',
          tags: ['watch'],
          summary: "Every session's changes, live (Server-Sent Events): a `live` event, then a `session` event per changed row",
          description:
            'An event `live` (`{ position }`) when the stream opens, then an event `session` (id = its position, data = the row) for each row the projector commits; ' +
            '`userId`, `provider` and `status` narrow it. No replay: a page (re)loads its list at `live`. For the auditor and the controller.',
          security: readSecurity,
          querystring: ListWatchQuery,
          response: {
            200: eventStream('The events `live`, then `session`; a comment every heartbeat'),
            ...problems(400, 401, 403, 406, 429),
            503: problem('The ledger holds as many watches as it serves (`unavailable`); retry after `Retry-After`'),
          },
        },
      },
      async (request, reply) => {
        const { principal, query } = request;
        authorize(principal, { kind: 'watchAll' });
        const release = hub.admit(`${principal.role}:${principal.sub}`);
        const stream = openLiveStream<SessionRow>(reply, hub.shutdown);
        const wanted = (row: SessionRow) =>
          (query.userId === undefined || row.userId === query.userId) &&
          (query.status === undefined || row.status === query.status) &&
          (query.provider === undefined || row.provider === query.provider);
        const unfollow = hub.followAll((row) => {
          if (wanted(row)) stream.push(row);
        });
        try {
          // No replay: the changes from here on. A page (re)loads its list when this arrives.
          await stream.send({ event: 'live', data: { position: String(projector.position) } });
          while (!stream.ended) {
            for (const row of await stream.take()) {
              await inCauseSpan(row, 'session', () => stream.send({ id: String(row.position), event: 'session', data: toSessionJson(row) }));
            }
          }
        } finally {
          stream.close();
          unfollow();
          release();
        }
      },
    );
  },
  { name: 'watch-routes', fastify: '5.x', encapsulate: true, dependencies: ['authentication', 'request-log'] },
);
