import { z } from 'zod';
import { eventDataSchemas, type EventType } from './facts.js';
import { Decimal, EventId, ExternalRef, Provider, SessionId, Text, Timestamp, Trace } from './identifiers.js';
import { AnomalyKind, SessionStatus } from './status.js';

// The requests and answers of the ledger's HTTP API v1. The server validates and serialises
// with them and generates its OpenAPI document from them; the typed client derives its types
// from them and checks every answer against them. A change here changes both ends at once.

export const SessionParams = z.strictObject({ id: SessionId });
export const VmParams = z.strictObject({ vmId: ExternalRef });

/** How long a session lasts when its start names no `expiresAt`. */
export const DEFAULT_SESSION_TTL_MS = 15 * 60_000;

export const StartSessionBody = z.strictObject({
  /** Chosen by the controller (legacy ids), or by the ledger when absent. */
  sessionId: SessionId.optional(),
  userId: ExternalRef,
  provider: Provider,
  browserVmId: ExternalRef,
  /** Defaults to 15 minutes from now. */
  expiresAt: Timestamp.optional(),
  /** The idempotency key: a retry with the same one is answered, not doubled. */
  eventId: EventId.optional(),
  correlationId: Trace.optional(),
});
export type StartSessionBody = z.infer<typeof StartSessionBody>;

/** An event as a writer posts it: the session id of its data comes from the path. */
const postedEvent = <T extends EventType, Shape extends z.ZodRawShape>(type: T, data: z.ZodObject<Shape, z.core.$strict>) =>
  z.strictObject({
    type: z.literal(type),
    eventId: EventId,
    data: data.extend({ sessionId: SessionId.optional() }),
    correlationId: Trace.optional(),
    causationId: Trace.optional(),
    expectedRevision: Decimal.optional(),
  });

const { SessionStarted, CredentialsStored, VmDestroyed, SessionFailed, SessionCancelled, SessionExpired } = eventDataSchemas;
export const AppendEventBody = z.discriminatedUnion('type', [
  postedEvent('SessionStarted', SessionStarted),
  postedEvent('CredentialsStored', CredentialsStored),
  postedEvent('VmDestroyed', VmDestroyed),
  postedEvent('SessionFailed', SessionFailed),
  postedEvent('SessionCancelled', SessionCancelled),
  postedEvent('SessionExpired', SessionExpired),
]);
export type AppendEventBody = z.infer<typeof AppendEventBody>;

export const VmDestroyedBody = z.strictObject({
  reason: Text,
  /** Idempotency key of the call; each session's event id is derived from it. */
  eventId: EventId.optional(),
});
export type VmDestroyedBody = z.infer<typeof VmDestroyedBody>;

export const Anomaly = z.object({ kind: AnomalyKind, position: Decimal, at: z.string() });

/** A session as v1 answers it: the read model's row in camelCase. */
export const SessionJson = z.object({
  sessionId: z.string(),
  userId: z.string().nullable(),
  provider: z.string().nullable(),
  browserVmId: z.string().nullable(),
  status: SessionStatus,
  completedAt: z.string().nullable(),
  errorMessage: z.string().nullable(),
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
  revision: Decimal,
  position: Decimal,
  anomalies: z.array(Anomaly),
});
export type SessionJson = z.infer<typeof SessionJson>;

export const SessionQuery = z.strictObject({
  /** Wait (bounded) until the read model has passed this position. */
  after: Decimal.optional(),
  /** Fold the stream up to a position, or up to a moment. */
  asOf: z.union([Decimal, Timestamp]).optional(),
});
export type SessionQuery = z.infer<typeof SessionQuery>;

export const ListQuery = z.strictObject({
  userId: ExternalRef.optional(),
  status: SessionStatus.optional(),
  provider: Provider.optional(),
  /** Sessions created at or after this moment. */
  since: Timestamp.optional(),
  /** Sessions created before this moment. */
  until: Timestamp.optional(),
  cursor: z.string().min(1).max(512).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ListQuery = z.infer<typeof ListQuery>;

export const StartedJson = z.object({
  sessionId: z.string(),
  position: Decimal,
  revision: Decimal,
  status: SessionStatus,
  expiresAt: z.string(),
  /** A token for the OAuth agent, scoped to this session, expiring with it. */
  agentToken: z.string(),
});

export const AppendedJson = z.object({
  eventId: z.string(),
  position: Decimal,
  revision: Decimal,
  status: SessionStatus,
});

export const VmDestroyedJson = z.object({
  position: Decimal,
  sessions: z.array(z.object({ sessionId: z.string(), position: Decimal, revision: Decimal, status: SessionStatus })),
});

export const RecordedEventJson = z.object({
  eventId: z.string(),
  type: z.string(),
  revision: Decimal,
  position: Decimal,
  data: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
});

export const SessionEventsJson = z.object({ sessionId: z.string(), events: z.array(RecordedEventJson) });

/**
 * `GET /v1/sessions/:id/timeline`: each event with the status the fold gives after it and the
 * anomalies it showed, and whether the stream's hash chain holds.
 */
export const TimelineJson = z.object({
  sessionId: z.string(),
  steps: z.array(
    z.object({
      event: RecordedEventJson.extend({ hash: z.string().nullable() }),
      status: SessionStatus,
      anomalies: z.array(AnomalyKind),
    }),
  ),
  chain: z.object({
    /** The hash the stream's next event will link to. */
    head: z.string(),
    /** The first place the chain does not hold, or null when it holds throughout. */
    break: z.object({ revision: Decimal, reason: z.enum(['hash', 'sequence']) }).nullable(),
  }),
});
export type TimelineJson = z.infer<typeof TimelineJson>;

export const SessionListJson = z.object({ sessions: z.array(SessionJson), nextCursor: z.string().nullable() });

/** `GET …/watch` resumes after the position a browser's `EventSource` sends back. */
export const WatchHeaders = z.object({ 'last-event-id': Decimal.optional() });

/**
 * `GET …/watch` from a web page: a watch ticket instead of the `Authorization` header a
 * browser's `EventSource` cannot send, and the position to resume after when a page opens a
 * new `EventSource` (which cannot set `Last-Event-ID` itself).
 */
export const WatchQuery = z.strictObject({
  ticket: z.string().min(1).max(4096).optional(),
  lastEventId: Decimal.optional(),
});

/** The data of a watch's last event, `end`: the watch is over, at this status; do not reconnect. */
export const WatchEndJson = z.object({ status: SessionStatus });
export type WatchEndJson = z.infer<typeof WatchEndJson>;

/** `GET /v1/sessions/watch`: every session's changes, live, optionally of one user, status or provider. */
export const ListWatchQuery = ListQuery.pick({ userId: true, status: true, provider: true });
export type ListWatchQuery = z.infer<typeof ListWatchQuery>;

/** `POST /v1/watch-tickets`: the session whose watch the ticket opens. */
export const WatchTicketBody = z.strictObject({ sessionId: SessionId });

export const WatchTicketJson = z.object({
  /** Pass it as `?ticket=` to the watch, once, before `expiresAt`. */
  ticket: z.string(),
  expiresAt: z.string(),
  /** The watch's path, the ticket in it. */
  watch: z.string(),
});
