import { z } from 'zod';
import { ANOMALY_KINDS } from '../../projections/index.js';
import { EventId, ExternalRef, SessionId, Timestamp, eventDataSchemas, type EventType } from '../events/index.js';
import type { SessionRow } from '../projector/session-row.js';

// The zod schemas of the HTTP API: the single source of request validation, of response
// serialisation, and of the OpenAPI document.

/** Positions and revisions travel as decimal strings: they are 64-bit. */
export const Decimal = z.string().regex(/^(0|[1-9][0-9]{0,18})$/, 'a non-negative decimal integer');
const Trace = z.string().min(1).max(256);

export const SessionParams = z.strictObject({ id: SessionId });
export const VmParams = z.strictObject({ vmId: ExternalRef });

export const StartSessionBody = z.strictObject({
  /** Chosen by the controller (legacy ids), or by the ledger when absent. */
  sessionId: SessionId.optional(),
  userId: ExternalRef,
  provider: z.string().min(1).max(64),
  browserVmId: ExternalRef,
  /** Defaults to 15 minutes from now. */
  expiresAt: Timestamp.optional(),
  /** The idempotency key: a retry with the same one is answered, not doubled. */
  eventId: EventId.optional(),
  correlationId: Trace.optional(),
});

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
  reason: z.string().min(1).max(2000),
  /** Idempotency key of the call; each session's event id is derived from it. */
  eventId: EventId.optional(),
});

export const SessionStatusSchema = z.enum(['pending', 'completed', 'failed', 'cancelled']);

export const SessionJson = z.object({
  sessionId: z.string(),
  userId: z.string().nullable(),
  provider: z.string().nullable(),
  browserVmId: z.string().nullable(),
  status: SessionStatusSchema,
  completedAt: z.string().nullable(),
  errorMessage: z.string().nullable(),
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
  revision: Decimal,
  position: Decimal,
  anomalies: z.array(z.object({ kind: z.enum(ANOMALY_KINDS), position: Decimal, at: z.string() })),
});
export type SessionJson = z.infer<typeof SessionJson>;

export function sessionJson(row: SessionRow): SessionJson {
  return {
    ...row,
    revision: String(row.revision),
    position: String(row.position),
    anomalies: row.anomalies.map((anomaly) => ({ ...anomaly, position: String(anomaly.position) })),
  };
}

/** The legacy master controller's shape: the same row, with the `auth_sessions` column names. */
export const LegacySessionJson = z.object({
  session_id: z.string(),
  user_id: z.string().nullable(),
  provider: z.string().nullable(),
  browser_vm_id: z.string().nullable(),
  status: SessionStatusSchema,
  completed_at: z.string().nullable(),
  error_message: z.string().nullable(),
  created_at: z.string().nullable(),
  updated_at: z.string().nullable(),
  revision: Decimal,
  position: Decimal,
  anomalies: SessionJson.shape.anomalies,
});
export type LegacySessionJson = z.infer<typeof LegacySessionJson>;

export function legacySessionJson(row: SessionRow): LegacySessionJson {
  const json = sessionJson(row);
  return {
    session_id: json.sessionId,
    user_id: json.userId,
    provider: json.provider,
    browser_vm_id: json.browserVmId,
    status: json.status,
    completed_at: json.completedAt,
    error_message: json.errorMessage,
    created_at: json.createdAt,
    updated_at: json.updatedAt,
    revision: json.revision,
    position: json.position,
    anomalies: json.anomalies,
  };
}

export const LegacySessionParams = z.strictObject({ sessionId: SessionId });

/** What the legacy `complete` call may carry; no body at all is fine (fastify gives null). */
export const LegacyCompleteBody = z
  .strictObject({
    /** The id of the row where the controller stored the credential; never the secret. */
    credentialRef: ExternalRef.optional(),
  })
  .nullish();

export const SessionQuery = z.strictObject({
  /** Wait (bounded) until the read model has passed this position. */
  after: Decimal.optional(),
  /** Fold the stream up to a position, or up to a moment. */
  asOf: z.union([Decimal, Timestamp]).optional(),
});

export const ListQuery = z.strictObject({
  userId: ExternalRef.optional(),
  status: SessionStatusSchema.optional(),
  provider: z.string().min(1).max(64).optional(),
  cursor: z.string().min(1).max(512).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const StartedJson = z.object({
  sessionId: z.string(),
  position: Decimal,
  revision: Decimal,
  status: SessionStatusSchema,
  expiresAt: z.string(),
  /** A token for the OAuth agent, scoped to this session, expiring with it. */
  agentToken: z.string(),
});

export const AppendedJson = z.object({
  eventId: z.string(),
  position: Decimal,
  revision: Decimal,
  status: SessionStatusSchema,
});

export const VmDestroyedJson = z.object({
  position: Decimal,
  sessions: z.array(z.object({ sessionId: z.string(), position: Decimal, revision: Decimal, status: SessionStatusSchema })),
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

export const SessionListJson = z.object({ sessions: z.array(SessionJson), nextCursor: z.string().nullable() });

export const ProblemJson = z
  .object({ type: z.string(), title: z.string(), status: z.number(), detail: z.string() })
  .catchall(z.unknown());

/** The problem answers every authenticated write and read may give, for the OpenAPI document. */
export const commonProblems = { 400: ProblemJson, 401: ProblemJson, 403: ProblemJson, 404: ProblemJson, 409: ProblemJson };
