import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { evolve, fold, isTerminal, type SessionStatus } from '../../projections/index.js';
import { sessionStreamName } from '../events/index.js';
import { sessionRowOf, type SessionRow } from '../projector/session-row.js';
import { authorize } from './authorization.js';
import { ProblemError } from './problems.js';
import { Decimal, ProblemJson, sessionJson, SessionParams } from './schemas.js';

/** Where a watch stands: the last position it has considered, and the status it last told. */
interface Told {
  position: bigint;
  status: SessionStatus;
}

const WatchHeaders = z.object({ 'last-event-id': Decimal.optional() });

/**
 * Live status over Server-Sent Events: the current status first, then one `status` event
 * (id = the position of the change) at each status change, until a terminal status ends the
 * stream. `Last-Event-ID` resumes: the changes after that position are replayed from the
 * stream itself, so none is repeated or missed even if the read model lags. Live changes
 * come from the projector through the watch hub, not from a query per watcher.
 */
export async function watchRoutes(app: FastifyInstance) {
  const { ledger } = app;
  const hub = ledger.watchHub;

  /** The read model's row, as the first message of a fresh watch. */
  function currentStatus(sessionId: string): { told: Told; rows: SessionRow[]; userId: string | null } {
    const row = ledger.readModel.session(sessionId);
    if (!row) throw new ProblemError('not-found', `no session ${sessionId}`);
    return { told: row, rows: [row], userId: row.userId };
  }

  /** The status changes after `after`, folded from the stream, for a resumed watch. */
  async function changesAfter(sessionId: string, after: bigint): Promise<{ told: Told; rows: SessionRow[]; userId: string | null }> {
    const events = await ledger.store.readStream(sessionStreamName(sessionId));
    if (events.length === 0) throw new ProblemError('not-found', `no session ${sessionId}`);
    let state = fold(events.filter((event) => event.position <= after));
    let status = state.status;
    const rows: SessionRow[] = [];
    for (const event of events.filter((e) => e.position > after)) {
      state = evolve(state, event);
      if (state.status !== status) rows.push(sessionRowOf(state)!);
      status = state.status;
    }
    const considered = events.at(-1)!.position;
    return { told: { position: considered > after ? considered : after, status }, rows, userId: fold(events).userId };
  }

  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/sessions/:id/watch',
    {
      onRequest: app.authenticate,
      sse: { kind: 'only' },
      schema: {
        summary: 'Watch a session live (Server-Sent Events); resumes with Last-Event-ID',
        security: [{ bearer: [] }],
        params: SessionParams,
        headers: WatchHeaders,
        response: { 204: z.null(), 400: ProblemJson, 401: ProblemJson, 403: ProblemJson, 404: ProblemJson, 429: ProblemJson, 503: ProblemJson },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { principal } = request;
      request.logContext = { sessionId: id };
      authorize(principal, { kind: 'useSession', sessionId: id });
      const lastEventId = request.headers['last-event-id'];
      const release = hub.admit(`${principal.role}:${principal.sub}`);
      // Follow before reading, so a change committed in between is queued, not lost; the
      // position check below drops what the first read already covered.
      const queued: SessionRow[] = [];
      let wake: (() => void) | null = null;
      const unfollow = hub.follow(id, (row) => {
        queued.push(row);
        wake?.();
      });
      // The client leaving or the server closing ends the watch, even mid-write: a write to a
      // socket that is going away may never call back.
      const stop = new AbortController();
      const stopped = new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve()));
      reply.sse.onClose(() => stop.abort());
      hub.shutdown.addEventListener('abort', () => stop.abort(), { signal: stop.signal });
      const ended = () => stop.signal.aborted || !reply.sse.isConnected;
      try {
        const start = lastEventId === undefined ? currentStatus(id) : await changesAfter(id, BigInt(lastEventId));
        authorize(principal, { kind: 'ownSession', ownerUserId: start.userId });
        let told = start.told;
        // A resumed watch of an ended session with nothing new: 204, SSE's "do not reconnect".
        if (start.rows.length === 0 && isTerminal(told.status)) return reply.code(204).send(null);
        const tell = (row: SessionRow) =>
          Promise.race([
            reply.sse.send({ id: String(row.position), event: 'status', data: sessionJson(row) }).catch((error: unknown) => {
              // A client that left is no error of ours; anything else is.
              if (!ended()) throw error;
            }),
            stopped,
          ]);
        for (const row of start.rows) await tell(row);
        while (!isTerminal(told.status) && !ended()) {
          if (queued.length === 0) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), stopped]);
          wake = null;
          for (const row of queued.splice(0)) {
            if (row.position <= told.position || row.status === told.status || ended()) continue;
            await tell(row);
            told = row;
            if (isTerminal(told.status)) break;
          }
        }
      } finally {
        stop.abort();
        unfollow();
        release();
      }
    },
  );
}
