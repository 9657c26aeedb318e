import {
  AppendedJson,
  LegacySessionJson,
  SessionEventsJson,
  SessionJson,
  SessionListJson,
  StartedJson,
  VmDestroyedJson,
  WatchTicketJson,
} from '../contract/index.js';
import { resolveOptions, type LedgerClientOptions } from './options.js';
import { createTransport, type CallOptions } from './transport.js';
import type {
  AppendedEvent,
  AppendEventInput,
  GetSessionQuery,
  LegacyCompleted,
  LegacyCompleteInput,
  LegacySession,
  ListSessionsQuery,
  Session,
  SessionEvents,
  SessionList,
  StartedSession,
  StartSessionInput,
  VmDestroyedInput,
  VmDestroyedResult,
  WatchTicket,
  WatchUpdate,
} from './types.js';
import { watchSession, type WatchOptions } from './watch.js';

/** One function per route of the ledger's HTTP API v1, for the VM manager, the OAuth agent and the frontend. */
export interface LedgerClient {
  /**
   * `POST /v1/sessions` (controller). Without an `eventId` the client makes one, before the
   * first attempt: the ledger derives the session id from it when no `sessionId` is given,
   * so a retried start finds the session the lost attempt created instead of making another.
   */
  startSession(input: StartSessionInput, options?: CallOptions): Promise<StartedSession>;
  /**
   * `POST /v1/sessions/:id/events`: records one fact. Without an `eventId` the client makes
   * one, before the first attempt, and sends it on every attempt: a fact is never doubled by
   * a retry nor lost by one (`alreadyRecorded` says when a retry found it recorded).
   */
  appendEvent(sessionId: string, event: AppendEventInput, options?: CallOptions): Promise<AppendedEvent>;
  /**
   * `POST /v1/vms/:vmId/destroyed` (controller). The ledger derives each session's event id
   * from the call's `eventId`, or from the VM id when there is none, so this call is safe to
   * retry as it is; the client adds no key of its own (that would make two reports of one
   * destruction two facts).
   */
  vmDestroyed(vmId: string, input: VmDestroyedInput, options?: CallOptions): Promise<VmDestroyedResult>;
  /**
   * `GET /v1/sessions/:id`. `after`: the read model has passed that position (read your own
   * write); a lagging projector's 503 is retried after its `Retry-After`. `asOf`: the session
   * folded up to a position or an ISO time.
   */
  getSession(sessionId: string, query?: GetSessionQuery, options?: CallOptions): Promise<Session>;
  /** `GET /v1/sessions/:id/events`: the raw stream, with metadata. */
  sessionEvents(sessionId: string, options?: CallOptions): Promise<SessionEvents>;
  /** `GET /v1/sessions`: one page, newest first; pass `nextCursor` back as `cursor` for the next. */
  listSessions(query?: ListSessionsQuery, options?: CallOptions): Promise<SessionList>;
  /**
   * `POST /v1/watch-tickets`: a single-use ticket, valid for seconds, with which a web page
   * opens the watch through the browser's own `EventSource` (which cannot send a bearer
   * token): `new EventSource(baseUrl + ticket.watch)`.
   */
  watchTicket(sessionId: string, options?: CallOptions): Promise<WatchTicket>;
  /** `GET /v1/sessions/:id/watch`: each status change, live, reconnecting with `Last-Event-ID` until its signal aborts; see `watchSession`. */
  watch(sessionId: string, options?: WatchOptions): AsyncGenerator<WatchUpdate, void, undefined>;
  /**
   * `POST /api/auth/session/:sessionId/complete`, the master controller's route: records
   * `CredentialsStored` with the session's provider and answers the legacy row. The ledger
   * derives its event id from the session, so a retry is recognised, never recorded twice.
   */
  completeLegacySession(sessionId: string, input?: LegacyCompleteInput, options?: CallOptions): Promise<LegacyCompleted>;
  /** `GET /api/auth/session/:sessionId`: the legacy row; takes `after` and `asOf` as `getSession` does. */
  getLegacySession(sessionId: string, query?: GetSessionQuery, options?: CallOptions): Promise<LegacySession>;
  /** The same client with another bearer token (e.g. the `agentToken` a start answered). */
  withToken(token: string): LedgerClient;
}

const segment = encodeURIComponent;

/** A typed client of the ledger; checks its options now, and every answer against its schema. */
export function createLedgerClient(options: LedgerClientOptions): LedgerClient {
  const resolved = resolveOptions(options);
  const transport = createTransport(resolved);
  const { request } = transport;

  return {
    async startSession(input, { signal } = {}) {
      // Web Crypto's global, in Node and in a browser alike (node:crypto would not bundle for the web).
      const eventId = input.eventId ?? globalThis.crypto.randomUUID();
      const { status, body } = await request({ method: 'POST', path: '/v1/sessions', body: { ...input, eventId }, answer: StartedJson, eventId, signal });
      return { ...body, eventId, alreadyRecorded: status === 200 };
    },

    async appendEvent(sessionId, event, { signal } = {}) {
      const eventId = event.eventId ?? globalThis.crypto.randomUUID();
      const { status, body } = await request({
        method: 'POST',
        path: `/v1/sessions/${segment(sessionId)}/events`,
        body: { ...event, eventId },
        answer: AppendedJson,
        eventId,
        signal,
      });
      return { ...body, alreadyRecorded: status === 200 };
    },

    async vmDestroyed(vmId, input, { signal } = {}) {
      const { status, body } = await request({
        method: 'POST',
        path: `/v1/vms/${segment(vmId)}/destroyed`,
        body: input,
        answer: VmDestroyedJson,
        eventId: input.eventId,
        signal,
      });
      return { ...body, alreadyRecorded: status === 200 };
    },

    async getSession(sessionId, query = {}, { signal } = {}) {
      const { body } = await request({ method: 'GET', path: `/v1/sessions/${segment(sessionId)}`, query, answer: SessionJson, signal });
      return body;
    },

    async sessionEvents(sessionId, { signal } = {}) {
      const { body } = await request({ method: 'GET', path: `/v1/sessions/${segment(sessionId)}/events`, answer: SessionEventsJson, signal });
      return body;
    },

    async listSessions(query = {}, { signal } = {}) {
      const { body } = await request({ method: 'GET', path: '/v1/sessions', query, answer: SessionListJson, signal });
      return body;
    },

    async completeLegacySession(sessionId, input, { signal } = {}) {
      const path = `/api/auth/session/${segment(sessionId)}/complete`;
      const { status, body } = await request({ method: 'POST', path, body: input, answer: LegacySessionJson, signal });
      return { ...body, alreadyRecorded: status === 200 };
    },

    async getLegacySession(sessionId, query = {}, { signal } = {}) {
      const { body } = await request({ method: 'GET', path: `/api/auth/session/${segment(sessionId)}`, query, answer: LegacySessionJson, signal });
      return body;
    },

    async watchTicket(sessionId, { signal } = {}) {
      const { body } = await request({ method: 'POST', path: '/v1/watch-tickets', body: { sessionId }, answer: WatchTicketJson, signal });
      return body;
    },

    watch: (sessionId, watchOptions) => watchSession(transport, sessionId, watchOptions),

    withToken: (token) => createLedgerClient({ ...options, token }),
  };
}
